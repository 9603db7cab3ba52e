"""Tips: anyone sends a lead about a public case; only its volunteers read it, every look
audited; the family hears only what a volunteer passes on; programs and floods are refused."""

from __future__ import annotations

import io

import pytest
from django.contrib.auth.models import Group
from django.urls import reverse
from PIL import Image

from families.models import AuditEntry, Notification, Tip
from tests import builders

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def case(make_user):
    return builders.case(family=make_user(full_name="Li Hua"), missing_province="Shaanxi")


def _send(client, case, **extra):
    data = {"text": "I saw a boy like him at Xi'an station in 1991. http://example.org/x",
            "place": "Xi'an railway station", "when": "spring 1991",
            "contact": "+86 139 0000 1234", "website": "", **extra}
    return client.post(reverse("families:tip_create", args=[case.pk]), data)


def test_an_anonymous_tip_reaches_the_volunteers_of_the_province_only(
    client, case, make_user, photo_bytes, media_root
):
    response = _send(client, case, photo=io.BytesIO(photo_bytes("img1.jpg")))
    assert response.status_code == 302 and response["Location"] == case.get_absolute_url()
    tip = Tip.objects.get()
    assert (tip.case, tip.sender, tip.status) == (case, None, Tip.Status.NEW)
    # The photo went through the upload checks: re-encoded, no metadata, stored apart.
    assert tip.photo.name.startswith("tips/")
    with tip.photo.open("rb") as handle, Image.open(handle) as image:
        assert image.format == "JPEG" and not image.getexif()
    assert AuditEntry.objects.filter(action="tip.received", object_id=str(tip.pk)).exists()

    here = make_user(volunteer=True, review_provinces="Shaanxi")
    elsewhere = make_user(volunteer=True, review_provinces="Sichuan")
    client.force_login(here)
    queue = client.get(reverse("families:tips_queue"))
    assert [t.pk for t in queue.context["page"]] == [tip.pk]
    page = client.get(reverse("families:tip_detail", args=[tip.reference]))
    assert page.status_code == 200
    text = page.content.decode()
    assert "Xi&#x27;an station" in text and "+86 139 0000 1234" in text
    # A link in a tip is shown as text, never as a link.
    assert 'href="http://example.org/x"' not in text and "http://example.org/x" in text
    assert client.get(reverse("families:tip_photo", args=[tip.reference])).status_code == 200
    assert set(AuditEntry.objects.filter(actor=here).values_list("action", flat=True)) == {
        "tips.listed", "tip.viewed", "tip.photo_viewed"}
    client.force_login(elsewhere)
    assert list(client.get(reverse("families:tips_queue")).context["page"]) == []


def test_a_volunteer_of_another_province_never_reads_or_handles_a_tip(
    client, case, make_user, photo_bytes, media_root, superuser
):
    """Only the volunteers of the case's province (as candidates are told) and admins."""
    _send(client, case, photo=io.BytesIO(photo_bytes("img1.jpg")))
    tip = Tip.objects.get()
    elsewhere = make_user(volunteer=True, review_provinces="Sichuan, Hunan")
    client.force_login(elsewhere)
    detail = reverse("families:tip_detail", args=[tip.reference])
    assert client.get(detail).status_code == 404
    assert client.get(reverse("families:tip_photo", args=[tip.reference])).status_code == 404
    assert client.post(detail, {"step": "handle", "status": "useful"}).status_code == 404
    assert client.post(detail, {"step": "pass_on", "message": "News."}).status_code == 404
    tip.refresh_from_db()
    assert tip.status == Tip.Status.NEW and tip.passed_to_family_at is None
    assert not AuditEntry.objects.filter(actor=elsewhere).exists()
    # The province is compared as candidates' notices compare it: case and spaces aside;
    # a volunteer with no provinces set reviews them all, and so does an admin.
    for reader in (make_user(volunteer=True, review_provinces=" shaanxi ,Hunan"),
                   make_user(volunteer=True), superuser):
        client.force_login(reader)
        assert client.get(detail).status_code == 200
        assert [t.pk for t in client.get(reverse("families:tips_queue")).context["page"]] \
            == [tip.pk]


def test_the_family_hears_only_what_a_volunteer_passes_on(client, case, make_user):
    _send(client, case)
    tip = Tip.objects.get()
    family = case.family
    # The family, even as a volunteer, never reads the tip itself.
    family.groups.add(Group.objects.get_or_create(name="volunteer")[0])
    client.force_login(family)
    assert list(client.get(reverse("families:tips_queue")).context["page"]) == []
    for name in ("tip_detail", "tip_photo"):
        assert client.get(reverse(f"families:{name}", args=[tip.reference])).status_code == 404
    assert not Notification.objects.filter(recipient=family).exists()

    volunteer = make_user(volunteer=True)
    client.force_login(volunteer)
    url = reverse("families:tip_detail", args=[tip.reference])
    assert client.post(url, {"step": "handle", "status": "useful",
                             "note": "Station staff to be asked."}).status_code == 302
    assert client.post(url, {"step": "pass_on",
                             "message": "A lead from Xi'an is being followed up."}
                       ).status_code == 302
    tip.refresh_from_db()
    assert (tip.status, tip.handled_by, tip.volunteer_note) == (
        Tip.Status.USEFUL, volunteer, "Station staff to be asked.")
    notice = Notification.objects.get(recipient=family)
    assert notice.body == "A lead from Xi'an is being followed up."
    assert "station" not in notice.subject.lower() and "0000" not in notice.body
    assert (notice.about_type, notice.about_id) == ("families.missingchildcase", str(case.pk))


def test_a_program_filling_the_trap_is_thanked_and_nothing_is_kept(client, case):
    response = _send(client, case, website="http://spam.example")
    assert response.status_code == 302
    assert not Tip.objects.exists()


def test_a_refused_photo_keeps_nothing_and_says_why(client, case, media_root):
    response = _send(client, case, photo=io.BytesIO(b"<html>not a photo</html>"))
    assert response.status_code == 400
    assert response.context["form"].errors["photo"]
    assert not Tip.objects.exists()
    assert not any(path.is_file() for path in media_root.rglob("*"))


def test_no_tip_about_a_draft_or_with_too_long_a_text(client, make_user, case):
    draft = builders.case(family=make_user(), publish=False)
    assert client.get(reverse("families:tip_create", args=[draft.pk])).status_code == 404
    assert _send(client, draft).status_code == 404
    response = _send(client, case, text="x" * 4001)
    assert response.status_code == 400 and not Tip.objects.exists()


def test_tips_past_a_limit_are_held_never_refused(client, make_user, abuse_limits):
    abuse_limits.RATE_LIMITS = {**abuse_limits.RATE_LIMITS, "tip": "2/h", "tip_case": "3/h"}
    first, second = builders.case(family=make_user()), builders.case(family=make_user())
    assert [_send(client, first).status_code for _ in range(3)] == [302, 302, 302]
    assert list(Tip.objects.order_by("pk").values_list("held_for_review", flat=True)) == [
        False, False, True], "the third from one address is kept, held for review"

    # Other addresses together are still bounded per case (3 an hour: one more here).
    def send_from(address: str, target, text: str) -> int:
        return client.post(reverse("families:tip_create", args=[target.pk]),
                           {"text": text, "website": ""}, REMOTE_ADDR=address).status_code

    assert [send_from(f"203.0.113.{n}", first, f"seen {n}") for n in range(1, 4)] == [
        302, 302, 302]
    assert list(Tip.objects.filter(text__startswith="seen ").order_by("pk").values_list(
        "text", "held_for_review")) == [("seen 1", False), ("seen 2", True), ("seen 3", True)]
    assert send_from("198.51.100.7", second, "elsewhere") == 302
    assert not Tip.objects.get(text="elsewhere").held_for_review

    # The volunteers see every tip, the held ones after the other new ones, marked.
    volunteer = make_user(volunteer=True)
    client.force_login(volunteer)
    queue = client.get(reverse("families:tips_queue"))
    listed = [tip.held_for_review for tip in queue.context["page"]]
    assert len(listed) == 7 and listed == sorted(listed)
    assert "held: sent past a limit" in queue.content.decode()


def test_bots_can_t_close_a_case_s_tip_form(client, make_user, abuse_limits):
    """Trapped and invalid posts count against no limit: a witness's tip goes in as usual."""
    abuse_limits.RATE_LIMITS = {**abuse_limits.RATE_LIMITS, "tip": "2/h", "tip_case": "3/h"}
    case = builders.case(family=make_user())
    url = reverse("families:tip_create", args=[case.pk])
    for number in range(10):
        address = f"198.51.100.{number + 1}"
        trapped = client.post(url, {"text": "buy now", "website": "http://spam.example"},
                              REMOTE_ADDR=address)
        invalid = client.post(url, {"text": "", "website": ""}, REMOTE_ADDR=address)
        assert (trapped.status_code, invalid.status_code) == (302, 400)
    assert not Tip.objects.exists()
    response = client.post(url, {"text": "I saw him in Lanzhou", "website": ""},
                           REMOTE_ADDR="198.51.100.1")
    assert response.status_code == 302
    assert Tip.objects.get().held_for_review is False


def test_deleting_the_case_deletes_its_tips_and_their_photos(
    client, case, photo_bytes, media_root
):
    from families.services import case_delete

    _send(client, case, photo=io.BytesIO(photo_bytes("img2.jpg")))
    assert any(media_root.rglob("tips/*.jpg"))
    case_delete(actor=case.family, case=case)
    assert not Tip.objects.exists()
    assert not any(media_root.rglob("tips/*.jpg"))
