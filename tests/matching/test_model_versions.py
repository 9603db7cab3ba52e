"""Embeddings of different pipeline versions are never compared; reindex brings faces over.

Real photos, the real models and real workers. A face "of the old version" is made
as a Dlib pipeline made it: a Dlib vector of the face (here on dlib's chip), labelled
with the version faces carried before mirror averaging; SFace's distances to it
mean nothing, which is why they must never be compared.
"""

from __future__ import annotations

from io import StringIO

import numpy as np
import pytest
from django.core.management import call_command

from families.models import Sex
from matching import services
from matching.faces import Box, current_model_version, get_engine, upright_region
from matching.models import Candidate, Face, MatchJob, Side
from matching.selectors.faces import faces_of_person, owners_waiting_for_reindex
from matching.selectors.search import PersonFacts, faces_nearest
from tests import builders

pytestmark = pytest.mark.django_db(transaction=True)

#: The version every face carried before mirror averaging.
OLD = "deepface-0.0.103/Dlib/dlib"


def make_old(face: Face) -> None:
    """Stores on ``face`` what a Dlib pipeline stored: a Dlib vector, the old version."""
    engine = get_engine()
    with face.photo.image.open("rb") as handle:
        region, inner = upright_region(
            handle, Box(face.box_x, face.box_y, face.box_w, face.box_h), rotation=face.rotation
        )
    (vector,) = engine.embed_dlib([engine.canonical_crops(region, inner).dlib])
    Face.objects.filter(pk=face.pk).update(
        embedding=vector.astype(np.float32), embedding_dlib=None, model_version=OLD
    )


def people(make_user):
    """A woman born in 1975 missing as a child (case) and as an adult (seeker posting)."""
    case = builders.case(family=make_user(), sex=Sex.FEMALE, birth_year_min=1975,
                         birth_year_max=1975, missing_date="1979-01-01")
    seeker = builders.seeker_posting(seeker=make_user(), sex=Sex.FEMALE, birth_year_min=1973,
                                     birth_year_max=1977)
    return case, seeker


def test_an_old_face_is_never_compared_with_a_new_one_until_reindexed(
    make_user, photo_bytes, run_worker
):
    case, seeker = people(make_user)
    builders.photo(data=photo_bytes("img1.jpg"), case=case, age_in_photo=None)
    run_worker()
    old = Face.objects.get(photo__case=case)
    make_old(old)
    builders.photo(data=photo_bytes("img2.jpg"), posting=seeker, age_in_photo=None)
    run_worker()
    new = Face.objects.get(photo__seeker_posting=seeker)
    assert new.model_version == current_model_version() != OLD
    assert MatchJob.objects.get(kind=MatchJob.Kind.MATCH_FACE, face=new).status == "done"
    assert not Candidate.objects.exists()

    # The search is what keeps them apart: the same query with the old version finds it.
    facts = PersonFacts(side=Side.CASE, sex=Sex.FEMALE, birth_year_min=1973,
                        birth_year_max=1977)
    # Cosine distances lie in [0, 2]: 2 finds every face the facts allow.
    assert faces_nearest(embedding=new.embedding, facts=facts, max_distance=2) == []
    found = faces_nearest(embedding=new.embedding, facts=facts, max_distance=2,
                          model_version=OLD)
    assert [n.face_id for n in found] == [old.pk]
    assert faces_of_person(side=Side.CASE, owner_id=case.pk) == {}

    # The old face's own match job waits for the reindex too.
    services.face_schedule_matching(actor=None, face=Face.objects.get(pk=old.pk))
    run_worker()
    assert not Candidate.objects.exists()

    out = StringIO()
    call_command("reindex", stdout=out)
    assert "1 face(s) to embed with " + current_model_version() in out.getvalue()
    run_worker()  # reindex queued the face's matching
    candidate = Candidate.objects.get()
    assert (candidate.case, candidate.seeker_posting) == (case, seeker)
    assert (candidate.case_face_id, candidate.seeker_face_id) == (old.pk, new.pk)
    assert candidate.model_version == current_model_version()


def test_a_person_with_faces_of_two_versions_waits_for_the_reindex(
    make_user, photo_bytes, run_worker
):
    case, seeker = people(make_user)
    builders.photo(data=photo_bytes("img1.jpg"), case=case, age_in_photo=None)
    for name in ("img2.jpg", "img4.jpg"):
        builders.photo(data=photo_bytes(name), posting=seeker, age_in_photo=None)
    run_worker()
    before = Candidate.objects.get()
    best = (before.case_face_id, before.seeker_face_id, before.best_distance)
    Candidate.objects.all().delete()
    # One of the seeker's two photos is still of the old version.
    older = Face.objects.filter(photo__seeker_posting=seeker).exclude(pk=best[1]).get()
    make_old(older)

    services.faces_rematch_all()  # every face of the current version: both sides wait
    run_worker()
    assert not Candidate.objects.exists()
    assert owners_waiting_for_reindex(
        side=Side.SEEKER, owner_ids=[seeker.pk], model_version=current_model_version()
    ) == {seeker.pk}

    call_command("reindex", stdout=StringIO())
    run_worker()
    after = Candidate.objects.get()
    assert (after.case_face_id, after.seeker_face_id) == best[:2]
    assert after.best_distance == pytest.approx(best[2], abs=1e-6)
