"""Deleting a case, a seeker posting or an account removes its photos (files included), faces,
embeddings and candidates, and leaves an audit entry that names no one."""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from families import services as family_services
from families.models import AuditEntry, MissingChildCase, Notification, Photo, SeekerPosting
from matching.models import Candidate, Face, MatchJob
from tests import builders

pytestmark = pytest.mark.django_db(transaction=True)

PASSWORD = "a long enough password 1"


def _confirmed(user):
    user.email_confirmed_at = timezone.now()
    user.save(update_fields=["email_confirmed_at"])
    return user


@pytest.fixture
def matched(make_user, photo_bytes, run_worker, media_root):
    """A case and a seeker posting of the same person, processed and matched by a real worker."""
    family = _confirmed(make_user(password=PASSWORD))
    seeker = _confirmed(make_user(password=PASSWORD))
    case = builders.case(family=family, given_name="Xiaoming", family_name="Zhang")
    posting = builders.seeker_posting(seeker=seeker)
    case_photos = [
        family_services.photo_add(actor=family, case=case, data=photo_bytes(name),
                                  kind=Photo.Kind.CHILDHOOD, age_in_photo=30)
        for name in ("img1.jpg", "img4.jpg")
    ]
    seeker_photo = family_services.photo_add(
        actor=seeker, seeker_posting=posting, data=photo_bytes("img2.jpg"),
        kind=Photo.Kind.RECENT, age_in_photo=30,
    )
    run_worker()
    assert Face.objects.filter(embedding__isnull=False).count() == 3
    assert Candidate.objects.filter(case=case, seeker_posting=posting).exists()
    return {"family": family, "seeker": seeker, "case": case, "posting": posting,
            "case_photos": case_photos, "seeker_photo": seeker_photo}


def _files(media_root) -> set[str]:
    return {str(p.relative_to(media_root)) for p in media_root.rglob("*") if p.is_file()}


def test_deleting_a_case_removes_photos_files_faces_embeddings_and_candidates(
    matched, media_root, run_worker
):
    family, case = matched["family"], matched["case"]
    case_pk = case.pk
    names = {photo.image.name for photo in matched["case_photos"]}
    assert names <= _files(media_root)
    ids = [photo.pk for photo in matched["case_photos"]]
    # A job still queued for the case when it is deleted must find nothing and stop.
    pending = family_services.photo_add(
        actor=family, case=case, data=matched["case_photos"][0].image.open("rb").read(),
        kind=Photo.Kind.CHILDHOOD, age_in_photo=30,
    )
    names.add(pending.image.name)
    candidate = Candidate.objects.get(case=case)
    for recipient, about in ((family, case), (matched["seeker"], candidate)):
        family_services.notification_send(recipient=recipient, kind="test", subject="s",
                                          body="b", dedupe_key=f"about-{recipient.pk}",
                                          about=about)

    removed = family_services.case_delete(actor=family, case=case)

    assert removed == {"photos": 3, "faces": 2, "embeddings": 2, "candidates": 1}
    assert case.pk is None and not MissingChildCase.objects.filter(pk=case_pk).exists()
    assert not Photo.objects.filter(pk__in=[*ids, pending.pk]).exists()
    assert not Face.objects.filter(side="case").exists()
    assert not Candidate.objects.exists()
    assert not MatchJob.objects.filter(photo_id__in=[*ids, pending.pk]).exists()
    assert not names & _files(media_root), "the photo files are gone"
    assert not Notification.objects.filter(dedupe_key__startswith="about-").exists(), \
        "notices about the case and its candidate go, the seeker's too"
    assert matched["seeker_photo"].image.name in _files(media_root), "the seeker's stays"
    entry = AuditEntry.objects.get(action="case.deleted", object_id=str(case_pk))
    assert entry.actor == family and entry.detail == removed
    assert "Xiaoming" not in str(entry.detail) and "Zhang" not in str(entry.detail)

    run_worker()  # the orphaned job runs without error and leaves nothing behind
    assert not Photo.objects.filter(case_id=case_pk).exists()


def test_deleting_a_seeker_posting_through_its_page(matched, client, make_user, media_root):
    seeker, posting = matched["seeker"], matched["posting"]
    url = reverse("families:seeker_delete", args=[posting.pk])

    other = make_user(password=PASSWORD)
    client.force_login(other)
    assert client.get(url).status_code == 404
    volunteer = make_user(volunteer=True)
    client.force_login(volunteer)
    assert client.post(url, {"confirm": "on"}).status_code == 404
    with pytest.raises(PermissionDenied):
        family_services.seeker_posting_delete(actor=volunteer, posting=posting)

    client.force_login(seeker)
    assert client.get(url).status_code == 200
    assert client.post(url, {}).status_code == 400, "the confirmation box is required"
    assert SeekerPosting.objects.filter(pk=posting.pk).exists()

    response = client.post(url, {"confirm": "on"})
    assert response.status_code == 302
    assert not SeekerPosting.objects.filter(pk=posting.pk).exists()
    assert not Face.objects.filter(side="seeker").exists()
    assert not Candidate.objects.exists()
    assert matched["seeker_photo"].image.name not in _files(media_root)
    assert {p.image.name for p in matched["case_photos"]} <= _files(media_root)
    assert AuditEntry.objects.filter(action="seeker_posting.deleted", actor=seeker).exists()


def test_an_admin_may_delete_a_case(matched, make_user):
    admin = make_user(is_staff=True, is_superuser=True)
    case_pk = matched["case"].pk
    family_services.case_delete(actor=admin, case=matched["case"])
    assert not Photo.objects.filter(case_id=case_pk).exists()
    assert AuditEntry.objects.get(action="case.deleted").actor == admin


def test_deleting_an_account_removes_everything_it_posted(matched, client, media_root):
    from axes.models import AccessAttempt

    family = matched["family"]
    email = family.email
    second_case = builders.case(family=family)
    posting = builders.seeker_posting(seeker=family)
    extra = family_services.photo_add(
        actor=family, seeker_posting=posting, data=matched["seeker_photo"].image.open("rb").read(),
        kind=Photo.Kind.RECENT, age_in_photo=30,
    )
    Notification.objects.create(recipient=family, kind="test", subject="s", body="b",
                                dedupe_key="deletion-test")
    AccessAttempt.objects.create(username=email, ip_address="192.0.2.1", user_agent="x",
                                 get_data="", post_data="", http_accept="", path_info="/",
                                 failures_since_start=1)
    names = {p.image.name for p in matched["case_photos"]} | {extra.image.name}

    client.force_login(family)
    url = reverse("families:account_delete")
    assert client.get(url).status_code == 200
    wrong = client.post(url, {"confirm": "on", "password": "not my password"})
    assert wrong.status_code == 400 and type(family).objects.filter(pk=family.pk).exists()

    response = client.post(url, {"confirm": "on", "password": PASSWORD})
    assert response.status_code == 302

    assert not type(family).objects.filter(pk=family.pk).exists()
    assert not MissingChildCase.objects.filter(pk__in=[matched["case"].pk, second_case.pk]).exists()
    assert not SeekerPosting.objects.filter(pk=posting.pk).exists()
    assert not Photo.objects.filter(pk__in=[*(p.pk for p in matched["case_photos"]), extra.pk]
                                    ).exists()
    assert not Face.objects.filter(side="case").exists()
    assert not Notification.objects.filter(dedupe_key="deletion-test").exists()
    assert not AccessAttempt.objects.filter(username=email).exists()
    assert not names & _files(media_root)
    assert matched["seeker_photo"].image.name in _files(media_root), "others' photos stay"
    assert SeekerPosting.objects.filter(pk=matched["posting"].pk).exists()

    entry = AuditEntry.objects.get(action="account.deleted", object_id=str(family.pk))
    assert entry.actor is None and entry.detail["by"] == "self"
    assert entry.detail["photos"] == 3 and entry.detail["cases"] == 2
    assert email not in str(entry.detail)
    assert "_auth_user_id" not in client.session, "logged out"
    assert client.get(reverse("families:dashboard")).status_code == 302


def test_a_volunteers_account_goes_but_the_photo_they_added_to_a_case_stays(
    make_user, photo_bytes, media_root, redis_queues
):
    family = _confirmed(make_user())
    case = builders.case(family=family)
    volunteer = _confirmed(make_user(volunteer=True))
    photo = family_services.photo_add(
        actor=volunteer, case=case, data=photo_bytes("img1.jpg"), kind=Photo.Kind.CHILDHOOD,
    )
    stored = media_root / photo.image.name

    removed = family_services.account_delete(actor=volunteer, user=volunteer)

    assert removed["photos"] == 0
    photo.refresh_from_db()
    assert photo.owner is None and photo.case == case
    assert stored.is_file()


def test_a_deletion_rolled_back_keeps_its_files(make_user, photo_bytes, media_root, redis_queues):
    family = make_user()
    case = builders.case(family=family)
    photos = [
        family_services.photo_add(actor=family, case=case, data=photo_bytes(name),
                                  kind=Photo.Kind.CHILDHOOD)
        for name in ("img1.jpg", "img4.jpg")
    ]
    names = {photo.image.name for photo in photos}

    with pytest.raises(RuntimeError), transaction.atomic():
        family_services.case_delete(actor=family, case=MissingChildCase.objects.get(pk=case.pk))
        assert not Photo.objects.filter(case=case).exists()
        raise RuntimeError("the surrounding transaction fails after the deletion")
    with pytest.raises(RuntimeError), transaction.atomic():
        family_services.photo_delete(actor=family, photo=photos[0])
        raise RuntimeError("the surrounding transaction fails after the deletion")

    assert Photo.objects.filter(case=case).count() == 2
    assert names <= _files(media_root), "a deletion rolled back keeps its files"
    assert not AuditEntry.objects.filter(action__in=["case.deleted", "photo.deleted"]).exists()

    family_services.case_delete(actor=family, case=MissingChildCase.objects.get(pk=case.pk))
    assert not names & _files(media_root)


def test_a_deletion_by_any_code_path_takes_the_files_and_notices(
    make_user, photo_bytes, media_root, redis_queues
):
    """A queryset's bulk delete, which calls no service, still removes files and notices."""
    family = make_user()
    case = builders.case(family=family)
    photo = family_services.photo_add(actor=family, case=case, data=photo_bytes("img1.jpg"),
                                      kind=Photo.Kind.CHILDHOOD)
    for about in (case, photo):
        family_services.notification_send(
            recipient=family, kind="test", subject="s", body="b",
            dedupe_key=f"about-{about._meta.model_name}", about=about,
        )
    other = family_services.notification_send(recipient=family, kind="test", subject="s",
                                              body="b", dedupe_key="unrelated")

    MissingChildCase.objects.filter(pk=case.pk).delete()

    assert not Photo.objects.filter(pk=photo.pk).exists()
    assert photo.image.name not in _files(media_root)
    assert list(Notification.objects.all()) == [other]
