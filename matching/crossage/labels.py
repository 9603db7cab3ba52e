"""The labels of a cross-age folder: which photo is whom, and young or adult."""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

YOUNG, ADULT = "young", "adult"
#: Photos labelled only by age: younger than this is "young".
ADULT_FROM_AGE = 18.0


@dataclass(frozen=True)
class LabelledPhoto:
    file: str
    identity: str
    group: str
    age: float | None


def read_labels(path: Path) -> list[LabelledPhoto]:
    """Rows of the labels CSV; raises ``ValueError`` naming the first bad row."""
    photos = []
    with open(path, newline="", encoding="utf-8") as handle:
        reader = csv.DictReader(handle)
        columns = set(reader.fieldnames or ())
        if not {"file", "identity"} <= columns or not columns & {"age", "age_group"}:
            raise ValueError("The labels need the columns file, identity, and age or age_group.")
        for number, row in enumerate(reader, start=2):
            age_text = (row.get("age") or "").strip()
            group = (row.get("age_group") or "").strip().lower()
            try:
                age = float(age_text) if age_text else None
            except ValueError:
                raise ValueError(f"Line {number}: age {age_text!r} is not a number.") from None
            if not group and age is not None:
                group = YOUNG if age < ADULT_FROM_AGE else ADULT
            if group not in (YOUNG, ADULT):
                raise ValueError(f"Line {number}: give an age, or age_group young or adult.")
            if not row["file"].strip() or not row["identity"].strip():
                raise ValueError(f"Line {number}: file and identity are required.")
            photos.append(LabelledPhoto(row["file"].strip(), row["identity"].strip(), group, age))
    return photos
