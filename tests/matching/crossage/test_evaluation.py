"""The cross-age report: real photos embedded with the workers' code and the true person found,
and ``manage.py evaluate_crossage`` on a labelled folder built from ../shared/faces.

The folder is made in the test's temporary directory (links to the shared
photos, never copies in the repository). ../shared/faces holds adults of
similar ages only, so the labels split each person's photos into a "young"
first photo and "adult" others: a same-age check of the command, where the
true person should come first almost always.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.core.management import CommandError, call_command

from matching import faces
from matching.crossage.embedding import ASSUMED_ADULT_AGE, ASSUMED_YOUNG_AGE, embed_all
from matching.crossage.evaluation import evaluate_embedded
from matching.crossage.labels import LabelledPhoto
from matching.crossage.report import format_report
from matching.ranking import RankingParameters

PARAMS = RankingParameters(distance_base=0.09, distance_per_year=0.002, distance_max=0.14, top_k=5)


def labelled_folder(tmp_path: Path, faces_dir: Path, identities: dict[str, str], *,
                    per_person: int = 3, ages: tuple[float, float] | None = None) -> Path:
    """Links up to ``per_person`` photos of each person; the first is "young", the rest "adult"."""
    folder = tmp_path / "faces"
    folder.mkdir()
    people: dict[str, list[str]] = {}
    for file, identity in sorted(identities.items()):
        people.setdefault(identity, []).append(file)
    rows = []
    for identity, files in sorted(people.items()):
        for index, file in enumerate(files[:per_person]):
            (folder / file).symlink_to(faces_dir / file)
            row = {"file": file, "identity": identity}
            if ages is None:
                row["age_group"] = "young" if index == 0 else "adult"
            else:
                row["age"] = ages[0] if index == 0 else ages[1]
            rows.append(row)
    with open(folder / "labels.csv", "w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    return folder


def test_the_command_prints_its_table_and_writes_it_as_json(
    tmp_path, faces_dir, identities, capsys
):
    folder = labelled_folder(tmp_path, faces_dir, identities)
    out_json = tmp_path / "report.json"
    call_command("evaluate_crossage", faces=folder, labels=folder / "labels.csv", json=out_json,
                 no_pipelines=True)
    printed = capsys.readouterr().out

    for heading in ("method", "rank-1", "rank-10", "rank-50", "median"):
        assert heading in printed
    for method in ("plain", "all_photos", "age_gap_score", "age_progressed",
                   "photo_and_estimate"):
        assert f"\n{method} " in printed
    report = json.loads(out_json.read_text())
    assert report == json.loads(json.dumps(report))  # plain JSON, nothing lost
    rows = {row["method"]: row for row in report["table"]}
    people = len(set(identities.values()))
    assert report["adult_people"] == people and report["young_photos"] == people
    # Same-age photos: the true person comes first (almost) always.
    assert rows["plain"]["queries"] == people
    assert rows["plain"]["rank1"] >= 0.9 and rows["plain"]["median_rank"] == 1
    assert rows["all_photos"]["rank1"] >= rows["plain"]["rank1"]
    for row in report["table"]:
        assert 0 <= row["rank1"] <= row["rank10"] <= row["rank50"] <= 1
        assert 0 <= row["wrong_within_threshold"] < people
    assert rows["age_progressed"]["rank50"] == 1.0  # fewer than 50 people
    assert report["age_progression"]["estimates_made"] >= people - 1
    distances = report["distances"]
    threshold = django_settings.MATCH_SAME_AGE_THRESHOLD
    assert distances["true_pairs"]["median"] < threshold < distances["false_pairs"]["median"]
    assert distances["by_age_gap"] == []  # no ages given: nothing to say by gap
    assert f"written {out_json}" in printed


def test_one_row_per_pipeline_plain_centred_and_centred_with_csls(
    tmp_path, faces_dir, identities, capsys
):
    folder = labelled_folder(tmp_path, faces_dir, identities, per_person=2)
    out_json = tmp_path / "report.json"
    call_command("evaluate_crossage", faces=folder, labels=folder / "labels.csv", json=out_json,
                 no_age_progression=True)
    printed = capsys.readouterr().out
    rows = json.loads(out_json.read_text())["pipelines"]
    names = ["dlib_deepface", "dlib_chip", "sface", "fusion"]
    assert [(row["pipeline"], row["centred"], row["csls"]) for row in rows] == [
        (name, centred, csls) for name in names
        for centred, csls in ((False, False), (True, False), (True, True))
    ]
    people = len(set(identities.values()))
    for row in rows:
        name = (row["pipeline"] + (" centred" if row["centred"] else "")
                + (" +CSLS" if row["csls"] else ""))
        assert f"\n{name} " in printed
        # Same-age photos: every model finds the person first (almost) always.
        assert row["queries"] == people, row
        assert row["rank1"] >= 0.9 and row["median_rank"] == 1, row
        assert row["rank1"] <= row["rank10"] <= row["rank50"] <= 1


def test_ages_give_the_distances_by_age_gap(tmp_path, faces_dir, identities, capsys):
    """Ages written into the labels (made up here: these are adults of similar age)."""
    folder = labelled_folder(tmp_path, faces_dir, identities, per_person=2, ages=(8, 30))
    out_json = tmp_path / "report.json"
    call_command(
        "evaluate_crossage", "--no-age-progression", "--no-pipelines",
        faces=str(folder), labels=str(folder / "labels.csv"), json=str(out_json),
    )
    report = json.loads(out_json.read_text())
    assert report["age_progression"] is None
    assert "age_progressed" not in {row["method"] for row in report["table"]}
    (bucket,) = report["distances"]["by_age_gap"]
    assert bucket["gap_years"] == "20+"
    assert bucket["true_pairs"]["pairs"] == len(set(identities.values()))
    assert "gap   20+ y" in capsys.readouterr().out


def test_bad_input_is_refused_with_a_message(tmp_path, faces_dir):
    labels = tmp_path / "labels.csv"
    labels.write_text("file,identity\nimg1.jpg,person01\n")
    with pytest.raises(CommandError, match="columns"):
        call_command("evaluate_crossage", faces=str(faces_dir), labels=str(labels))
    labels.write_text("file,identity,age_group\nnot-there.jpg,person01,young\n")
    with pytest.raises(CommandError, match=r"not-there\.jpg"):
        call_command("evaluate_crossage", faces=str(faces_dir), labels=str(labels))
    with pytest.raises(CommandError, match="No folder"):
        call_command("evaluate_crossage", faces=str(tmp_path / "nope"), labels=str(labels))


def test_real_photos_are_embedded_with_the_workers_code_and_the_true_person_found(
    faces_dir, identities
):
    people: dict[str, list[str]] = {}
    for file, identity in identities.items():
        people.setdefault(identity, []).append(file)
    chosen = [files[:3] for _identity, files in sorted(people.items())[:5]]
    photos = [
        LabelledPhoto(file, identities[file], "young" if i == 0 else "adult", None)
        for files in chosen for i, file in enumerate(files)
    ]
    embedded = embed_all(faces_dir, photos, engine=faces.get_engine())
    assert all(e is not None and e.shape == (128,) for e in embedded.embeddings)
    assert embedded.progression_ages == (ASSUMED_YOUNG_AGE, ASSUMED_ADULT_AGE)
    assert len(embedded.progressed) == 5

    report = evaluate_embedded(embedded, PARAMS)
    rows = {row["method"]: row for row in report["table"]}
    assert rows["plain"]["queries"] == 5 and rows["plain"]["rank1"] == 1.0
    assert rows["photo_and_estimate"]["rank1"] == 1.0
    distances = report["distances"]
    # Same-age photos of one person are close; the estimate keeps much of the identity.
    threshold = django_settings.MATCH_SAME_AGE_THRESHOLD
    assert distances["true_pairs"]["median"] < threshold < distances["false_pairs"]["median"]
    assert (distances["estimate_true_pairs"]["median"]
            < distances["estimate_false_pairs"]["median"])
    text = format_report(report)
    assert "plain" in text and "age_progressed" in text and "true pairs" in text
