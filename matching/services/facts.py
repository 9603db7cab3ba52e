"""The facts faces carry for filtered search, kept in step with their case or posting.

Sex, birth years, the photo's age, and whether the face may be searched at all
(embedded, its case published or its seeker consenting, the photo used in
matching) are copied onto each face so the vector search filters without joins.
"""

from __future__ import annotations

from typing import Any

from django.db import transaction

from families.audit import audit_record
from families.models import MissingChildCase, Photo, SeekerPosting, User
from matching.models import Face
from matching.selectors.search import centring_current
from matching.services.centring import face_centre
from matching.services.match_jobs import face_schedule_matching


def owner_of(photo: Photo) -> MissingChildCase | SeekerPosting:
    return photo.case if photo.case_id else photo.seeker_posting


def face_facts(photo: Photo, *, embedded: bool) -> dict[str, Any]:
    """The facts a face carries for filtered search, from its case or posting."""
    owner = owner_of(photo)
    return {
        "side": photo.side,
        "sex": owner.sex,
        "birth_year_min": owner.birth_year_min,
        "birth_year_max": owner.birth_year_max,
        "age_in_photo": photo.age_years(),
        # A photo a volunteer hid is not matched until it is shown again.
        "searchable": bool(embedded and owner.is_matchable and photo.use_in_matching
                           and photo.hidden_at is None),
    }


def faces_refresh_facts(
    *,
    case: MissingChildCase | None = None,
    seeker_posting: SeekerPosting | None = None,
    actor: User | None = None,
) -> list[int]:
    """Copies a case's or posting's facts (sex, birth years, consent, status) onto its faces.

    Call after any edit of those facts, a consent change, a status change or a
    photo's ``use_in_matching``/age change. Faces that become searchable, or
    whose filter facts changed while searchable, are matched again (the
    candidates they can reach may differ). Returns the ids of faces rematched.
    """
    if (case is None) == (seeker_posting is None):
        raise ValueError("Pass a case or a seeker posting.")
    owner = case if case is not None else seeker_posting
    filter_field = "photo__case" if case is not None else "photo__seeker_posting"
    rematch = []
    with transaction.atomic():
        owner = type(owner).objects.select_for_update().get(pk=owner.pk)
        for face in Face.objects.select_for_update().select_related("photo").filter(
            **{filter_field: owner}
        ):
            if case is not None:
                face.photo.case = owner
            else:
                face.photo.seeker_posting = owner
            facts = face_facts(face.photo, embedded=face.embedding is not None)
            changed = [name for name, value in facts.items() if getattr(face, name) != value]
            if not changed:
                continue
            was_searchable = face.searchable
            for name in changed:
                setattr(face, name, facts[name])
            if {"age_in_photo", "side"} & set(changed) and face.embedding_raw is not None:
                # Its age group may have changed: centred again on the right group's mean.
                face_centre(face, centring_current(face.model_version))
                changed += ["embedding", "embedding_dlib", "centring_version"]
            face.save(update_fields=changed)
            if face.searchable and (not was_searchable or set(changed) - {"searchable"}):
                rematch.append(face)
        audit_record(
            actor=actor, action="faces.facts_refreshed", obj=owner,
            detail={"rematched_faces": [face.pk for face in rematch]},
        )
        for face in rematch:
            face_schedule_matching(actor=actor, face=face)
    return [face.pk for face in rematch]
