"""Sample data that shows a newcomer what Reunion is for: a childhood photo finding an adult.

``manage.py demo`` (``make demo``) loads it and ``manage.py demo --remove``
(``make demo-remove``) removes it. Everything is made through the same services
a family, a seeker and an admin use, so the real face worker embeds and matches
the photos. Every sample name starts with ``[sample]`` and every sample account
is an address at ``sample.example.org``: that is how the sample data is found,
and everything posted from those accounts goes with them.

The photos come from scikit-image's data folder, whose licences allow it: the
public-domain NASA portrait of astronaut Eileen Collins and a CC0 photo of a man
with a camera. There is one photo of Eileen Collins, so the "childhood" photo
and the seeker's photo are two altered copies of it (cropped, scaled, recoloured,
one mirrored): the match shows the pipeline working, not an age gap bridged.
"""

from __future__ import annotations

import importlib.util
import io
import secrets
from contextlib import redirect_stdout
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from django.contrib.auth.models import Group
from django.db import models, transaction
from PIL import Image, ImageEnhance, ImageFilter, ImageOps

from families.models import VOLUNTEER_GROUP, MissingChildCase, Photo, SeekerPosting, Sex, User
from families.services import (
    account_delete,
    audit_record,
    case_create,
    case_publish,
    photo_add,
    seeker_posting_create,
    user_confirm_email,
    user_sign_up,
)
from matching.models import Candidate

SAMPLE_DOMAIN = "sample.example.org"
SAMPLE_MARK = "[sample]"
SAMPLE_NOTE = (
    "SAMPLE DATA, not a real person: loaded by `manage.py demo` to show how matching works, "
    "removed by `manage.py demo --remove`."
)
PHOTO_CREDIT = (
    "Sample photos from scikit-image's data folder: two altered copies (cropped, scaled, "
    "recoloured, one mirrored) of one public-domain NASA portrait of astronaut Eileen Collins, "
    "and a CC0 photo of a man with a camera (by Lav Varshney). The sample's \"childhood\" photo "
    "is the adult portrait made small and sepia: the candidate shows the pipeline at work, "
    "not a real age gap."
)


class SamplePhotosMissing(RuntimeError):
    """scikit-image, which ships the sample photos, is not installed."""


def _sample_image(name: str):
    """An image from scikit-image's data folder, read without importing scikit-image."""
    spec = importlib.util.find_spec("skimage")
    for location in (spec.submodule_search_locations or []) if spec else []:
        path = Path(location) / "data" / name
        if path.is_file():
            with Image.open(path) as image:
                return image.convert("RGB")
    raise SamplePhotosMissing(
        "The sample photos come with scikit-image (requirements-dev.txt): "
        "run `make demo`, or `.venv/bin/pip install -r requirements-dev.txt`."
    )


def _jpeg(image) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=90)
    return buffer.getvalue()


def sample_photos() -> dict[str, bytes]:
    """The three sample photos as JPEG bytes.

    ``childhood``: the astronaut's head, small, sepia and a little blurred, as an
    old print; ``adult``: a wider crop of the same portrait, mirrored, warmer.
    Both crops leave out the mission patch on her suit, which a face detector
    takes for a second face. ``found``: the man with a camera, a second real
    face that matches no sample case (his sex and birth years rule them out).
    """
    astronaut = _sample_image("astronaut.png")
    child = astronaut.crop((90, 0, 390, 300)).resize((240, 240), Image.Resampling.LANCZOS)
    child = ImageOps.colorize(ImageOps.grayscale(child), (40, 26, 13), (255, 240, 200))
    child = child.filter(ImageFilter.GaussianBlur(0.8))
    adult = ImageOps.mirror(astronaut.crop((30, 0, 480, 320)))
    adult = ImageEnhance.Brightness(ImageEnhance.Color(adult).enhance(1.2)).enhance(1.05)
    return {
        "childhood": _jpeg(child),
        "adult": _jpeg(adult),
        "found": _jpeg(_sample_image("camera.png")),
    }


@dataclass(frozen=True)
class SampleData:
    """What ``sample_load`` made, for the command to print."""

    volunteer_email: str
    volunteer_password: str
    cases: list[MissingChildCase]
    postings: list[SeekerPosting]
    photos: list[Photo]


def sample_accounts() -> models.QuerySet[User]:
    return User.objects.filter(email__iendswith=f"@{SAMPLE_DOMAIN}")


def sample_cases() -> models.QuerySet[MissingChildCase]:
    return MissingChildCase.objects.filter(family__in=sample_accounts())


def sample_postings() -> models.QuerySet[SeekerPosting]:
    return SeekerPosting.objects.filter(owner__in=sample_accounts())


def sample_candidates() -> models.QuerySet:
    """Candidates between a sample case and a sample seeker posting."""
    return Candidate.objects.filter(
        case__in=sample_cases(), seeker_posting__in=sample_postings()
    ).select_related("case", "seeker_posting")


def _account(local: str, full_name: str, password: str) -> User:
    """A confirmed account through the sign-up services (its confirmation mail is not shown)."""
    with redirect_stdout(io.StringIO()):  # the console mail backend would print the email
        user = user_sign_up(
            email=f"{local}@{SAMPLE_DOMAIN}", password=password,
            full_name=f"{SAMPLE_MARK} {full_name}",
        )
    return user_confirm_email(user=user)


def _make_volunteer(user: User) -> None:
    """As ``manage.py make_volunteer`` does."""
    group, _ = Group.objects.get_or_create(name=VOLUNTEER_GROUP)
    user.groups.add(group)
    audit_record(actor=None, action="user.volunteer_added", obj=user)


def _case(family: User, fields: dict, photo: bytes | None = None, **photo_facts) -> tuple:
    case = case_create(actor=family, fields={
        **fields, "given_name": f"{SAMPLE_MARK} {fields['given_name']}",
        "circumstances": f"{SAMPLE_NOTE} {fields.get('circumstances', '')}".strip(),
    })
    added = []
    if photo is not None:
        added.append(photo_add(
            actor=family, data=photo, kind=Photo.Kind.CHILDHOOD, case=case,
            caption=f"{SAMPLE_MARK} altered public-domain NASA portrait", **photo_facts,
        ))
    return case_publish(actor=family, case=case), added


def _posting(owner: User, fields: dict, photo: bytes | None, caption: str) -> tuple:
    posting = seeker_posting_create(actor=owner, fields={
        **fields, "display_name": f"{SAMPLE_MARK} {fields['display_name']}",
        "memories": f"{SAMPLE_NOTE} {fields.get('memories', '')}".strip(),
        "consent_to_matching": True,
    })
    added = []
    if photo is not None:
        added.append(photo_add(
            actor=owner, data=photo, kind=Photo.Kind.RECENT, seeker_posting=posting,
            year_taken=2024, caption=f"{SAMPLE_MARK} {caption}",
        ))
    return posting, added


def sample_load() -> SampleData:
    """Replaces any sample data with a fresh set; the worker embeds and matches it after commit.

    Three missing-child cases (one with a "childhood" photo), two seeker postings
    (one with a photo of the same person, one a found person with a photo of
    someone else) and a volunteer account to review the candidate.
    """
    photos = sample_photos()
    password = secrets.token_urlsafe(12)
    with transaction.atomic():
        sample_remove()
        volunteer = _account("volunteer", "Volunteer Wang", password)
        _make_volunteer(volunteer)
        lin = _account("family-lin", "Lin Guoqiang", secrets.token_urlsafe(16))
        zhao = _account("family-zhao", "Zhao Hong", secrets.token_urlsafe(16))
        chen = _account("seeker-chen", "Chen Jing", secrets.token_urlsafe(16))
        partner = _account("station-volunteers", "Station volunteers", secrets.token_urlsafe(16))

        cases, postings, added = [], [], []
        for case, case_photos in (
            _case(lin, {
                "given_name": "Lin Xiaomei", "family_name": "", "sex": Sex.FEMALE,
                "birth_year_min": 1986, "birth_year_max": 1987,
                "missing_date": date(1990, 5, 12), "missing_province": "Shaanxi",
                "missing_city": "Xi'an", "contact_name": f"{SAMPLE_MARK} Lin Guoqiang",
                "circumstances": "Taken outside a hotel near the railway station.",
            }, photos["childhood"], age_in_photo=3.5, year_taken=1990),
            _case(zhao, {
                "given_name": "Zhao Lei", "sex": Sex.MALE,
                "birth_year_min": 1992, "birth_year_max": 1993,
                "missing_date": date(1996, 10, 1), "missing_province": "Sichuan",
                "missing_city": "Chengdu", "contact_name": f"{SAMPLE_MARK} Zhao Hong",
                "circumstances": "Last seen at a market with his grandmother.",
            }),
            _case(lin, {
                "given_name": "Lin Xiaojun", "sex": Sex.MALE,
                "birth_year_min": 1989, "birth_year_max": 1989,
                "missing_date": date(1993, 3, 2), "missing_province": "Shaanxi",
                "missing_city": "Baoji", "contact_name": f"{SAMPLE_MARK} Lin Guoqiang",
            }),
        ):
            cases.append(case)
            added += case_photos
        for posting, posting_photos in (
            _posting(chen, {
                "display_name": "Chen Jing", "sex": Sex.FEMALE,
                "birth_year_min": 1985, "birth_year_max": 1988,
                "grew_up_province": "Henan", "grew_up_city": "Zhengzhou",
                "memories": "A red gate, a long train ride, a woman calling me Meimei.",
            }, photos["adult"], "altered public-domain NASA portrait"),
            _posting(partner, {
                "display_name": "Found man, Zhengzhou station",
                "posted_for": SeekerPosting.PostedFor.FOUND_PERSON, "sex": Sex.MALE,
                "birth_year_min": 1990, "birth_year_max": 1995,
                "grew_up_province": "Henan",
                "matching_basis": f"{SAMPLE_MARK} Sample: a police record would be named here.",
            }, photos["found"], "CC0 photo of a man with a camera"),
        ):
            postings.append(posting)
            added += posting_photos
    return SampleData(
        volunteer_email=volunteer.email, volunteer_password=password,
        cases=cases, postings=postings, photos=added,
    )


def sample_remove() -> dict[str, int]:
    """Deletes every sample account and all it posted, as the person's own deletion does."""
    removed = {"accounts": 0, "cases": 0, "seeker_postings": 0, "photos": 0}
    with transaction.atomic():
        for user in list(sample_accounts()):
            counts = account_delete(actor=user, user=user)
            removed["accounts"] += 1
            for key in ("cases", "seeker_postings", "photos"):
                removed[key] += counts.get(key, 0)
    return removed
