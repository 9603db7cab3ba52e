"""Every URL pattern × every role, with the status code each role must get.

The patterns are read from the URL resolver, so a pattern added without an entry
in ``MATRIX`` fails ``test_every_url_pattern_has_an_entry``. Project pages are
listed one by one; the Django admin and the django-rq dashboard (everything under
``admin/``) follow one rule: staff only, everyone else is sent to the admin log-in.

Roles: anonymous; family A (posted case A, its draft, its photos); family B
(another family); a seeker (posted seeker posting S); a volunteer; an admin; a
volunteer who owns the case (family A, also a volunteer): they manage case A as its
family and review others' candidates, but never see or touch candidate C (case A ×
posting S); like every volunteer they read no seeker posting through its own pages, so
posting S (paired with case A) and posting T (paired with nothing) answer them alike;
and a partner
member (a member of shelter P, which has one finished import I with a refused row):
an ordinary user everywhere else, and the only role besides the admin who sees I; a
proposer (a volunteer of case A's province, Shaanxi, who proposed candidate P, case B ×
posting S, and posted found person F) and a second volunteer (of another province,
Sichuan, who may confirm P): both answer as the volunteer unless a row says otherwise.
A page that must not be shown answers 404 (never 403), so nobody learns what
exists. Refused POSTs must change nothing; every POST needs its CSRF token.

The world is built once for the module, in a transaction rolled back at the module's end;
each test runs in a savepoint of it (rolled back after the test) on copies of its objects.
"""

from __future__ import annotations

import copy
import dataclasses
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from uuid import UUID

import django_rq
import pytest
from django.conf import settings
from django.contrib.auth.models import AnonymousUser
from django.contrib.contenttypes.models import ContentType
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction
from django.test import Client, override_settings
from django.urls import URLPattern, URLResolver, get_resolver, path, reverse
from django.utils import timezone
from rq import Queue, SimpleWorker

from families.models import (
    CaseStatus,
    MissingChildCase,
    Notification,
    PartnerImport,
    PartnerImportRefusal,
    PartnerOrganisation,
    Photo,
    SeekerPosting,
    Sex,
    Tip,
    User,
)
from families.partners.services import partner_import_run, partner_import_start
from families.services import seeker_posting_publish, tip_submit
from matching.models import Candidate, DnaTest, Face, MatchJob, MatchMessage, Review
from matching.services.proposals import candidate_propose
from tests import builders

ROLES = ("anonymous", "family_a", "family_b", "seeker", "volunteer", "admin", "volunteer_owner",
         "partner_member", "proposer", "second_volunteer")
LOGIN = "login"  # expected: a redirect to the log-in page
ADMIN_LOGIN = "admin-login"  # expected: a redirect to the admin's log-in page


_AS_VOLUNTEER = object()


def codes(
    anonymous, family_a, family_b, seeker, volunteer, admin, volunteer_owner, partner_member,
    *, proposer: object = _AS_VOLUNTEER, second_volunteer: object = _AS_VOLUNTEER,
) -> dict[str, object]:
    """The expected answer of each role; the proposer and the second volunteer answer as the
    volunteer unless told otherwise."""
    proposer = volunteer if proposer is _AS_VOLUNTEER else proposer
    second_volunteer = volunteer if second_volunteer is _AS_VOLUNTEER else second_volunteer
    return dict(zip(ROLES, (anonymous, family_a, family_b, seeker, volunteer, admin,
                            volunteer_owner, partner_member, proposer, second_volunteer),
                    strict=True))


EVERYONE = codes(200, 200, 200, 200, 200, 200, 200, 200)
MEMBERS = codes(LOGIN, 200, 200, 200, 200, 200, 200, 200)
POST_ONLY = codes(LOGIN, 405, 405, 405, 405, 405, 405, 405)
CASE_A_MANAGERS = codes(LOGIN, 200, 404, 404, 200, 200, 200, 404)
# A seeker posting's own pages: its seeker and admins. Volunteers read a posting only
# through a candidate they may review, so a volunteer who owns case A gets the same answer
# for posting S (paired with case A by candidate C) as for posting T (paired with nothing).
SEEKER_MANAGERS = codes(LOGIN, 404, 404, 200, 404, 200, 404, 404)
SEEKER_PHOTO_READERS = codes(404, 404, 404, 200, 404, 200, 404, 404)
PAIRED_WITH_NOTHING = "posting T, paired with no case: the same answers as posting S"
VOLUNTEERS = codes(LOGIN, 404, 404, 404, 200, 200, 200, 404)
# Candidate C (case A × posting S): volunteers and admins, never a volunteer who owns case A.
OTHER_VOLUNTEERS_OF_A = codes(LOGIN, 404, 404, 404, 200, 200, 404, 404)
# The tips of case A: the volunteers of its province (and those of every province) and
# admins; never a volunteer who owns case A, nor one of another province.
TIP_READERS_OF_A = codes(LOGIN, 404, 404, 404, 200, 200, 404, 404, second_volunteer=404)
# Deleting a photo for good: its family (or seeker) and admins; a volunteer only hides it.
CASE_A_PHOTO_DELETERS = codes(LOGIN, 200, 404, 404, 404, 200, 200, 404)
SEEKER_PHOTO_DELETERS = codes(LOGIN, 404, 404, 200, 404, 200, 404, 404)
# Hiding a photo (and showing it again): the volunteers and admins who manage it; a seeker
# posting's photos are managed by admins only (volunteers see them only through a candidate).
CASE_A_PHOTO_HIDERS = codes(LOGIN, 404, 404, 404, 200, 200, 200, 404)
SEEKER_PHOTO_HIDERS = codes(LOGIN, 404, 404, 404, 404, 200, 404, 404)
# The partners' API answers a browser, logged in or not, 401: only an organisation's key.
NO_KEY = codes(*[401] * 8)
# A partner's imports: the active members of its active organisation, nobody else, not even
# an admin (who has no organisation to import for)...
IMPORTERS = codes(LOGIN, 404, 404, 404, 404, 404, 404, 200)
# ...and one import (its progress, its refused rows): its organisation's members, and admins,
# audited. A volunteer has no business with a partner's files.
IMPORT_READERS = codes(LOGIN, 404, 404, 404, 404, 200, 404, 200)
NOBODY = codes(*[404] * 8)
API_PREFIX = "api/v1/"


@dataclass
class World:
    users: dict[str, User]
    case_a: MissingChildCase
    draft_a: MissingChildCase
    case_b: MissingChildCase
    posting: SeekerPosting
    poster_photo: Photo  # case A, on the poster: public
    private_photo: Photo  # case A, not on the poster
    seeker_photo: Photo
    case_face: Face
    private_face: Face
    seeker_face: Face
    posting_t: SeekerPosting  # the seeker's second posting, paired with no case
    posting_t_photo: Photo
    posting_t_face: Face
    candidate: Candidate
    notification: Notification
    rq_job_id: str  # a real job on the face queue, for the dashboard's job pages
    rq_worker_key: str  # a registered worker, for the dashboard's worker page
    tip: Tip  # a tip with a photo about case A
    organisation: PartnerOrganisation  # shelter P, with the partner member
    partner_import: PartnerImport  # P's finished import I, with a refused row
    proposed: Candidate  # candidate P (case B × posting S), proposed by the proposer
    found_posting: SeekerPosting  # found person F, posted by the proposer


@dataclass
class Probe:
    """One request to a pattern: its URL in the world, and the expected code for each role."""

    url: Callable[[World], str]
    get: dict[str, object]
    post: dict[str, object] | None = None  # checked when given (POST-only endpoints)
    label: str = ""


def _r(name: str, **kwargs: Callable[[World], object]) -> Callable[[World], str]:
    return lambda w: reverse(name, kwargs={k: f(w) for k, f in kwargs.items()})


def case_a(w: World) -> int:
    return w.case_a.pk


def draft_a(w: World) -> int:
    return w.draft_a.pk


def posting(w: World) -> int:
    return w.posting.pk


def posting_t(w: World) -> int:
    return w.posting_t.pk


def candidate(w: World) -> UUID:
    return w.candidate.reference


def partner_import(w: World) -> int:
    return w.partner_import.pk


def proposed(w: World) -> UUID:
    return w.proposed.reference


MATRIX: dict[str, list[Probe]] = {
    "healthz": [Probe(lambda w: "/healthz", EVERYONE, label="the public health check")],
    # The operator's scraper only (its token or network, tests/reunion/test_metrics.py):
    # every role, logged in or not, even an admin, gets 404.
    "metrics": [Probe(lambda w: "/metrics", NOBODY, label="Prometheus metrics")],
    "i18n/setlang/": [Probe(lambda w: "/i18n/setlang/", codes(*[302] * 8),
                            label="a GET changes nothing and goes back")],
    "": [Probe(_r("home"), EVERYONE)],
    # --- accounts (django.contrib.auth, rate-limited) ---
    "accounts/login/": [Probe(_r("login"), EVERYONE)],
    "accounts/logout/": [Probe(_r("logout"), codes(*[405] * 8))],
    "accounts/password_change/": [Probe(_r("password_change"), MEMBERS)],
    "accounts/password_change/done/": [Probe(_r("password_change_done"), MEMBERS)],
    "accounts/password_reset/": [Probe(_r("password_reset"), EVERYONE)],
    "accounts/password_reset/done/": [Probe(_r("password_reset_done"), EVERYONE)],
    "accounts/reset/<uidb64>/<token>/": [
        Probe(_r("password_reset_confirm", uidb64=lambda w: "MQ", token=lambda w: "bad-token"),
              EVERYONE, label="an invalid link says so"),
    ],
    "accounts/reset/done/": [Probe(_r("password_reset_complete"), EVERYONE)],
    # --- families: accounts ---
    "signup/": [Probe(_r("families:signup"), codes(200, 302, 302, 302, 302, 302, 302, 302))],
    "signup/sent/": [Probe(_r("families:signup_done"), EVERYONE,
                           label="the same page whether or not the address has an account")],
    "confirm/<str:token>/": [
        Probe(_r("families:confirm_email", token=lambda w: "forged"), codes(*[400] * 8)),
    ],
    "confirm/new-address/<str:token>/": [
        Probe(_r("families:confirm_email_change", token=lambda w: "forged"),
              codes(*[400] * 8)),
    ],
    "me/": [Probe(_r("families:dashboard"), MEMBERS)],
    "me/profile/": [Probe(_r("families:profile"), MEMBERS)],
    "me/confirm/": [Probe(_r("families:resend_confirmation"), POST_ONLY)],
    "me/inbox/": [Probe(_r("families:inbox"), MEMBERS)],
    "me/inbox/<uuid:reference>/open/": [
        Probe(_r("families:notification_open", reference=lambda w: w.notification.reference),
              POST_ONLY,
              post=codes(LOGIN, 302, 404, 404, 404, 404, 302, 404),
              label="family A's notification"),
    ],
    "me/export/": [Probe(_r("families:account_export"), MEMBERS)],
    "me/delete/": [Probe(_r("families:account_delete"), MEMBERS)],
    # --- families: cases ---
    "cases/": [Probe(_r("families:case_list"), EVERYONE)],
    "cases/new/": [Probe(_r("families:case_create"), MEMBERS)],
    "cases/<int:pk>/": [
        Probe(_r("families:case_detail", pk=case_a), EVERYONE, label="published"),
        Probe(_r("families:case_detail", pk=draft_a), codes(404, 200, 404, 404, 200, 200, 200, 404),
              label="draft"),
    ],
    "cases/<int:pk>/edit/": [Probe(_r("families:case_edit", pk=case_a), CASE_A_MANAGERS)],
    "cases/<int:pk>/publish/": [
        Probe(_r("families:case_publish", pk=draft_a), POST_ONLY,
              post=codes(LOGIN, 302, 404, 404, 404, 404, 302, 404),
              label="publishing is the family's decision alone"),
    ],
    "cases/<int:pk>/withdraw/": [Probe(_r("families:case_withdraw", pk=case_a),
                                       CASE_A_MANAGERS)],
    "cases/<int:pk>/photos/": [Probe(_r("families:case_photos", pk=case_a), CASE_A_MANAGERS)],
    "cases/<int:pk>/poster.pdf": [
        Probe(_r("families:case_poster", pk=case_a), EVERYONE, label="published"),
        Probe(_r("families:case_poster", pk=draft_a), codes(*[404] * 8),
              label="a draft has no poster, even for its family"),
    ],
    "cases/<int:pk>/poster.png": [
        Probe(_r("families:case_poster_png", pk=case_a), EVERYONE, label="published"),
        Probe(_r("families:case_poster_png", pk=draft_a), codes(*[404] * 8),
              label="a draft has no poster image, even for its family"),
    ],
    "cases/<int:pk>/delete/": [
        Probe(_r("families:case_delete", pk=case_a),
              codes(LOGIN, 200, 404, 404, 404, 200, 200, 404)),
    ],
    # --- families: tips (anyone sends one about a public case; the case's volunteers read it) ---
    "cases/<int:pk>/tip/": [
        Probe(_r("families:tip_create", pk=case_a), EVERYONE, label="a public case"),
        Probe(_r("families:tip_create", pk=draft_a), codes(*[404] * 8), label="a draft"),
    ],
    "tips/": [Probe(_r("families:tips_queue"), VOLUNTEERS,
                    label="a volunteer who owns case A sees none of its tips")],
    "tips/<uuid:reference>/": [
        Probe(_r("families:tip_detail", reference=lambda w: w.tip.reference), TIP_READERS_OF_A,
              label="never to the case's own family, volunteer or not, nor another province"),
    ],
    "tips/<uuid:reference>/photo/": [
        Probe(_r("families:tip_photo", reference=lambda w: w.tip.reference), TIP_READERS_OF_A),
    ],
    # --- families: public seeker postings (only by the seeker's choice) ---
    "people/": [Probe(_r("families:public_seeker_list"), EVERYONE)],
    "people/<int:pk>/": [Probe(_r("families:public_seeker_detail", pk=posting), EVERYONE,
                               label="published by its seeker")],
    "people/<int:pk>/poster.pdf": [Probe(_r("families:public_seeker_poster", pk=posting),
                                         EVERYONE)],
    "seekers/<int:pk>/publish/": [
        Probe(_r("families:seeker_publish", pk=posting),
              codes(LOGIN, 404, 404, 200, 404, 404, 404, 404),
              label="publishing is the seeker's choice alone"),
        Probe(_r("families:seeker_publish", pk=lambda w: w.found_posting.pk),
              codes(LOGIN, *[404] * 7, proposer=404),
              label="a found person is never public, not even by whoever posted them"),
    ],
    # --- families: seeker postings (private pages, never to a family) ---
    "seekers/new/": [Probe(_r("families:seeker_create"), MEMBERS)],
    "seekers/<int:pk>/": [Probe(_r("families:seeker_detail", pk=posting), SEEKER_MANAGERS),
        Probe(_r("families:seeker_detail", pk=posting_t), SEEKER_MANAGERS,
              label=PAIRED_WITH_NOTHING),
    ],
    "seekers/<int:pk>/edit/": [Probe(_r("families:seeker_edit", pk=posting), SEEKER_MANAGERS),
        Probe(_r("families:seeker_edit", pk=posting_t), SEEKER_MANAGERS,
              label=PAIRED_WITH_NOTHING),
    ],
    "seekers/<int:pk>/withdraw/": [Probe(_r("families:seeker_withdraw", pk=posting),
                                         SEEKER_MANAGERS),
        Probe(_r("families:seeker_withdraw", pk=posting_t), SEEKER_MANAGERS,
              label=PAIRED_WITH_NOTHING),
    ],
    "seekers/<int:pk>/photos/": [Probe(_r("families:seeker_photos", pk=posting),
                                       SEEKER_MANAGERS),
        Probe(_r("families:seeker_photos", pk=posting_t), SEEKER_MANAGERS,
              label=PAIRED_WITH_NOTHING),
    ],
    "seekers/<int:pk>/delete/": [
        Probe(_r("families:seeker_delete", pk=posting),
              codes(LOGIN, 404, 404, 200, 404, 200, 404, 404)),
    ],
    # --- families: places (China's divisions: a public standard, the same for everyone) ---
    "places/divisions.json": [
        Probe(lambda w: reverse("families:place_divisions") + "?q=chengdu", EVERYONE,
              label="suggestions for a typed place"),
        Probe(lambda w: reverse("families:place_divisions") + "?parent=51", EVERYONE,
              label="a province's cities"),
    ],
    # --- families: photos (never from a public media URL) ---
    "photos/states/": [Probe(lambda w: reverse("families:photo_states") + "?ids="
                             + ",".join(str(p) for p in (w.poster_photo.pk, w.seeker_photo.pk)),
                             MEMBERS, label="answers only the photos the user manages")],
    "photos/<int:pk>/image/": [
        Probe(_r("families:photo_image", pk=lambda w: w.poster_photo.pk), EVERYONE,
              label="on the poster of a published case"),
        Probe(_r("families:photo_image", pk=lambda w: w.private_photo.pk),
              codes(404, 200, 404, 404, 200, 200, 200, 404), label="case photo off the poster"),
        Probe(_r("families:photo_image", pk=lambda w: w.seeker_photo.pk),
              SEEKER_PHOTO_READERS, label="seeker photo"),
        Probe(_r("families:photo_image", pk=lambda w: w.posting_t_photo.pk),
              SEEKER_PHOTO_READERS, label=PAIRED_WITH_NOTHING),
    ],
    "matching/photos/<int:pk>/faces/<int:face_pk>/": [
        Probe(_r("matching:photo_face", pk=lambda w: w.poster_photo.pk,
                 face_pk=lambda w: w.case_face.pk), EVERYONE,
              label="a face of a poster photo is as public as the photo"),
        Probe(_r("matching:photo_face", pk=lambda w: w.private_photo.pk,
                 face_pk=lambda w: w.private_face.pk),
              codes(404, 200, 404, 404, 200, 200, 200, 404),
              label="a face of a photo off the poster"),
        Probe(_r("matching:photo_face", pk=lambda w: w.seeker_photo.pk,
                 face_pk=lambda w: w.seeker_face.pk), SEEKER_PHOTO_READERS),
        Probe(_r("matching:photo_face", pk=lambda w: w.posting_t_photo.pk,
                 face_pk=lambda w: w.posting_t_face.pk), SEEKER_PHOTO_READERS,
              label=PAIRED_WITH_NOTHING),
    ],
    "photos/<int:pk>/edit/": [
        Probe(_r("families:photo_edit", pk=lambda w: w.poster_photo.pk), CASE_A_MANAGERS),
        Probe(_r("families:photo_edit", pk=lambda w: w.seeker_photo.pk), SEEKER_MANAGERS),
        Probe(_r("families:photo_edit", pk=lambda w: w.posting_t_photo.pk), SEEKER_MANAGERS,
              label=PAIRED_WITH_NOTHING),
    ],
    "photos/<int:pk>/delete/": [
        Probe(_r("families:photo_delete", pk=lambda w: w.poster_photo.pk),
              CASE_A_PHOTO_DELETERS, label="a volunteer hides, never deletes"),
        Probe(_r("families:photo_delete", pk=lambda w: w.seeker_photo.pk),
              SEEKER_PHOTO_DELETERS),
        Probe(_r("families:photo_delete", pk=lambda w: w.posting_t_photo.pk),
              SEEKER_PHOTO_DELETERS, label=PAIRED_WITH_NOTHING),
    ],
    "photos/<int:pk>/hide/": [
        Probe(_r("families:photo_hide", pk=lambda w: w.poster_photo.pk), CASE_A_PHOTO_HIDERS,
              label="the volunteers' way instead of deleting"),
        Probe(_r("families:photo_hide", pk=lambda w: w.seeker_photo.pk), SEEKER_PHOTO_HIDERS),
        Probe(_r("families:photo_hide", pk=lambda w: w.posting_t_photo.pk), SEEKER_PHOTO_HIDERS,
              label=PAIRED_WITH_NOTHING),
    ],
    "matching/photos/<int:pk>/face/": [
        Probe(_r("matching:face_picker", pk=lambda w: w.poster_photo.pk), CASE_A_MANAGERS),
        Probe(_r("matching:face_picker", pk=lambda w: w.seeker_photo.pk), SEEKER_MANAGERS),
        Probe(_r("matching:face_picker", pk=lambda w: w.posting_t_photo.pk), SEEKER_MANAGERS,
              label=PAIRED_WITH_NOTHING),
    ],
    "matching/photos/<int:pk>/age-progression/": [
        Probe(_r("matching:photo_age_progression", pk=lambda w: w.poster_photo.pk),
              CASE_A_MANAGERS),
        Probe(_r("matching:photo_age_progression", pk=lambda w: w.seeker_photo.pk),
              codes(LOGIN, 404, 404, 404, 404, 404, 404, 404), label="only a child's photo ages"),
    ],
    # --- matching: review (volunteers) and the match page (the two people, once confirmed) ---
    "matching/review/": [Probe(_r("matching:queue"), VOLUNTEERS)],
    "matching/review/<uuid:reference>/": [
        Probe(_r("matching:review", reference=candidate), OTHER_VOLUNTEERS_OF_A),
        Probe(_r("matching:review", reference=proposed), VOLUNTEERS,
              label="its proposer reads it (and never confirms it: tests/matching/test_review.py)"),
    ],
    "matching/review/<uuid:reference>/claim/": [
        Probe(_r("matching:claim", reference=candidate),
              codes(LOGIN, 404, 404, 404, 405, 405, 405, 404),
              post=codes(LOGIN, 404, 404, 404, 302, 302, 404, 404)),
        Probe(_r("matching:claim", reference=proposed),
              codes(LOGIN, 404, 404, 404, 405, 405, 405, 404),
              post=codes(LOGIN, 404, 404, 404, 302, 302, 302, 404),
              label="the proposer and the second volunteer both claim P"),
    ],
    "matching/review/<uuid:reference>/release/": [
        Probe(_r("matching:release", reference=candidate),
              codes(LOGIN, 404, 404, 404, 405, 405, 405, 404),
              post=codes(LOGIN, 404, 404, 404, 302, 302, 404, 404)),
    ],
    "matching/review/<uuid:reference>/dna/": [
        Probe(_r("matching:dna_test", reference=candidate), OTHER_VOLUNTEERS_OF_A,
              label="contacts and the request only once confirmed"),
    ],
    "matching/candidates/<uuid:reference>/photos/<int:photo_pk>/": [
        Probe(_r("matching:candidate_photo", reference=candidate,
                 photo_pk=lambda w: w.seeker_photo.pk),
              OTHER_VOLUNTEERS_OF_A, label="not to the family before a confirmation"),
        Probe(_r("matching:candidate_photo", reference=candidate,
                 photo_pk=lambda w: w.private_photo.pk),
              OTHER_VOLUNTEERS_OF_A),
    ],
    "matching/candidates/<uuid:reference>/faces/<int:face_pk>/": [
        Probe(_r("matching:candidate_face", reference=candidate,
                 face_pk=lambda w: w.seeker_face.pk),
              OTHER_VOLUNTEERS_OF_A),
    ],
    # --- matching: candidates people propose ---
    "matching/propose/": [Probe(_r("matching:volunteer_propose"), VOLUNTEERS)],
    "matching/propose/case/<int:pk>/": [
        Probe(_r("matching:might_be_me", pk=case_a), MEMBERS,
              label="a public case: the form, or 'post yourself first'"),
        Probe(_r("matching:might_be_me", pk=draft_a), codes(LOGIN, *[404] * 7)),
    ],
    "matching/propose/posting/<int:pk>/": [
        Probe(_r("matching:might_be_our_child", pk=posting), MEMBERS,
              label="posting S is public by its seeker's choice"),
    ],
    "matching/matches/<uuid:reference>/": [
        Probe(_r("matching:match_detail", reference=candidate),
              codes(LOGIN, 404, 404, 404, 404, 404, 404, 404),
              label="nothing to see before a confirmation"),
    ],
    "matching/matches/<uuid:reference>/messages/": [
        Probe(_r("matching:match_messages", reference=candidate), POST_ONLY,
              post=codes(LOGIN, 404, 404, 404, 404, 404, 404, 404),
              label="no thread before a confirmation, for volunteers too "
                    "(after it: tests/matching/test_messages.py)"),
    ],
    # --- matching: the dashboard and what outcomes say (counts only) ---
    "matching/dashboard/": [Probe(_r("matching:dashboard"), VOLUNTEERS)],
    "matching/outcomes/": [Probe(_r("matching:outcomes"), VOLUNTEERS)],
    # --- partners' bulk imports (a member of another organisation: a test of its own) ---
    "partners/imports/": [Probe(_r("partners:partner_imports"), IMPORTERS,
                                label="an admin who is no member has nothing to import")],
    "partners/postings/": [Probe(_r("partners:partner_postings"), IMPORTERS,
                                 label="the organisation's postings, for its members only")],
    "partners/imports/<int:pk>/": [
        Probe(_r("partners:partner_import_detail", pk=partner_import), IMPORT_READERS)],
    "partners/imports/<int:pk>/progress/": [
        Probe(_r("partners:partner_import_progress", pk=partner_import), IMPORT_READERS)],
    "partners/imports/<int:pk>/refused.csv": [
        Probe(_r("partners:partner_import_refused", pk=partner_import), IMPORT_READERS,
              label="the refused rows as sent: the found people's details")],
    # --- the partners' REST API: an organisation's key in a header, never a browser's
    # log-in (tests/families/partners/test_api.py: every endpoint × no key, a revoked key, another
    # organisation's key, the right key); its schema and docs page are public ---
    "api/v1/postings/": [Probe(_r("api:postings"), NO_KEY)],
    "api/v1/postings/<str:reference>/": [
        Probe(_r("api:posting", reference=lambda w: "HS-1"), NO_KEY)],
    "api/v1/postings/<str:reference>/photos/": [
        Probe(_r("api:posting_photos", reference=lambda w: "HS-1"), NO_KEY)],
    "api/v1/candidates/": [Probe(_r("api:candidates"), NO_KEY)],
    "api/v1/schema/": [Probe(_r("api:schema"), EVERYONE)],
    "api/v1/docs/": [Probe(_r("api:docs"), EVERYONE)],
    "api/v1/<path:unknown>": [Probe(lambda w: "/api/v1/no-such-endpoint/", codes(*[404] * 8),
                                    label="in the API's error shape")],
}

# --- Everything under admin/ (django.contrib.admin, django-rq): staff only ---------------

ADMIN_PREFIX = "admin/"
CONVERTER = re.compile(r"<(?:\w+:)?(\w+)>")


def admin_url(route: str, world: World) -> str:
    """A URL for an admin or django-rq route, with real ids where a real object helps."""
    model = re.match(r"admin/(\w+)/(\w+)/", route)
    object_id = "1"
    if model:
        found = ContentType.objects.filter(app_label=model[1], model=model[2]).first()
        model_class = found.model_class() if found else None
        if model_class is not None and model_class._meta.managed:
            instance = model_class.objects.first()
            object_id = str(instance.pk) if instance else "1"
    values = {"object_id": object_id, "queue_index": "0", "job_id": world.rq_job_id,
              "result_id": "no-such-result", "key": world.rq_worker_key,
              "scheduler_index": "0", "connection_index": "0", "scheduler_name": "none",
              "cron_job_name": "none", "id": str(world.users["admin"].pk),
              "content_type_id": str(ContentType.objects.get_for_model(MissingChildCase).pk)}
    route = (route.replace("^stats.json/?$", "stats.json/")
                  .replace(r"^stats.json/(?P<token>[\w]+)?/?$", "stats.json/NotTheToken1/")
                  .replace("(?P<url>.*)$", "no-such-page/"))
    route = re.sub(r"\^\(\?P<app_label>(\w+)[^)]*\)/\$", r"\1/", route)
    return "/" + CONVERTER.sub(lambda m: values[m[1]], route)


#: Staff-only pages of django-rq known to fail, and why (the test notices when they are
#: fixed). One is for the separate rq-scheduler package, which Reunion does not use (RQ's
#: own scheduler runs in the worker); the others are admin views of django-rq's
#: "dashboard", a placeholder model with no table, whose list is only a link.
ADMIN_KNOWN_ERRORS = {
    "schedulers/<int:scheduler_index>/": 500,
    "admin/django_rq/dashboard/<path:object_id>/change/": 500,
    "admin/django_rq/dashboard/<path:object_id>/delete/": 500,
    "admin/django_rq/dashboard/<path:object_id>/history/": 500,
}


ADMIN_INDEX = "admin-index"  # expected: a redirect to the admin's index (then its log-in)
#: The admin's own doors: its log-in form is open to anyone; logging out is a POST.
ADMIN_DOORS = {
    "admin/login/": codes(200, 200, 200, 200, 200, 302, 200, 200),
    "admin/logout/": codes(*[ADMIN_INDEX] * 5, 405, ADMIN_INDEX, ADMIN_INDEX),
}


def admin_expected(route: str, role: str) -> object:
    if route in ADMIN_DOORS:
        return ADMIN_DOORS[route][role]
    if role == "admin":
        for suffix, status in ADMIN_KNOWN_ERRORS.items():
            if route.endswith(suffix):
                return status
        return "not an error"
    if "stats.json" in route:
        return 401  # django-rq's statistics API wants a staff session or its token
    return ADMIN_LOGIN


# --- Building the world --------------------------------------------------------------


def _face(photo: Photo) -> Face:
    """A face with a box and eyes the face pages can cut out (no face model needed)."""
    return builders.face(photo=photo, box_x=60, box_y=60, box_w=120, box_h=120,
                         landmarks={"left_eye": [100, 100], "right_eye": [140, 100]})


#: Shelter P's import: one found person goes in, one row is refused (its sex is no sex).
IMPORT_CSV = (b"reference,name,sex,birth_year,province,notes\r\n"
              b"HS-1,Xiao Hong,F,1986,Hebei,A red door.\r\n"
              b"HS-2,Li Ming,X,1984,Hebei,\r\n")
IMPORT_CSV_NAME = "hope-intake-1989.csv"


def _shelter(name: str, member: User) -> PartnerOrganisation:
    organisation = PartnerOrganisation.objects.create(
        name=name, kind=PartnerOrganisation.Kind.SHELTER, region="Hebei",
        matching_basis="Intake records of the shelter, 1985-1995.")
    organisation.members.add(member)
    return organisation


def _finished_import(organisation: PartnerOrganisation, member: User) -> PartnerImport:
    """An import made the way members make them, run to its end here rather than on a queue."""
    started = partner_import_start(actor=member, organisation=organisation,
                                   csv_data=IMPORT_CSV, csv_name=IMPORT_CSV_NAME, queue=False)
    done = partner_import_run(partner_import_id=started.pk)
    assert done.status == PartnerImport.Status.DONE and done.refusals.exists()
    return done


def _rq_job_and_worker() -> tuple[object, SimpleWorker]:
    """A real job on the face queue and a registered worker, for the dashboard's pages."""
    queue = Queue(settings.FACE_QUEUE, connection=django_rq.get_connection(settings.FACE_QUEUE))
    job = queue.enqueue("matching.jobs.process_photo", 0, 0, job_id="access-matrix-job")
    worker = SimpleWorker([queue], connection=queue.connection, name="access-matrix")
    worker.register_birth()
    return job, worker


def _user_maker() -> Callable[..., User]:
    """Like the ``make_user`` fixture, with addresses of the matrix's own (a test's
    ``make_user`` starts again at user1@example.org)."""
    from django.contrib.auth.models import Group

    counter = iter(range(1, 100))

    def make(*, volunteer: bool = False, **extra: object) -> User:
        number = next(counter)
        user = User.objects.create_user(email=f"matrix{number}@example.org",
                                        password="a long enough password 1",
                                        full_name=f"Matrix {number}", **extra)
        if volunteer:
            user.groups.add(Group.objects.get_or_create(name="volunteer")[0])
        return user

    return make


@pytest.fixture(scope="module")
def matrix_media(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The world's photos, kept for every test of the module."""
    folder = tmp_path_factory.mktemp("matrix") / "media"
    folder.mkdir()
    return folder


@pytest.fixture(autouse=True)
def media_root(matrix_media: Path) -> Path:
    """In this module every test stores beside the world's photos (``built_world`` points
    MEDIA_ROOT there for the whole module)."""
    return matrix_media


@pytest.fixture(scope="module")
def built_world(django_db_setup, django_db_blocker, matrix_media: Path) -> Iterator[World]:
    """The world, built once for the module in a transaction that is rolled back at the
    module's end; ``world`` hands each test its own view of it."""
    with (django_db_blocker.unblock(), override_settings(MEDIA_ROOT=matrix_media),
          transaction.atomic()):
        yield _build_world(make_user=_user_maker())
        transaction.set_rollback(True)


@pytest.fixture
def world(request, built_world: World, db, redis_queues) -> World:
    """The world as built, for one test: the test runs in a savepoint of the world's
    transaction (``db``), so whatever it changes is rolled back after it; its objects are
    copies; its job and worker are made again on the queues ``redis_queues`` emptied."""
    marker = request.node.get_closest_marker("django_db")
    assert not (marker and marker.kwargs.get("transaction")), (
        "the world lives in one transaction: a test of it can't be transactional")
    job, worker = _rq_job_and_worker()
    return dataclasses.replace(copy.deepcopy(built_world), rq_job_id=job.id,
                               rq_worker_key=worker.key)


def _build_world(*, make_user: Callable[..., User]) -> World:
    confirmed = {"email_confirmed_at": timezone.now()}
    users = {
        "family_a": make_user(**confirmed),
        "family_b": make_user(**confirmed),
        "seeker": make_user(**confirmed),
        "volunteer": make_user(volunteer=True, **confirmed),
        "admin": make_user(is_staff=True, is_superuser=True, **confirmed),
        "partner_member": make_user(**confirmed),
        "proposer": make_user(volunteer=True, review_provinces="Shaanxi", **confirmed),
        "second_volunteer": make_user(volunteer=True, review_provinces="Sichuan", **confirmed),
    }
    fields = {"given_name": "Lan", "sex": Sex.FEMALE, "birth_year_min": 1986,
              "birth_year_max": 1986, "missing_date": "1989-03-01",
              "missing_province": "Shaanxi", "contact_name": "Wang"}
    case_a = builders.case(family=users["family_a"], **fields)
    draft_a = builders.case(family=users["family_a"], publish=False, **fields)
    case_b = builders.case(family=users["family_b"], **fields)
    posting = builders.seeker_posting(seeker=users["seeker"], display_name="Anna",
                                      sex=Sex.FEMALE)
    picture = builders.jpeg(size=(240, 240))
    poster_photo = builders.photo(data=picture, case=case_a, age_in_photo=2)
    private_photo = builders.photo(data=picture, case=case_a, age_in_photo=1)
    Photo.objects.filter(pk=private_photo.pk).update(use_on_poster=False)
    seeker_photo = builders.photo(data=picture, posting=posting, age_in_photo=30)
    case_face, seeker_face = _face(poster_photo), _face(seeker_photo)
    private_face = _face(private_photo)
    posting_t = builders.seeker_posting(seeker=users["seeker"], display_name="Tao",
                                        sex=Sex.FEMALE)
    posting_t_photo = builders.photo(data=picture, posting=posting_t, age_in_photo=30)
    posting_t_face = _face(posting_t_photo)
    found = Candidate.objects.create(
        case=case_a, seeker_posting=posting, best_distance=0.08, score=0.9,
        case_face=case_face, seeker_face=seeker_face, age_gap_years=28, model_version="test",
    )
    notification = Notification.objects.create(
        recipient=users["family_a"], kind="test", subject="A possible match",
        body="Under review.", link=reverse("families:dashboard"), dedupe_key="matrix",
    )
    job, worker = _rq_job_and_worker()
    # Posting S is public by its seeker's choice, with none of its photos shown.
    seeker_posting_publish(actor=users["seeker"], posting=posting, photos=[],
                           show_memories=False)
    tip = tip_submit(
        actor=AnonymousUser(), case=case_a, fields={"text": "Seen in Xi'an market."},
        photo_data=builders.jpeg(),
    )
    shelter = _shelter("Hope shelter", users["partner_member"])
    partner_import = _finished_import(shelter, users["partner_member"])
    proposed = candidate_propose(
        actor=users["proposer"], case=case_b, seeker_posting=posting,
        source=Candidate.Source.VOLUNTEER, note="The same birthmark on the left hand.")
    found_posting = builders.seeker_posting(
        seeker=users["proposer"], display_name="Found at Xi'an station", sex=Sex.FEMALE,
        posted_for=SeekerPosting.PostedFor.FOUND_PERSON,
        matching_basis="Police case 1991-17, Beilin unit.")
    return World(users, case_a, draft_a, case_b, posting, poster_photo, private_photo,
                 seeker_photo, case_face, private_face, seeker_face, posting_t,
                 posting_t_photo, posting_t_face, found, notification,
                 job.id, worker.key, tip, shelter, partner_import, proposed, found_posting)


def _client(world: World, role: str, **options: object) -> Client:
    # A server error is an answer to list with the others, not a reason to stop.
    client = Client(raise_request_exception=False, **options)
    if role == "volunteer_owner":
        # Family A, who is also a volunteer.
        from django.contrib.auth.models import Group

        user = world.users["family_a"]
        user.groups.add(Group.objects.get_or_create(name="volunteer")[0])
        client.force_login(user)
    elif role != "anonymous":
        client.force_login(world.users[role])
    return client


def _answer(response) -> str:
    location = response.get("Location", "")
    return f"{response.status_code}{' → ' + location if location else ''}"


def _matches(response, expected: object) -> bool:
    if expected == LOGIN:
        return response.status_code == 302 and response["Location"].startswith(
            reverse("login"))
    if expected == ADMIN_LOGIN:
        return response.status_code == 302 and response["Location"].startswith(
            reverse("admin:login"))
    if expected == ADMIN_INDEX:
        return response.status_code == 302 and response["Location"] == reverse("admin:index")
    if expected == "not an error":
        return response.status_code < 500
    return response.status_code == expected


def _state() -> tuple:
    """What a refused POST must leave as it was."""
    return (
        tuple(MissingChildCase.objects.order_by("pk").values_list("pk", "status")),
        tuple(SeekerPosting.objects.order_by("pk").values_list("pk", "status", "published_at")),
        tuple(Photo.objects.order_by("pk").values_list("pk", "use_on_poster", "face_state",
                                                       "hidden_at")),
        tuple(Face.objects.order_by("pk").values_list("pk", "picked_by")),
        tuple(Candidate.objects.order_by("pk").values_list("pk", "status", "claimed_by")),
        Review.objects.count(), DnaTest.objects.count(), MatchJob.objects.count(),
        MatchMessage.objects.count(),
        tuple(Notification.objects.order_by("pk").values_list("pk", "read_at")),
        tuple(User.objects.order_by("pk").values_list("pk", "email", "is_active")),
        tuple(PartnerImport.objects.order_by("pk").values_list(
            "pk", "organisation", "status", "rows_processed", "rows_refused")),
        PartnerImportRefusal.objects.count(),
        tuple(PartnerOrganisation.objects.order_by("pk").values_list("pk", "is_active")),
        tuple(PartnerOrganisation.members.through.objects.order_by("pk").values_list(
            "partnerorganisation", "user")),
    )


# --- The tests -------------------------------------------------------------------------


def _walk(patterns, prefix: str = "") -> list[tuple[str, URLPattern]]:
    found = []
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            found += _walk(pattern.url_patterns, prefix + str(pattern.pattern))
        else:
            found.append((prefix + str(pattern.pattern), pattern))
    return found


def all_routes() -> list[str]:
    return sorted({route for route, _ in _walk(get_resolver().url_patterns)})


def missing_entries(routes: list[str]) -> list[str]:
    return [r for r in routes if not r.startswith(ADMIN_PREFIX) and r not in MATRIX]


def test_every_url_pattern_has_an_entry():
    routes = all_routes()
    missing = missing_entries(routes)
    assert not missing, f"URL patterns with no entry in the access matrix: {missing}"
    stale = [route for route in MATRIX if route not in routes]
    assert not stale, f"entries for URL patterns that no longer exist: {stale}"
    assert len([r for r in routes if r.startswith(ADMIN_PREFIX)]) > 50, "admin rule in use"


def _get(client: Client, url: str):
    """A GET in a savepoint of its own: a page that fails in the database (a staff page
    known to fail) is rolled back alone and does not abort the pages after it."""
    with transaction.atomic():
        response = client.get(url)
        if response.status_code >= 500:
            transaction.set_rollback(True)
    return response


@pytest.mark.django_db
@pytest.mark.parametrize("role", ROLES)
def test_each_role_gets_the_expected_answer_from_every_page(role, world, redis_queues):
    client = _client(world, role)
    wrong = []
    for route, probes in MATRIX.items():
        for probe in probes:
            url = probe.url(world)
            response = _get(client, url)
            if not _matches(response, probe.get[role]):
                wrong.append(f"GET {url} ({route} {probe.label}): {_answer(response)}, "
                             f"expected {probe.get[role]}")
    for route in all_routes():
        if route.startswith(ADMIN_PREFIX):
            url = admin_url(route, world)
            response = _get(client, url)
            expected = admin_expected(route, role)
            if not _matches(response, expected):
                wrong.append(f"GET {url} ({route}): {_answer(response)}, expected {expected}")
    assert not wrong, "\n".join(wrong)


def _refused(expected: object) -> bool:
    return expected in (LOGIN, ADMIN_LOGIN, 401, 404)


@pytest.mark.django_db
@pytest.mark.parametrize("role", ROLES)
def test_refused_posts_change_nothing(role, world, redis_queues):
    """Wherever a role may not look, it may not post either; POST-only actions as listed."""
    client = _client(world, role)
    before = _state()
    wrong = []
    for route, probes in MATRIX.items():
        for probe in probes:
            expected = probe.post[role] if probe.post else probe.get[role]
            if not probe.post and not _refused(expected):
                continue
            if probe.post and not _refused(expected):
                continue  # allowed actions are the feature tests' business
            url = probe.url(world)
            response = client.post(url, {"confirm": "on", "reason": "x"})
            if not (_matches(response, expected) or response.status_code == 405):
                wrong.append(f"POST {url} ({route}): {_answer(response)}, expected {expected}")
    if role != "admin":
        for route in all_routes():
            if (route.startswith(ADMIN_PREFIX) and "stats.json" not in route
                    and route not in ADMIN_DOORS):
                url = admin_url(route, world)
                response = client.post(url, {"post": "yes", "action": "delete_selected"})
                if not _matches(response, ADMIN_LOGIN):
                    wrong.append(f"POST {url} ({route}): {response.status_code}")
    assert not wrong, "\n".join(wrong)
    assert _state() == before


@pytest.mark.django_db
def test_allowed_post_only_actions_answer_as_listed(world, redis_queues):
    """The POST-only actions, for the roles allowed to take them (each on a fresh state)."""
    wrong = []
    for route, probes in MATRIX.items():
        for probe in probes:
            if not probe.post:
                continue
            for role in ROLES:
                expected = probe.post[role]
                if _refused(expected):
                    continue
                response = _client(world, role).post(probe.url(world), {})
                if not _matches(response, expected):
                    wrong.append(f"POST {route} as {role}: {response.status_code}, "
                                 f"expected {expected}")
                if route == "cases/<int:pk>/publish/":
                    MissingChildCase.objects.filter(pk=world.draft_a.pk).update(
                        status=CaseStatus.DRAFT)
    assert not wrong, "\n".join(wrong)


@pytest.mark.django_db
def test_every_post_needs_a_csrf_token(world, redis_queues):
    """Through every pattern, as the admin (who may reach them all): no token, no entry."""
    client = _client(world, "admin", enforce_csrf_checks=True)
    before = _state()
    passed = []
    for route in all_routes():
        if route.startswith(ADMIN_PREFIX):
            url = admin_url(route, world)
        else:
            url = MATRIX[route][0].url(world)
        response = client.post(url, {"confirm": "on"})
        if route.startswith(API_PREFIX):
            # The partners' API reads no cookie, only a key in a header, which a forged
            # cross-site request can't send: the logged-in admin gets nothing from it.
            if response.status_code not in (401, 404, 405):
                passed.append(f"{route}: {response.status_code}")
            continue
        if response.status_code != 403 or b"CSRF" not in response.content:
            passed.append(f"{route}: {response.status_code}")
    assert not passed, "POSTs accepted without a CSRF token:\n" + "\n".join(passed)
    assert _state() == before


IMPORT_PAGES = ("partners:partner_import_detail", "partners:partner_import_progress",
                "partners:partner_import_refused")


@pytest.mark.django_db
def test_a_member_of_another_organisation_sees_none_of_its_imports(
    world, make_user, redis_queues
):
    """Being a partner opens one's own organisation's imports, not every partner's."""
    other = make_user(email_confirmed_at=timezone.now())
    mercy = _shelter("Mercy shelter", other)
    started = partner_import_start(actor=other, organisation=mercy, csv_data=IMPORT_CSV,
                                   csv_name="mercy-intake.csv", queue=False)
    own = partner_import_run(partner_import_id=started.pk)
    shelter_import = world.partner_import
    client = _client(world, "anonymous")
    client.force_login(other)

    listed = client.get(reverse("partners:partner_imports"))
    assert listed.status_code == 200
    page = listed.content.decode()
    assert own.csv_name in page
    assert IMPORT_CSV_NAME not in page
    for name in IMPORT_PAGES:
        assert reverse(name, args=[shelter_import.pk]) not in page
        assert client.get(reverse(name, args=[shelter_import.pk])).status_code == 404, name
        assert client.get(reverse(name, args=[own.pk])).status_code == 200, name
    # The import's own members see it listed: the check above is not of an empty page.
    shelter_page = _client(world, "partner_member").get(reverse("partners:partner_imports"))
    assert IMPORT_CSV_NAME in shelter_page.content.decode()

    before = _state()
    upload = client.post(reverse("partners:partner_imports"), {
        "organisation": world.organisation.pk,
        "csv_file": SimpleUploadedFile("people.csv", IMPORT_CSV, "text/csv"),
    })
    assert upload.status_code in (400, 404), upload.status_code
    for name in IMPORT_PAGES:
        assert client.post(reverse(name, args=[shelter_import.pk]),
                           {"confirm": "on"}).status_code in (404, 405), name
    assert _state() == before
    assert list(world.organisation.imports.all()) == [shelter_import]


@pytest.mark.django_db
@pytest.mark.parametrize("change", ["left the organisation", "organisation stopped"])
def test_a_former_member_sees_none_of_the_imports(change, world, redis_queues):
    """Membership is checked at each request: who left, or whose organisation stopped, is out."""
    member = world.users["partner_member"]
    if change == "left the organisation":
        world.organisation.members.remove(member)
    else:
        PartnerOrganisation.objects.filter(pk=world.organisation.pk).update(is_active=False)
    client = _client(world, "partner_member")
    assert client.get(reverse("partners:partner_imports")).status_code == 404
    for name in IMPORT_PAGES:
        assert client.get(reverse(name, args=[world.partner_import.pk])).status_code == 404, name


def _by_number(w: World) -> list[tuple[str, str]]:
    """Every address that named a candidate, a notice or a tip by its sequential id, with
    the world's real ids: (method, path)."""
    c, p = w.candidate.pk, w.proposed.pk
    return [
        ("GET", f"/matching/review/{c}/"), ("GET", f"/matching/review/{p}/"),
        ("POST", f"/matching/review/{c}/claim/"), ("POST", f"/matching/review/{p}/claim/"),
        ("POST", f"/matching/review/{c}/release/"), ("GET", f"/matching/review/{c}/dna/"),
        ("POST", f"/matching/review/{c}/dna/"),
        ("GET", f"/matching/candidates/{c}/photos/{w.seeker_photo.pk}/"),
        ("GET", f"/matching/candidates/{c}/faces/{w.seeker_face.pk}/"),
        ("GET", f"/matching/matches/{c}/"), ("GET", f"/matching/matches/{p}/"),
        ("POST", f"/me/inbox/{w.notification.pk}/open/"),
        ("GET", f"/tips/{w.tip.pk}/"), ("POST", f"/tips/{w.tip.pk}/"),
        ("GET", f"/tips/{w.tip.pk}/photo/"),
    ]


@pytest.mark.django_db
@pytest.mark.parametrize("role", ROLES)
def test_candidates_notices_and_tips_by_number_answer_404_to_everyone(role, world,
                                                                       redis_queues):
    """Their ids count them (a gap is a candidate one was not told of): only the opaque
    reference names one, and the old addresses by number answer 404, even to admins."""
    client = _client(world, role, enforce_csrf_checks=False)
    before = _state()
    wrong = []
    for method, url in _by_number(world):
        response = _get(client, url) if method == "GET" else client.post(url)
        if response.status_code != 404:
            wrong.append(f"{method} {url}: {_answer(response)}")
    assert not wrong, "\n".join(wrong)
    assert _state() == before
    # The same pages by reference do answer this role as the matrix lists (not all 404).
    if role == "admin":
        assert client.get(reverse("matching:review", args=[world.candidate.reference])) \
            .status_code == 200


@pytest.mark.django_db
def test_the_matrix_can_fail(world, redis_queues):
    """A family B that could read family A's draft would be caught: the check is real."""
    probe = MATRIX["cases/<int:pk>/"][1]
    response = _client(world, "family_b").get(probe.url(world))
    assert not _matches(response, 200)
    assert _matches(response, probe.get["family_b"])
    world.draft_a.family = world.users["family_b"]
    world.draft_a.save(update_fields=["family"])
    assert not _matches(_client(world, "family_b").get(probe.url(world)), probe.get["family_b"])


# A URL configuration with one page more than the portal's, to show a new page is noticed.
urlpatterns = [*get_resolver("reunion.urls").url_patterns,
               path("surprise/<int:pk>/", lambda request, pk: None, name="surprise")]


def test_a_new_pattern_without_an_entry_is_noticed(settings):
    settings.ROOT_URLCONF = __name__
    assert missing_entries(all_routes()) == ["surprise/<int:pk>/"]
