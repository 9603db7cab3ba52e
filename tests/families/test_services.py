"""Services that change families' data: accounts, cases, seeker postings, photos."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.core import mail
from django.core.exceptions import ValidationError

from families import services
from families.models import AuditEntry, CaseStatus, Photo
from families.tokens import (
    email_confirmation_token,
    user_for_confirmation_token,
    user_for_email_change_token,
)
from matching.models import Face, MatchJob
from tests import builders


def actions(obj) -> list[str]:
    return list(AuditEntry.objects.filter(
        object_type=obj._meta.label_lower, object_id=str(obj.pk)
    ).order_by("pk").values_list("action", flat=True))


# --- Accounts -----------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_sign_up_mails_a_link_that_confirms_the_address_once_in_the_users_language():
    user = services.user_sign_up(
        email="Mother@Example.org", password="a long enough password 1",
        full_name="Li Hua", preferred_language="zh-hans",
    )
    assert user.email == "mother@example.org"
    assert user.email_confirmed_at is None
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == ["mother@example.org"]
    token = message.body.split("/confirm/")[1].split("/")[0]
    assert "/zh-hans/confirm/" in message.body
    assert user_for_confirmation_token(token) == user
    services.user_confirm_email(user=user)
    user.refresh_from_db()
    assert user.email_confirmed_at is not None
    assert actions(user) == ["user.signed_up", "user.email_confirmed"]


@pytest.mark.django_db
def test_a_confirmation_token_stops_working_when_the_address_changes(make_user):
    user = make_user()
    token = email_confirmation_token(user)
    assert user_for_confirmation_token(token) == user
    assert user_for_confirmation_token(token[:-2] + "xx") is None
    services.profile_update(actor=user, user=user, fields={"email": "new@example.org"})
    assert user_for_confirmation_token(token) == user  # not changed until confirmed
    assert services.user_confirm_email_change(user=user).email == "new@example.org"
    assert user_for_confirmation_token(token) is None


@pytest.mark.django_db
def test_changing_the_email_confirms_the_new_address_first(
    make_user, django_capture_on_commit_callbacks
):
    user = make_user()
    old = user.email
    services.user_confirm_email(user=user)
    with django_capture_on_commit_callbacks(execute=True):
        services.profile_update(actor=user, user=user, fields={
            "email": "Other@Example.org", "phone": "123"})
    user.refresh_from_db()
    assert (user.email, user.pending_email, user.phone) == (old, "other@example.org", "123")
    assert user.email_confirmed_at is not None
    assert mail.outbox[-1].to == ["other@example.org"]
    token = mail.outbox[-1].body.split("/confirm/new-address/")[1].split("/")[0]
    with django_capture_on_commit_callbacks(execute=True):
        services.user_confirm_email_change(user=user_for_email_change_token(token))
    user.refresh_from_db()
    assert (user.email, user.pending_email) == ("other@example.org", "")
    assert mail.outbox[-1].to == [old]  # the old address hears of the change
    assert user_for_email_change_token(token) is None  # once only


# --- Cases --------------------------------------------------------------------


@pytest.mark.django_db
def test_case_update_publish_withdraw_are_audited(make_user):
    family = make_user()
    case = builders.case(family=family, publish=False)
    assert case.status == CaseStatus.DRAFT
    services.case_update(actor=family, case=case, fields={"given_name": "Ming-ming"})
    services.case_publish(actor=family, case=case)
    case.refresh_from_db()
    assert case.status == CaseStatus.PUBLISHED and case.published_at is not None
    services.case_withdraw(actor=family, case=case, reason="found by the police")
    case.refresh_from_db()
    assert case.status == CaseStatus.WITHDRAWN
    assert actions(case)[:4] == ["case.created", "case.updated", "case.published",
                                 "faces.facts_refreshed"]
    assert "case.withdrawn" in actions(case)
    entry = AuditEntry.objects.get(action="case.withdrawn", object_id=str(case.pk))
    assert entry.detail == {"previous_status": "published", "reason": "found by the police"}
    assert entry.actor == family


@pytest.mark.django_db
def test_case_update_refuses_fields_outside_the_form_and_invalid_years(make_user):
    family = make_user()
    case = builders.case(family=family)
    with pytest.raises(ValueError, match="status"):
        services.case_update(actor=family, case=case, fields={"status": "reunited"})
    with pytest.raises(ValidationError):
        services.case_update(actor=family, case=case, fields={
            "birth_year_min": 1990, "birth_year_max": 1980})
    case.refresh_from_db()
    assert (case.birth_year_min, case.status) == (1986, CaseStatus.PUBLISHED)


@pytest.mark.django_db
def test_seeker_consent_is_stamped_and_taken_back(make_user):
    seeker = make_user()
    posting = builders.seeker_posting(seeker=seeker, consent_to_matching=False)
    assert posting.consented_at is None and not posting.is_matchable
    services.seeker_posting_update(actor=seeker, posting=posting,
                                   fields={"consent_to_matching": True})
    assert posting.consented_at is not None and posting.is_matchable
    services.seeker_posting_update(actor=seeker, posting=posting,
                                   fields={"consent_to_matching": False})
    assert posting.consented_at is None and not posting.is_matchable
    services.seeker_posting_withdraw(actor=seeker, posting=posting)
    posting.refresh_from_db()
    assert posting.status == CaseStatus.WITHDRAWN
    assert "seeker_posting.withdrawn" in actions(posting)


# --- Photos and matching facts --------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_publishing_a_draft_makes_its_processed_faces_searchable_and_matched(
    make_user, photo_bytes, redis_queues, run_worker
):
    """A case whose photos were processed while it was a draft is still matched once public."""
    family = make_user()
    case = builders.case(family=family, publish=False)
    photo = builders.photo(data=photo_bytes("img1.jpg"), case=case)
    run_worker(("face",))
    face = Face.objects.get(photo=photo)
    assert face.embedding is not None and not face.searchable
    services.case_publish(actor=family, case=case)
    face.refresh_from_db()
    assert face.searchable
    assert MatchJob.objects.filter(kind=MatchJob.Kind.MATCH_FACE, face=face).exists()
    services.case_withdraw(actor=family, case=case)
    face.refresh_from_db()
    assert not face.searchable


@pytest.mark.django_db(transaction=True)
def test_photo_update_and_delete(make_user, photo_bytes, media_root: Path, redis_queues):
    family = make_user()
    case = builders.case(family=family)
    photo = builders.photo(data=photo_bytes("img1.jpg"), case=case)
    stored = Path(photo.image.path)
    assert stored.is_file()
    services.photo_update(actor=family, photo=photo, fields={
        "kind": Photo.Kind.AGE_PROGRESSED, "age_in_photo": 30, "use_on_poster": False})
    photo.refresh_from_db()
    assert photo.is_estimate and not photo.use_on_poster
    photo_id = photo.pk
    services.photo_delete(actor=family, photo=photo)
    assert not Photo.objects.filter(pk=photo_id).exists()
    assert not stored.exists()
    assert AuditEntry.objects.filter(action="photo.deleted", object_id=str(photo_id)).exists()


@pytest.mark.django_db(transaction=True)
def test_a_seeker_is_matched_only_with_consent_and_only_chosen_photos(
    make_user, photo_bytes, redis_queues, run_worker
):
    seeker = make_user()
    posting = builders.seeker_posting(seeker=seeker, consent_to_matching=False)
    photo = builders.photo(data=photo_bytes("img3.jpg"), posting=posting)
    run_worker(("face",))
    face = Face.objects.get(photo=photo)
    assert face.embedding is not None and not face.searchable
    assert not MatchJob.objects.filter(kind=MatchJob.Kind.MATCH_FACE).exists()
    services.seeker_posting_update(actor=seeker, posting=posting,
                                   fields={"consent_to_matching": True})
    face.refresh_from_db()
    assert face.searchable
    assert MatchJob.objects.filter(kind=MatchJob.Kind.MATCH_FACE, face=face).count() == 1
    services.photo_update(actor=seeker, photo=photo, fields={"use_in_matching": False})
    face.refresh_from_db()
    assert not face.searchable
