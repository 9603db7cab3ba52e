"""Deleting in the admin takes the path of every deletion: the change page's delete, the bulk
"delete selected" action and a photo ticked in a case's photo list remove the photo files,
estimates, faces, embeddings, candidates, notices about them and a deleted account's log-in
records, and write the same audit entry as the owner's own deletion."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
from axes.models import AccessAttempt, AccessFailureLog, AccessLog
from django.contrib.admin.models import DELETION, LogEntry
from django.urls import reverse

from families import services as family_services
from families.models import (
    AuditEntry,
    MissingChildCase,
    Notification,
    Photo,
    SeekerPosting,
    User,
)
from matching.models import Candidate, Face, MatchJob
from tests import builders

pytestmark = pytest.mark.django_db(transaction=True)

CASE_PHOTOS = ("img1.jpg", "img4.jpg", "img5.jpg", "img6.jpg")


def _face(photo: Photo) -> Face:
    """A face with an embedding, made directly: the face model is not the point here."""
    return builders.face(photo=photo, box_x=10, box_y=10, box_w=80, box_h=80,
                         embedding=[0.1] * 128, model_name="Dlib", model_version="test",
                         searchable=True)


def _notice(recipient: User, about: object, key: str) -> Notification:
    return family_services.notification_send(
        recipient=recipient, kind="test", subject="About it", body="Body", dedupe_key=key,
        about=about,
    )


def _login_records(email: str) -> None:
    common = {"username": email, "ip_address": "192.0.2.1", "user_agent": "x",
              "http_accept": "", "path_info": "/accounts/login/"}
    AccessAttempt.objects.create(get_data="", post_data="", failures_since_start=1, **common)
    AccessLog.objects.create(**common)
    AccessFailureLog.objects.create(**common)


def _login_records_of(email: str) -> int:
    return sum(model.objects.filter(username__iexact=email).count()
               for model in (AccessAttempt, AccessLog, AccessFailureLog))


def _files(media_root) -> set[str]:
    return {str(p.relative_to(media_root)) for p in media_root.rglob("*") if p.is_file()}


def _about(obj) -> int:
    return Notification.objects.filter(
        about_type=obj._meta.label_lower, about_id=str(obj.pk)
    ).count()


@pytest.fixture
def world(make_user, photo_bytes, redis_queues, media_root):
    """A case with five photos (one an estimate made from the first), each with an embedded
    face; a seeker posting with one; a candidate between them; notices about all of these;
    and log-in records of both accounts."""
    family, seeker = make_user(), make_user()
    case = builders.case(family=family, given_name="Xiaoming")
    posting = builders.seeker_posting(seeker=seeker)
    photos = [
        family_services.photo_add(actor=family, case=case, data=photo_bytes(name),
                                  kind=Photo.Kind.CHILDHOOD, age_in_photo=3)
        for name in CASE_PHOTOS
    ]
    estimate = family_services.photo_add(
        actor=family, case=case, data=photo_bytes("img7.jpg"), kind=Photo.Kind.AGE_PROGRESSED,
        age_in_photo=30,
    )
    Photo.objects.filter(pk=estimate.pk).update(source_photo=photos[0])
    seeker_photo = family_services.photo_add(
        actor=seeker, seeker_posting=posting, data=photo_bytes("img2.jpg"),
        kind=Photo.Kind.RECENT, age_in_photo=30,
    )
    faces = [_face(photo) for photo in [*photos, estimate]]
    candidate = Candidate.objects.create(
        case=case, seeker_posting=posting, best_distance=0.09, score=0.5, case_face=faces[0],
        seeker_face=_face(seeker_photo), age_gap_years=27, model_version="test",
    )
    _notice(family, case, "case")
    _notice(family, photos[0], "photo")
    _notice(family, estimate, "estimate")
    _notice(family, candidate, "candidate-family")
    _notice(seeker, candidate, "candidate-seeker")
    _notice(seeker, posting, "posting")
    _notice(seeker, seeker_photo, "seeker-photo")
    _login_records(family.email.upper())
    _login_records(seeker.email)
    case_files = {p.image.name for p in [*photos, estimate]}
    assert case_files | {seeker_photo.image.name} <= _files(media_root)
    assert MatchJob.objects.filter(photo__case=case).count() == 5
    return SimpleNamespace(
        family=family, seeker=seeker, case=case, posting=posting, photos=photos,
        estimate=estimate, seeker_photo=seeker_photo, candidate=candidate,
        case_files=case_files,
    )


def _delete_on_change_page(admin_client, model: str, pk: int) -> None:
    url = reverse(f"admin:{model}_delete", args=[pk])
    assert admin_client.get(url).status_code == 200
    response = admin_client.post(url, {"post": "yes"})
    assert response.status_code == 302, response.content[:500]


def _delete_selected(admin_client, model: str, pks: list[int]) -> None:
    url = reverse(f"admin:{model}_changelist")
    confirm = admin_client.post(url, {"action": "delete_selected", "_selected_action": pks})
    assert confirm.status_code == 200 and b"Are you sure" in confirm.content
    response = admin_client.post(
        url, {"action": "delete_selected", "_selected_action": pks, "post": "yes"}
    )
    assert response.status_code == 302


def test_deleting_one_photo_on_its_admin_page_takes_its_estimate_file_faces_and_notices(
    admin_client, superuser, world, media_root
):
    photo, estimate = world.photos[0], world.estimate

    _delete_on_change_page(admin_client, "families_photo", photo.pk)

    assert not Photo.objects.filter(pk__in=[photo.pk, estimate.pk]).exists()
    assert {photo.image.name, estimate.image.name}.isdisjoint(_files(media_root))
    assert {p.image.name for p in world.photos[1:]} <= _files(media_root), "the others stay"
    assert not Face.objects.filter(photo_id__in=[photo.pk, estimate.pk]).exists()
    assert not MatchJob.objects.filter(photo_id__in=[photo.pk, estimate.pk]).exists()
    assert _about(photo) == 0 and _about(estimate) == 0
    assert _about(world.case) == 1, "the case and its other notices stay"
    entry = AuditEntry.objects.get(action="photo.deleted", object_id=str(photo.pk))
    assert entry.actor == superuser


def test_deleting_a_case_on_its_admin_page_leaves_nothing_of_it(
    admin_client, superuser, world, media_root
):
    case = world.case

    _delete_on_change_page(admin_client, "families_missingchildcase", case.pk)

    assert not MissingChildCase.objects.filter(pk=case.pk).exists()
    assert not Photo.objects.filter(pk__in=[p.pk for p in [*world.photos, world.estimate]]
                                    ).exists()
    assert world.case_files.isdisjoint(_files(media_root)), "no file of the case is left"
    assert world.seeker_photo.image.name in _files(media_root), "the seeker's stays"
    assert not Face.objects.filter(side="case").exists()
    assert not Candidate.objects.exists()
    assert not MatchJob.objects.filter(
        photo_id__in=[p.pk for p in [*world.photos, world.estimate]]).exists()
    for obj in (case, *world.photos, world.estimate, world.candidate):
        assert _about(obj) == 0, obj
    assert not Notification.objects.filter(about_type="matching.candidate").exists(), \
        "the seeker's notice about the candidate goes too"
    assert _about(world.posting) == 1 and _about(world.seeker_photo) == 1
    entry = AuditEntry.objects.get(action="case.deleted", object_id=str(case.pk))
    assert entry.actor == superuser
    assert entry.detail == {"photos": 5, "faces": 5, "embeddings": 5, "candidates": 1}
    history = LogEntry.objects.get(action_flag=DELETION)
    assert "Xiaoming" not in history.object_repr and str(case.pk) in history.object_repr


def test_bulk_deleting_cases_goes_through_the_same_path(
    admin_client, superuser, world, media_root, photo_bytes
):
    second = builders.case(family=world.family, given_name="Lan")
    extra = family_services.photo_add(actor=world.family, case=second,
                                      data=photo_bytes("img10.jpg"), kind=Photo.Kind.CHILDHOOD)
    _notice(world.family, second, "second")

    _delete_selected(admin_client, "families_missingchildcase", [world.case.pk, second.pk])

    assert not MissingChildCase.objects.exists()
    assert (world.case_files | {extra.image.name}).isdisjoint(_files(media_root))
    assert not Face.objects.filter(side="case").exists() and not Candidate.objects.exists()
    assert _about(second) == 0 and _about(world.case) == 0 and _about(world.candidate) == 0
    assert set(AuditEntry.objects.filter(action="case.deleted", actor=superuser)
               .values_list("object_id", flat=True)) == {str(world.case.pk), str(second.pk)}
    names = " ".join(LogEntry.objects.filter(action_flag=DELETION)
                     .values_list("object_repr", flat=True))
    assert "Xiaoming" not in names and "Lan" not in names


def test_deleting_a_seeker_posting_on_its_admin_page(admin_client, superuser, world, media_root):
    posting = world.posting

    _delete_on_change_page(admin_client, "families_seekerposting", posting.pk)

    assert not SeekerPosting.objects.filter(pk=posting.pk).exists()
    assert world.seeker_photo.image.name not in _files(media_root)
    assert world.case_files <= _files(media_root), "the case's photos stay"
    assert not Face.objects.filter(side="seeker").exists() and not Candidate.objects.exists()
    assert _about(posting) == 0 and _about(world.seeker_photo) == 0
    assert _about(world.candidate) == 0
    assert _about(world.case) == 1
    entry = AuditEntry.objects.get(action="seeker_posting.deleted", object_id=str(posting.pk))
    assert entry.actor == superuser and entry.detail["photos"] == 1


def test_bulk_deleting_photos_with_an_estimate_and_its_source(
    admin_client, superuser, world, media_root
):
    chosen = [world.photos[0], world.estimate, world.photos[1], world.seeker_photo]

    _delete_selected(admin_client, "families_photo", [p.pk for p in chosen])

    assert not Photo.objects.filter(pk__in=[p.pk for p in chosen]).exists()
    assert {p.image.name for p in chosen}.isdisjoint(_files(media_root))
    assert {p.image.name for p in world.photos[2:]} <= _files(media_root)
    assert not Face.objects.filter(photo_id__in=[p.pk for p in chosen]).exists()
    assert all(_about(p) == 0 for p in chosen)
    audited = set(AuditEntry.objects.filter(action="photo.deleted", actor=superuser)
                  .values_list("object_id", flat=True))
    assert {str(world.photos[0].pk), str(world.photos[1].pk), str(world.seeker_photo.pk)} \
        <= audited


def test_deleting_an_account_on_its_admin_page_takes_all_it_posted_and_its_log_in_records(
    admin_client, superuser, world, media_root
):
    family = world.family

    _delete_on_change_page(admin_client, "families_user", family.pk)

    assert not User.objects.filter(pk=family.pk).exists()
    assert not MissingChildCase.objects.exists()
    assert world.case_files.isdisjoint(_files(media_root))
    assert not Face.objects.filter(side="case").exists() and not Candidate.objects.exists()
    assert not Notification.objects.filter(recipient_id=family.pk).exists()
    assert _about(world.candidate) == 0, "the seeker's notice about the candidate goes"
    assert _login_records_of(family.email) == 0
    assert _login_records_of(world.seeker.email) == 3, "others' log-in records stay"
    entry = AuditEntry.objects.get(action="account.deleted", object_id=str(family.pk))
    assert entry.actor == superuser and entry.detail["by"] == "admin"
    assert entry.detail["photos"] == 5 and entry.detail["cases"] == 1
    assert family.email not in LogEntry.objects.get(action_flag=DELETION).object_repr


def test_bulk_deleting_accounts_leaves_no_file_face_candidate_notice_or_log_in_record(
    admin_client, superuser, world, media_root
):
    _delete_selected(admin_client, "families_user", [world.family.pk, world.seeker.pk])

    assert list(User.objects.all()) == [superuser]
    assert _files(media_root) == set(), "no photo file is left"
    assert not Photo.objects.exists() and not Face.objects.exists()
    assert not Candidate.objects.exists() and not Notification.objects.exists()
    assert not MatchJob.objects.exists()
    assert _login_records_of(world.family.email) == 0 and _login_records_of(world.seeker.email) == 0
    assert AuditEntry.objects.filter(action="account.deleted", actor=superuser).count() == 2


def test_a_photo_ticked_for_deletion_in_a_cases_photo_list(
    admin_client, superuser, world, media_root
):
    url = reverse("admin:families_missingchildcase_change", args=[world.case.pk])
    page = admin_client.get(url)
    form = page.context["adminform"].form
    data = {form.add_prefix(name): form[name].value() for name in form.fields}
    for formset in page.context["inline_admin_formsets"]:
        management = formset.formset.management_form
        data.update({f"{management.prefix}-{k}": v for k, v in management.initial.items()})
        for inline_form in formset.formset.forms:
            data.update({inline_form.add_prefix(name): inline_form[name].value()
                         for name in inline_form.fields})
            if inline_form.instance.pk == world.photos[2].pk:
                data[inline_form.add_prefix("DELETE")] = "on"
    data = {k: ("on" if v is True else v) for k, v in data.items()
            if v is not None and v is not False}

    response = admin_client.post(url, data)

    assert response.status_code == 302, response.context["errors"] if response.context else ""
    assert not Photo.objects.filter(pk=world.photos[2].pk).exists()
    assert world.photos[2].image.name not in _files(media_root)
    assert Photo.objects.filter(case=world.case).count() == 4
    assert AuditEntry.objects.filter(action="photo.deleted", actor=superuser,
                                     object_id=str(world.photos[2].pk)).exists()


def test_deleting_a_candidate_face_or_match_job_in_the_admin_is_audited_and_takes_its_notices(
    admin_client, superuser, world
):
    candidate = world.candidate
    _delete_on_change_page(admin_client, "matching_candidate", candidate.pk)
    assert not Candidate.objects.filter(pk=candidate.pk).exists()
    assert _about(candidate) == 0
    assert MissingChildCase.objects.filter(pk=world.case.pk).exists()
    assert AuditEntry.objects.filter(action="candidate.deleted", actor=superuser,
                                     object_id=str(candidate.pk)).exists()

    faces = list(Face.objects.filter(photo__in=world.photos[:2]).values_list("pk", flat=True))
    _delete_selected(admin_client, "matching_face", faces)
    assert not Face.objects.filter(pk__in=faces).exists()
    assert AuditEntry.objects.filter(action="face.deleted").count() == 2

    jobs = list(MatchJob.objects.filter(photo=world.photos[3]).values_list("pk", flat=True))
    _delete_selected(admin_client, "matching_matchjob", jobs)
    assert not MatchJob.objects.filter(pk__in=jobs).exists()
    assert AuditEntry.objects.filter(action="match_job.deleted").count() == len(jobs)
    assert Photo.objects.filter(pk=world.photos[3].pk).exists(), "a job's photo stays"
