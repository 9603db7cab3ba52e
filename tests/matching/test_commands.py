"""calibrate_threshold, reindex and rematch, on real photos with the real model and workers."""

from __future__ import annotations

import csv
from io import StringIO

import numpy as np
import pytest
from django.core.management import CommandError, call_command

from families.models import Sex
from matching.faces import cosine_distance
from matching.models import Candidate, Face, MatchJob
from tests import builders

pytestmark = pytest.mark.django_db(transaction=True)


def _pairs_file(path, rows: list[list[str]]):
    """A pairs file as `calibrate_threshold` reads it."""
    with open(path, "w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["file_a", "file_b", "same_person"])
        writer.writerows(rows)
    return path


def test_calibrate_threshold_prints_rates_across_thresholds(faces_dir, tmp_path):
    pairs = _pairs_file(tmp_path / "pairs.csv", [
        ["img1.jpg", "img2.jpg", "yes"], ["img3.jpg", "img12.jpg", "yes"],
        ["img1.jpg", "img3.jpg", "no"], ["img2.jpg", "img12.jpg", "no"],
    ])
    out = StringIO()
    call_command(
        "calibrate_threshold", faces=str(faces_dir), pairs=str(pairs),
        start=0.45, stop=0.65, step=0.1, stdout=out,
    )
    text = out.getvalue()
    assert "4 photos (0 without a face" in text
    assert "4 pairs (2 same person, 2 different)" in text
    lines = {line.split()[0]: line.split()[1:] for line in text.splitlines() if line[:6].strip()
             .replace(".", "").isdigit()}
    assert set(lines) == {"0.450", "0.550", "0.650"}
    # Same-age photos of these people are well apart: every rate is perfect at SFace's
    # same-age threshold (MATCH_SAME_AGE_THRESHOLD).
    assert lines["0.550"] == ["1.0000", "0.0000", "0.0000"]


def test_calibrate_threshold_prints_one_row_per_pipeline_plain_centred_and_with_csls(
    faces_dir, tmp_path
):
    pairs = _pairs_file(tmp_path / "pairs.csv", [
        ["img1.jpg", "img2.jpg", "yes"], ["img3.jpg", "img12.jpg", "yes"],
        ["img8.jpg", "img9.jpg", "yes"], ["img1.jpg", "img3.jpg", "no"],
        ["img2.jpg", "img12.jpg", "no"], ["img9.jpg", "img1.jpg", "no"],
    ])
    out = StringIO()
    call_command("calibrate_threshold", faces=str(faces_dir), pairs=str(pairs), stdout=out)
    rows = {}
    for line in out.getvalue().splitlines():
        words = line.split()
        if words and words[0] in ("dlib_deepface", "dlib_chip", "sface", "fusion"):
            suffix = [word for word in words[1:3] if word in ("centred", "+CSLS")]
            rows[" ".join([words[0], *suffix])] = words[1 + len(suffix):]
    assert list(rows) == [
        f"{name}{suffix}" for name in ("dlib_deepface", "dlib_chip", "sface", "fusion")
        for suffix in ("", " centred", " centred +CSLS")
    ]
    # Same-age photos of different people: SFace, Dlib's chip and their fusion separate them.
    for name in ("dlib_chip", "sface", "fusion"):
        assert rows[name][0] == "100.00%", rows


def test_calibrate_threshold_refuses_a_bad_pairs_file(faces_dir, tmp_path):
    with pytest.raises(CommandError, match="No pairs file"):
        call_command("calibrate_threshold", faces=str(faces_dir), pairs=str(tmp_path / "x.csv"))
    bad = tmp_path / "bad.csv"
    bad.write_text("a,b\n1,2\n")
    with pytest.raises(CommandError, match="columns"):
        call_command("calibrate_threshold", faces=str(faces_dir), pairs=str(bad))


def _case_and_seeker(make_user, photo_bytes):
    """A woman born in 1975: one childhood photo of hers on a case, two later ones on her
    seeker posting (no ages stated)."""
    case = builders.case(family=make_user(), sex=Sex.FEMALE, birth_year_min=1975,
                         birth_year_max=1975, missing_date="1979-01-01")
    seeker = builders.seeker_posting(seeker=make_user(), sex=Sex.FEMALE, birth_year_min=1973,
                                     birth_year_max=1977)
    builders.photo(data=photo_bytes("img1.jpg"), case=case, age_in_photo=None)
    for name in ("img2.jpg", "img4.jpg"):
        builders.photo(data=photo_bytes(name), posting=seeker, age_in_photo=None)
    return case, seeker


def test_reindex_recomputes_old_embeddings_and_resumes(make_user, photo_bytes, run_worker):
    _case_and_seeker(make_user, photo_bytes)
    run_worker()
    current = {face.pk: np.array(face.embedding) for face in Face.objects.all()}
    version = Face.objects.first().model_version
    Face.objects.update(model_version="deepface-0.0.1/old")

    matched_before = MatchJob.objects.filter(kind=MatchJob.Kind.MATCH_FACE).count()
    out = StringIO()
    call_command("reindex", batch=1, limit=1, stdout=out)  # stopped after one batch
    assert "1 face(s) to embed" in out.getvalue()
    assert Face.objects.filter(model_version=version).count() == 1

    out = StringIO()
    call_command("reindex", batch=1, stdout=out)  # an interrupted run continues where it stopped
    assert "2 face(s) to embed" in out.getvalue()
    assert "Re-embedded 2 face(s), 0 failed; their matching is queued" in out.getvalue()
    # Each re-embedded face is matched again (faces of other versions are never compared).
    assert MatchJob.objects.filter(kind=MatchJob.Kind.MATCH_FACE).count() == matched_before + 3
    for face in Face.objects.all():
        assert face.model_version == version
        assert cosine_distance(np.array(face.embedding), current[face.pk]) < 1e-5
    out = StringIO()
    call_command("reindex", stdout=out)
    assert "0 face(s) to embed" in out.getvalue()


def test_rematch_restores_the_candidates(make_user, photo_bytes, run_worker):
    case, seeker = _case_and_seeker(make_user, photo_bytes)
    run_worker()
    before = list(Candidate.objects.values_list("case_id", "seeker_posting_id", "best_distance"))
    assert before and before[0][:2] == (case.pk, seeker.pk)
    Candidate.objects.all().delete()
    out = StringIO()
    call_command("rematch", stdout=out)
    assert "Queued 3 match job(s)" in out.getvalue()
    run_worker()
    after = list(Candidate.objects.values_list("case_id", "seeker_posting_id", "best_distance"))
    assert after == before
