"""Sign-up, email confirmation, log-in/out, password reset and the private profile."""

from __future__ import annotations

import re

import pytest
from django.core import mail
from django.test import Client
from django.urls import reverse
from django.utils import translation

from families.models import AuditEntry, User

pytestmark = pytest.mark.django_db(transaction=True)

PASSWORD = "a long enough password 1"


def _link(body: str) -> str:
    return re.search(r"https?://\S+", body).group(0).split("://", 1)[1].split("/", 1)[1]


def test_sign_up_confirm_and_post(client, settings, real_password_hashing):
    """With the portal's own password hashing (the other tests use a fast one)."""
    settings.SITE_URL = "http://testserver"
    response = client.post(reverse("families:signup"), {
        "email": "Mother@Example.org", "full_name": "Li Hua", "password1": PASSWORD,
        "password2": PASSWORD, "preferred_language": "en",
    })
    assert response.status_code == 302
    assert response["Location"] == reverse("families:signup_done")
    assert client.get(response["Location"]).status_code == 200
    user = User.objects.get(email="mother@example.org")
    assert user.email_confirmed_at is None
    assert user.password.startswith("pbkdf2_sha256$1000000$"), "a full-strength hash"
    # Sign-up logs nobody in (its answer must not differ for a taken address); log in.
    assert "_auth_user_id" not in client.session
    response = client.post(reverse("login"), {"username": "mother@example.org",
                                              "password": PASSWORD})
    assert response.status_code == 302
    # Before confirming, posting is refused with a message.
    response = client.get(reverse("families:case_create"), follow=True)
    assert response.redirect_chain[-1][0] == reverse("families:dashboard")
    assert "confirm your email" in response.content.decode()

    assert len(mail.outbox) == 1
    response = client.get("/" + _link(mail.outbox[0].body), follow=True)
    assert response.redirect_chain[-1][0] == reverse("families:dashboard")
    user.refresh_from_db()
    assert user.email_confirmed_at is not None
    assert client.get(reverse("families:case_create")).status_code == 200


def test_a_bad_confirmation_link_is_refused(client):
    response = client.get(reverse("families:confirm_email", args=["not-a-token"]))
    assert response.status_code == 400
    assert "not valid" in response.content.decode()
    response = client.get(reverse("families:confirm_email_change", args=["not-a-token"]))
    assert response.status_code == 400
    assert "not valid" in response.content.decode()


SIGN_UP = {"full_name": "Li Hua", "password1": PASSWORD, "password2": PASSWORD,
           "preferred_language": "en"}


def _visible(response) -> tuple:
    """What a visitor can tell of an answer: status, where it leads, its cookies, its page."""
    return (response.status_code, response.get("Location"), sorted(response.cookies),
            response.content)


def test_sign_up_answers_the_same_whether_the_address_has_an_account(
    client, make_user, settings
):
    settings.SITE_URL = "http://testserver"
    owner = make_user(email="mother@example.org", password=PASSWORD, full_name="Li Hua")
    new = client.post(reverse("families:signup"), {**SIGN_UP, "email": "father@example.org"})
    taken = client.post(reverse("families:signup"), {**SIGN_UP, "email": "Mother@Example.org"})
    assert _visible(taken) == _visible(new)
    assert new["Location"] == reverse("families:signup_done")
    page = client.get(reverse("families:signup_done"))
    assert page.status_code == 200 and "mother@example.org" in page.content.decode()

    assert User.objects.filter(email__iexact="mother@example.org").count() == 1
    owner.refresh_from_db()
    assert owner.check_password(PASSWORD)  # nothing about the account changed
    assert [message.to for message in mail.outbox] == [["father@example.org"],
                                                       ["mother@example.org"]]
    warning = mail.outbox[1]
    assert "tried to sign up" in warning.subject
    assert "/confirm/" not in warning.body
    response = client.get("/" + _link(warning.body.split("choose a new one here:")[1]))
    assert response.status_code == 200 and "password" in response.content.decode().lower()
    assert AuditEntry.objects.filter(action="user.sign_up_refused_address_in_use",
                                     object_id=str(owner.pk)).exists()


def test_changing_the_email_confirms_the_new_address_first(client, make_user, settings):
    settings.SITE_URL = "http://testserver"
    user = make_user(email="mother@example.org", password=PASSWORD, full_name="Li Hua")
    client.force_login(user)
    form = {"full_name": "Li Hua", "email": "New@Example.org", "phone": "", "address": "",
            "preferred_language": "en"}
    response = client.post(reverse("families:profile"), form, follow=True)
    assert response.status_code == 200
    assert "We sent an email to new@example.org" in response.content.decode()
    user.refresh_from_db()
    assert (user.email, user.pending_email) == ("mother@example.org", "new@example.org")
    # Until the link is opened, the old address is the account's: it still logs in.
    client.logout()
    assert client.post(reverse("login"), {"username": "mother@example.org",
                                          "password": PASSWORD}).status_code == 302
    assert [message.to for message in mail.outbox] == [["new@example.org"]]
    link = "/" + _link(mail.outbox[0].body)
    assert "/confirm/new-address/" in link

    # Anyone opening the link (it logs nobody in) makes the new address the account's.
    other = Client()
    response = other.get(link)
    assert response.status_code == 302 and response["Location"] == reverse("login")
    user.refresh_from_db()
    assert (user.email, user.pending_email) == ("new@example.org", "")
    assert user.email_confirmed_at is not None
    assert "_auth_user_id" not in other.session
    assert mail.outbox[-1].to == ["mother@example.org"]  # the old address is told
    assert "changed" in mail.outbox[-1].subject
    assert other.get(link).status_code == 400  # once only
    assert AuditEntry.objects.filter(action="user.email_changed", actor=user).exists()


def test_the_profile_never_says_whether_an_address_is_taken(client, make_user, settings):
    settings.SITE_URL = "http://testserver"
    make_user(email="taken@example.org", full_name="Wang Fang")
    user = make_user(email="mother@example.org", password=PASSWORD)
    client.force_login(user)
    base = {"full_name": "", "phone": "", "address": "", "preferred_language": "en"}

    def change_to(address: str) -> tuple:
        response = client.post(reverse("families:profile"), {**base, "email": address},
                               follow=True)
        page = response.content.decode().replace(address, "ADDRESS")
        page = re.sub(r'name="csrfmiddlewaretoken" value="[^"]+"', "", page)
        return response.status_code, response.redirect_chain, page

    free = change_to("free@example.org")
    taken = change_to("taken@example.org")
    assert free == taken
    assert free[0] == 200 and "already" not in free[2] and "Another account" not in free[2]
    user.refresh_from_db()
    assert (user.email, user.pending_email) == ("mother@example.org", "taken@example.org")

    # No link goes to the taken address; its owner is told someone tried to use it.
    free_mail, taken_mail = mail.outbox
    assert free_mail.to == ["free@example.org"] and "/confirm/new-address/" in free_mail.body
    assert taken_mail.to == ["taken@example.org"]
    assert "/confirm/new-address/" not in taken_mail.body
    assert "tried to use your email address" in taken_mail.subject
    # The link sent to the free address died when another address was asked for.
    assert client.get("/" + _link(free_mail.body)).status_code == 400
    user.refresh_from_db()
    assert user.email == "mother@example.org"

    # Typing the current address again cancels the pending change.
    client.post(reverse("families:profile"), {**base, "email": "mother@example.org"})
    user.refresh_from_db()
    assert user.pending_email == ""


def test_sign_up_errors_are_shown_beside_the_fields_and_nothing_is_saved(client):
    response = client.post(reverse("families:signup"), {
        "email": "not an email", "password1": "short", "password2": "other",
        "preferred_language": "en",
    })
    assert response.status_code == 200
    page = response.content.decode()
    assert 'id="id_email_error_1"' in page and "valid email address" in page
    assert "The two passwords differ." in page
    assert not User.objects.exists()


def test_log_in_by_email_and_log_out(client, make_user):
    make_user(email="family@example.org", password=PASSWORD)
    response = client.post(reverse("login"), {"username": "family@example.org",
                                              "password": PASSWORD})
    assert response.status_code == 302
    assert response["Location"] == reverse("families:dashboard")
    assert client.get(reverse("families:dashboard")).status_code == 200
    client.post(reverse("logout"))
    response = client.get(reverse("families:dashboard"))
    assert response.status_code == 302 and reverse("login") in response["Location"]


def test_password_reset(client, make_user):
    make_user(email="family@example.org", password=PASSWORD)
    response = client.post(reverse("password_reset"), {"email": "family@example.org"})
    assert response.status_code == 302
    assert len(mail.outbox) == 1
    link = "/" + _link(mail.outbox[0].body)
    response = client.get(link, follow=True)
    assert response.status_code == 200
    form_url = response.redirect_chain[-1][0]
    response = client.post(form_url, {"new_password1": "another long password 2",
                                      "new_password2": "another long password 2"})
    assert response.status_code == 302
    client.logout()
    response = client.post(reverse("login"), {"username": "family@example.org",
                                              "password": "another long password 2"})
    assert response.status_code == 302
    assert response["Location"] == reverse("families:dashboard")


def test_profile_is_private_and_audited_when_changed(client, make_user):
    user = make_user()
    client.force_login(user)
    response = client.post(reverse("families:profile"), {
        "full_name": "Li Hua", "email": user.email, "phone": "+86 139 0000 0000",
        "address": "1 Road", "preferred_language": "zh-hans",
    })
    assert response.status_code == 302
    user.refresh_from_db()
    assert (user.phone, user.preferred_language) == ("+86 139 0000 0000", "zh-hans")
    assert AuditEntry.objects.filter(action="user.profile_updated", actor=user).exists()
    client.logout()
    assert client.get(reverse("families:profile")).status_code == 302


def test_pages_in_chinese(client, make_user):
    # The request activates Chinese in this thread; the override puts English back after it.
    with translation.override("zh-hans"):
        response = client.get(reverse("families:signup"))
    assert reverse("families:signup") == "/signup/"
    assert response.status_code == 200
    assert response.headers["Content-Language"] == "zh-hans"
    page = response.content.decode()
    assert 'lang="zh-hans"' in page
    assert "注册" in page


def test_a_confirmation_link_never_logs_anyone_in(client, make_user):
    from families.tokens import email_confirmation_token

    user = make_user()
    url = reverse("families:confirm_email", args=[email_confirmation_token(user)])
    response = client.get(url)
    assert response["Location"] == reverse("login")
    user.refresh_from_db()
    assert user.email_confirmed_at is not None
    assert client.get(reverse("families:dashboard")).status_code == 302  # still logged out
    response = client.get(url, follow=True)
    assert "already confirmed" in response.content.decode()


def _po_entries(path):
    """(msgid, msgstrs, fuzzy) of each entry of a .po file, header and obsolete entries left
    out; a message with a context is keyed as the compiled catalogue keys it."""
    import json as json_module

    entries = []
    for block in path.read_text(encoding="utf-8").split("\n\n"):
        fields: dict[str, str] = {}
        current = None
        for line in block.splitlines():
            match = re.match(r'^(msgid|msgid_plural|msgstr(?:\[\d+\])?|msgctxt) (".*")$', line)
            if match:
                current = match.group(1)
                fields[current] = json_module.loads(match.group(2))
            elif line.startswith('"') and current:
                fields[current] += json_module.loads(line)
        if fields.get("msgid") and not block.lstrip().startswith("#~"):
            strs = [value for key, value in fields.items() if key.startswith("msgstr")]
            # A message with a context is compiled under "context\x04message".
            key = (f"{fields['msgctxt']}\x04{fields['msgid']}" if "msgctxt" in fields
                   else fields["msgid"])
            entries.append((key, strs, "#, fuzzy" in block or ", fuzzy" in block))
    return entries


def test_the_chinese_catalogue_is_complete_and_compiled():
    import gettext
    from pathlib import Path

    from django.conf import settings

    folder = Path(settings.LOCALE_PATHS[0]) / "zh_Hans" / "LC_MESSAGES"
    entries = _po_entries(folder / "django.po")
    assert len(entries) > 500
    assert [msgid for msgid, _strs, fuzzy in entries if fuzzy] == []
    assert [msgid for msgid, strs, _fuzzy in entries if not all(strs)] == []
    with open(folder / "django.mo", "rb") as handle:
        compiled = gettext.GNUTranslations(handle)
    catalog = compiled._catalog
    assert [msgid for msgid, strs, _fuzzy in entries
            if catalog.get(msgid, catalog.get((msgid, 0))) != strs[0]] == []
