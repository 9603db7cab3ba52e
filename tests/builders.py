"""Builders for tests: rows made through the real services, with defaults a test overrides.

Each builder takes keyword-only arguments and fills in the rest, so a test names only what it
cares about: ``builders.case(family=user, sex=Sex.FEMALE, missing_province="Hunan")``. The
default case (a boy born in 1986, missing from Xi'an in 1988) and the default seeker posting
(a man born 1985-1987 who consents to matching) can be the same person: matching's facts
(sex, possible birth years) never keep them apart.
"""

from __future__ import annotations

import io
import zipfile

from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from PIL import Image

from families import services as family_services
from families.models import MissingChildCase, Photo, SeekerPosting, Sex
from matching import services as matching_services
from matching.models import Candidate, Face

CASE_FIELDS = {
    "given_name": "Ming", "family_name": "Li", "nicknames": "Xiao Ming", "sex": Sex.MALE,
    "birth_year_min": 1986, "birth_year_max": 1986, "missing_date": "1988-03-01",
    "missing_province": "Shaanxi", "missing_city": "Xi'an", "missing_district": "Beilin",
    "circumstances": "Taken outside a hotel.",
    "police_report_number": "PR-1988-0042", "police_station": "Beilin police station",
    "contact_name": "Li Hua", "contact_phone": "+86 139 0000 0000",
    "contact_email": "li.hua@example.org",
}

POSTING_FIELDS = {
    "display_name": "Wang Jun", "sex": Sex.MALE, "birth_year_min": 1985,
    "birth_year_max": 1987, "grew_up_province": "Hebei", "memories": "A big gate, a river.",
    "contact_phone": "+86 138 0000 0000", "consent_to_matching": True,
}


def case(*, family, publish: bool = True, **fields) -> MissingChildCase:
    """A case posted by ``family`` through the service, published unless told otherwise."""
    return family_services.case_create(
        actor=family, fields={**CASE_FIELDS, **fields}, publish=publish
    )


def seeker_posting(*, seeker, **fields) -> SeekerPosting:
    """A seeker posting of ``seeker``'s own, through the service; consents to matching."""
    return family_services.seeker_posting_create(actor=seeker, fields={**POSTING_FIELDS, **fields})


def seeker_postings_of_people(
    *, make_user, photo_bytes, identities: dict[str, str], photos: dict[str, str]
) -> dict[str, SeekerPosting]:
    """One seeker posting per person of ``photos`` (shared photo file → person), each with
    that photo at 35, by person."""
    postings = {}
    for name, person in photos.items():
        assert identities[name] == person
        posting = seeker_posting(seeker=make_user())
        photo(data=photo_bytes(name), posting=posting, age_in_photo=35)
        postings[person] = posting
    return postings


def photo(
    *, data: bytes, case: MissingChildCase | None = None, posting: SeekerPosting | None = None,
    actor=None, **extra,
) -> Photo:
    """A photo added through the service by ``actor`` (the owner unless told otherwise): a
    childhood photo at two for a case, a recent photo at 35 for a posting."""
    if actor is None:
        actor = case.family if case is not None else posting.owner
    extra.setdefault("kind", Photo.Kind.CHILDHOOD if case is not None else Photo.Kind.RECENT)
    extra.setdefault("age_in_photo", 2 if case is not None else 35)
    return family_services.photo_add(
        actor=actor, data=data, case=case, seeker_posting=posting, **extra
    )


def photo_row(*, case: MissingChildCase | None = None,
              posting: SeekerPosting | None = None) -> Photo:
    """A photo row with no file behind it, for tests where neither the file nor the face model
    is the point (review, admin lists)."""
    owner = case.family if case is not None else posting.owner
    return Photo.objects.create(
        owner=owner, kind=Photo.Kind.CHILDHOOD if case is not None else Photo.Kind.RECENT,
        image="photos/none.jpg", sha256="0" * 64, case=case, seeker_posting=posting,
    )


def face(*, photo: Photo, **fields) -> Face:
    """A face row of ``photo`` made directly (the face model is not the point): the facts are
    copied from the photo's case or posting, as face processing copies them."""
    person = photo.case if photo.case_id else photo.seeker_posting
    values = {
        "box_x": 0, "box_y": 0, "box_w": 10, "box_h": 10, "side": photo.side,
        "sex": person.sex, "birth_year_min": person.birth_year_min,
        "birth_year_max": person.birth_year_max, **fields,
    }
    return Face.objects.create(photo=photo, **values)


def candidate(*, case: MissingChildCase, posting: SeekerPosting, score: float = 0.5,
              distance: float = 0.06, age_gap_years: float = 10.0) -> Candidate:
    """A candidate recorded through the matching service, as a match job records one, between
    face rows made for the purpose (the face model is not the point)."""
    return matching_services.candidate_record(
        case_id=case.pk, seeker_posting_id=posting.pk, distance=distance,
        case_face_id=face(photo=photo_row(case=case)).pk,
        seeker_face_id=face(photo=photo_row(posting=posting)).pk,
        age_gap_years=age_gap_years, model_version="test", score=score,
    )


def confirm(*, candidate: Candidate, volunteer, decision: str = "confirm",
            note: str = "Same birthmark; the memories agree.") -> Candidate:
    """A volunteer's confirmation as the rules ask for one: the candidate claimed first, the
    reason written."""
    matching_services.candidate_claim(actor=volunteer, candidate=candidate)
    matching_services.candidate_review(actor=volunteer, candidate=candidate, decision=decision,
                                       note=note)
    candidate.refresh_from_db()
    return candidate


def jpeg(*, size: tuple[int, int] = (200, 200), colour: tuple[int, int, int] = (120, 90, 60)
         ) -> bytes:
    """A small plain JPEG, for uploads where no face is needed."""
    out = io.BytesIO()
    Image.new("RGB", size, colour).save(out, "JPEG")
    return out.getvalue()


def zip_upload(names: dict[str, bytes], *, name: str = "photos.zip") -> SimpleUploadedFile:
    """A zip of the given files, as a browser uploads it (a partner's photos)."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        for entry, data in names.items():
            archive.writestr(entry, data)
    return SimpleUploadedFile(name, out.getvalue(), "application/zip")


def logged_in(user) -> Client:
    """A test client logged in as ``user``, for a test that speaks as several people."""
    client = Client()
    client.force_login(user)
    return client
