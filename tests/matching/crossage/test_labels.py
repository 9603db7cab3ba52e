"""The labels CSV: an age group or an age per photo; a bad row is refused by its line."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from matching.crossage.labels import read_labels


def write_labels(path: Path, rows: list[dict[str, object]]) -> Path:
    columns = sorted({key for row in rows for key in row}, key=["file", "identity", "age",
                                                                "age_group"].index)
    with open(path, "w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=columns)
        writer.writeheader()
        writer.writerows(rows)
    return path


def test_labels_take_an_age_group_or_an_age(tmp_path):
    path = write_labels(tmp_path / "labels.csv", [
        {"file": "a.jpg", "identity": "p1", "age": "3", "age_group": ""},
        {"file": "b.jpg", "identity": "p1", "age": "31.5", "age_group": ""},
        {"file": "c.jpg", "identity": "p2", "age": "", "age_group": "Young"},
        {"file": "d.jpg", "identity": "p2", "age": "12", "age_group": "adult"},
    ])
    photos = read_labels(path)
    assert [(p.group, p.age) for p in photos] == [
        ("young", 3.0), ("adult", 31.5), ("young", None), ("adult", 12.0),
    ]


@pytest.mark.parametrize("rows, message", [
    ([{"file": "a.jpg", "identity": "p1"}], "columns"),
    ([{"file": "a.jpg", "identity": "p1", "age_group": "teen"}], "Line 2"),
    ([{"file": "a.jpg", "identity": "p1", "age": "three"}], "Line 2"),
    ([{"file": "", "identity": "p1", "age_group": "young"}], "Line 2"),
])
def test_bad_labels_are_refused_naming_the_line(tmp_path, rows, message):
    with pytest.raises(ValueError, match=message):
        read_labels(write_labels(tmp_path / "labels.csv", rows))
