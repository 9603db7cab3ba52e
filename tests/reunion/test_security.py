"""Production settings pass ``check --deploy``; cookies are secure; HSTS is sent; every form
needs its CSRF token; sign-up, log-in, password reset and uploads are rate-limited; repeated
wrong passwords lock the log-in.
"""

from __future__ import annotations

import io
import json
import logging
import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest
from django.core import mail
from django.db import connection
from django.test import Client
from django.urls import reverse

from families.models import Photo
from tests import builders

BASE_DIR = Path(__file__).resolve().parents[2]
HOST = "reunion.example.org"
PASSWORD = "a long enough password 1"


def _production_env(tmp_path: Path, **extra: str) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if not key.startswith("DJANGO_")}
    env.pop("SECURE_SSL_REDIRECT", None)
    env.pop("SILENCED_SYSTEM_CHECKS", None)
    env.update({
        "DJANGO_SETTINGS_MODULE": "reunion.settings",
        "DEBUG": "false",
        "SECRET_KEY": secrets.token_urlsafe(60),
        "ALLOWED_HOSTS": HOST,
        "STATIC_ROOT": str(tmp_path / "static"),
        "MEDIA_ROOT": str(tmp_path / "media"),
        **extra,
    })
    return env


def _run(command: list[str], env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run(
        command, cwd=BASE_DIR, env=env, capture_output=True, text=True, timeout=300
    )


def test_check_deploy_is_clean_with_production_settings(tmp_path):
    result = _run([sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
                  _production_env(tmp_path))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues (0 silenced)." in result.stdout


def test_check_deploy_would_catch_an_unsafe_setting(tmp_path):
    """The check above can fail: a short key and a missing HSTS header are reported."""
    env = _production_env(tmp_path, SECRET_KEY="short", SECURE_HSTS_SECONDS="0")
    result = _run([sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
                  env)
    assert result.returncode != 0
    assert "security.W009" in result.stderr and "security.W004" in result.stderr


PRODUCTION_REQUESTS = """
import json, django
django.setup()
from django.test import Client
from django.conf import settings

client = Client(HTTP_HOST="{host}")
plain = client.get("/accounts/login/")
page = client.get("/accounts/login/", secure=True)
logged_in = client.post(
    "/accounts/login/", {{"username": "{email}", "password": "{password}"}}, secure=True
)
def cookie(response, name):
    morsel = response.cookies.get(name)
    return None if morsel is None else {{
        "secure": bool(morsel["secure"]), "httponly": bool(morsel["httponly"]),
        "samesite": morsel["samesite"],
    }}
print(json.dumps({{
    "plain": [plain.status_code, plain.get("Location", "")],
    "page": page.status_code,
    "hsts": page.get("Strict-Transport-Security", ""),
    "frame": page.get("X-Frame-Options", ""),
    "nosniff": page.get("X-Content-Type-Options", ""),
    "referrer": page.get("Referrer-Policy", ""),
    "csrf_cookie": cookie(page, settings.CSRF_COOKIE_NAME),
    "login": [logged_in.status_code, logged_in.get("Location", "")],
    "session_cookie": cookie(logged_in, settings.SESSION_COOKIE_NAME),
}}))
"""


@pytest.mark.slow  # collectstatic, then a production process
@pytest.mark.django_db(transaction=True)
def test_production_sends_hsts_and_secure_cookies_only_over_https(
    tmp_path, make_user, real_password_hashing
):
    """A real production process: HTTP is redirected, HTTPS pages carry HSTS, cookies are
    Secure and HttpOnly where they can be. (It checks the password with the portal's own
    hashers, so the user is made with them.)"""
    user = make_user(password=PASSWORD)
    env = _production_env(tmp_path, REUNION_DB_NAME=connection.settings_dict["NAME"])
    collected = _run([sys.executable, "manage.py", "collectstatic", "--noinput"], env)
    assert collected.returncode == 0, collected.stderr
    script = PRODUCTION_REQUESTS.format(host=HOST, email=user.email, password=PASSWORD)
    result = _run([sys.executable, "-c", script], env)
    assert result.returncode == 0, result.stderr
    seen = json.loads(result.stdout.strip().splitlines()[-1])

    assert seen["plain"] == [301, f"https://{HOST}/accounts/login/"]
    assert seen["page"] == 200
    assert seen["hsts"] == "max-age=31536000; includeSubDomains; preload"
    assert seen["frame"] == "DENY"
    assert seen["nosniff"] == "nosniff"
    assert seen["referrer"] == "same-origin"
    assert seen["csrf_cookie"]["secure"] is True
    assert seen["login"][0] == 302, seen
    assert seen["session_cookie"] == {"secure": True, "httponly": True, "samesite": "Lax"}


# --- CSRF -------------------------------------------------------------------------------


def _confirmed(user):
    from django.utils import timezone

    user.email_confirmed_at = timezone.now()
    user.save(update_fields=["email_confirmed_at"])
    return user


def _jpeg(name: str = "photo.jpg") -> io.BytesIO:
    """A small JPEG as a browser uploads it: a named file."""
    out = io.BytesIO(builders.jpeg())
    out.name = name
    return out


def _csrf_token(client: Client, url: str) -> str:
    response = client.get(url)
    assert response.status_code == 200, (url, response.status_code)
    return response.cookies["csrftoken"].value if "csrftoken" in response.cookies else (
        client.cookies["csrftoken"].value
    )


@pytest.mark.django_db
def test_forms_refuse_posts_without_a_csrf_token(make_user):
    family = _confirmed(make_user(password=PASSWORD))
    case = builders.case(family=family)
    anonymous = Client(enforce_csrf_checks=True)
    member = Client(enforce_csrf_checks=True)
    member.force_login(family)
    posts = [
        (anonymous, reverse("families:signup"), {"email": "new@example.org",
                                                 "password1": PASSWORD, "password2": PASSWORD}),
        (anonymous, reverse("login"), {"username": family.email, "password": PASSWORD}),
        (anonymous, reverse("password_reset"), {"email": family.email}),
        (member, reverse("families:case_photos", args=[case.pk]),
         {"image": _jpeg(), "kind": Photo.Kind.CHILDHOOD, "age_in_photo": "3"}),
        (member, reverse("families:case_withdraw", args=[case.pk]), {"reason": "found"}),
    ]
    for client, url, data in posts:
        response = client.post(url, data)
        assert response.status_code == 403, url
        assert b"CSRF" in response.content, url
    assert Photo.objects.count() == 0
    assert len(mail.outbox) == 0
    case.refresh_from_db()
    assert case.status == "published"

    # With the token the same posts go through: the refusals above were the token's doing.
    token = _csrf_token(member, reverse("families:case_photos", args=[case.pk]))
    response = member.post(reverse("families:case_photos", args=[case.pk]),
                           {"image": _jpeg(), "kind": Photo.Kind.CHILDHOOD,
                            "age_in_photo": "3", "csrfmiddlewaretoken": token})
    assert response.status_code == 302
    assert Photo.objects.count() == 1


# --- Rate limits ----------------------------------------------------------------------


@pytest.mark.django_db
def test_sign_up_is_rate_limited_per_address(client, abuse_limits):
    abuse_limits.RATE_LIMITS = {**abuse_limits.RATE_LIMITS, "signup": "3/h"}
    url = reverse("families:signup")
    for number in range(3):
        response = client.post(url, {"email": f"not-an-address-{number}"})
        assert response.status_code == 200  # the form, with its errors
    refused = client.post(url, {"email": "not-an-address"})
    assert refused.status_code == 429
    assert b"Too many attempts" in refused.content
    assert refused["Retry-After"]
    assert client.get(url).status_code == 200, "showing the form is not limited"
    other = Client(REMOTE_ADDR="203.0.113.9")
    assert other.post(url, {"email": "x"}).status_code == 200, "another address is not limited"


@pytest.mark.django_db
def test_log_in_is_rate_limited_per_address_and_per_account(make_user, abuse_limits):
    abuse_limits.RATE_LIMITS = {**abuse_limits.RATE_LIMITS, "login": "4/h", "login_account": "3/h"}
    abuse_limits.AXES_FAILURE_LIMIT = 100  # this test is about the rate limits
    url = reverse("login")
    one_address = Client(REMOTE_ADDR="198.51.100.1")
    for number in range(4):
        response = one_address.post(url, {"username": f"u{number}@example.org", "password": "x"})
        assert response.status_code == 200
    assert one_address.post(url, {"username": "u9@example.org", "password": "x"}).status_code == 429

    target = make_user(password=PASSWORD)
    spread = [Client(REMOTE_ADDR=f"192.0.2.{number + 10}") for number in range(3)]
    for guesser in spread:
        assert guesser.post(url, {"username": target.email.upper(), "password": "x"}
                            ).status_code == 200
    # The account's wrong passwords are used up: an address that gave one is refused
    # without its password being checked, whatever the account's spelling.
    refused = spread[0].post(url, {"username": f" {target.email} ", "password": PASSWORD})
    assert refused.status_code == 429 and "_auth_user_id" not in spread[0].session
    # Any other address still has its password checked: a wrong one is told so...
    assert Client(REMOTE_ADDR="192.0.2.99").post(
        url, {"username": target.email, "password": "x"}).status_code == 200
    # ...and the owner's right one gets in.
    home = Client(REMOTE_ADDR="203.0.113.50")
    assert home.post(url, {"username": target.email, "password": PASSWORD}).status_code == 302
    assert int(home.session["_auth_user_id"]) == target.pk


@pytest.mark.django_db
def test_wrong_passwords_from_one_address_never_keep_the_owner_out(make_user, abuse_limits):
    """The default limits: 20 wrong passwords from one address, then the owner elsewhere."""
    family = make_user(password=PASSWORD)
    url = reverse("login")
    attacker = Client(REMOTE_ADDR="198.51.100.66")
    for number in range(20):
        attacker.post(url, {"username": family.email, "password": f"guess {number}"})
    home = Client(REMOTE_ADDR="203.0.113.66")
    response = home.post(url, {"username": family.email, "password": PASSWORD})
    assert response.status_code == 302
    assert int(home.session["_auth_user_id"]) == family.pk


@pytest.mark.django_db
def test_wrong_passwords_from_many_addresses_never_keep_the_owner_out(make_user, abuse_limits):
    abuse_limits.RATE_LIMITS = {**abuse_limits.RATE_LIMITS, "login_account": "5/h"}
    family = make_user(password=PASSWORD)
    url = reverse("login")
    for number in range(20):
        Client(REMOTE_ADDR=f"198.51.100.{number + 100}").post(
            url, {"username": family.email, "password": f"guess {number}"})
    home = Client(REMOTE_ADDR="203.0.113.67")
    assert home.post(url, {"username": family.email, "password": PASSWORD}).status_code == 302
    # Guessing while signed in to one's own account counts all the same.
    abuse_limits.RATE_LIMITS = {**abuse_limits.RATE_LIMITS, "login_account": "1/h"}
    other = make_user(password=PASSWORD)
    signed_in = Client(REMOTE_ADDR="198.51.100.200")
    signed_in.force_login(make_user())
    assert signed_in.post(url, {"username": other.email, "password": "x"}).status_code == 200
    assert signed_in.post(url, {"username": other.email, "password": "y"}).status_code == 429
    abuse_limits.RATE_LIMITS = {**abuse_limits.RATE_LIMITS, "login_account": "5/h"}
    # Right passwords never count against the account.
    for number in range(8):
        other = Client(REMOTE_ADDR=f"203.0.113.{number + 100}")
        assert other.post(url, {"username": family.email, "password": PASSWORD}
                          ).status_code == 302


@pytest.mark.django_db
def test_password_reset_is_rate_limited_per_account(make_user, abuse_limits):
    abuse_limits.RATE_LIMITS = {**abuse_limits.RATE_LIMITS, "password_reset_account": "2/h"}
    family = make_user(password=PASSWORD)
    url = reverse("password_reset")
    statuses = [
        Client(REMOTE_ADDR=f"192.0.2.{number}").post(url, {"email": family.email}).status_code
        for number in range(1, 5)
    ]
    # The answer never changes (the owner is never told to go away); the emails stop.
    assert statuses == [302, 302, 302, 302]
    assert len(mail.outbox) == 2, "no more reset emails than the limit"
    # The links already sent still work: the owner resets the password.
    link = next(line for line in mail.outbox[0].body.splitlines() if "/reset/" in line)
    owner = Client(REMOTE_ADDR="203.0.113.70")
    form_page = owner.get(link.strip()[link.strip().index("/accounts/"):], follow=True)
    assert form_page.status_code == 200
    new_password = "a brand new long password 2"
    done = owner.post(form_page.redirect_chain[-1][0],
                      {"new_password1": new_password, "new_password2": new_password})
    assert done.status_code == 302
    family.refresh_from_db()
    assert family.check_password(new_password)


@pytest.mark.django_db(transaction=True)
def test_nobody_keeps_an_address_s_owner_from_signing_up(abuse_limits):
    """Sign-ups naming an address, invalid or not, never refuse its owner's own."""
    abuse_limits.RATE_LIMITS = {**abuse_limits.RATE_LIMITS, "signup_account": "2/h"}
    from families.models import User

    url = reverse("families:signup")
    email = "owner@example.org"
    for number in range(5):  # invalid: the passwords differ
        response = Client(REMOTE_ADDR=f"192.0.2.{number + 1}").post(url, {
            "email": email, "password1": PASSWORD, "password2": "other", "full_name": "",
            "preferred_language": "en"})
        assert response.status_code == 200
    assert not User.objects.filter(email=email).exists()
    owner = Client(REMOTE_ADDR="203.0.113.80")
    response = owner.post(url, {"email": email, "password1": PASSWORD, "password2": PASSWORD,
                                "full_name": "", "preferred_language": "en"})
    assert response.status_code == 302
    assert User.objects.get(email=email).check_password(PASSWORD)
    assert [message.to for message in mail.outbox] == [[email]]


@pytest.mark.django_db
def test_uploads_are_rate_limited_per_account(make_user, abuse_limits):
    abuse_limits.RATE_LIMITS = {**abuse_limits.RATE_LIMITS, "upload": "2/h"}
    family = _confirmed(make_user(password=PASSWORD))
    case = builders.case(family=family)
    client = Client()
    client.force_login(family)
    url = reverse("families:case_photos", args=[case.pk])
    upload = {"kind": Photo.Kind.CHILDHOOD, "age_in_photo": "3"}
    statuses = [client.post(url, {**upload, "image": _jpeg()}).status_code for _ in range(3)]
    assert statuses == [302, 302, 429]
    assert Photo.objects.filter(case=case).count() == 2
    assert client.get(url).status_code == 200, "the page itself still shows"


@pytest.mark.django_db
def test_rate_limits_fail_open_when_the_cache_is_unreachable(settings, abuse_limits, caplog):
    settings.CACHES = {"default": {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": "redis://127.0.0.1:1/0",
    }}
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "signup": "1/h"}
    with caplog.at_level(logging.WARNING, logger="reunion.ratelimits"):
        for _ in range(3):
            assert Client().post(reverse("families:signup"), {"email": "x"}).status_code == 200
    assert "cache unavailable" in caplog.text


# --- Lock-out -----------------------------------------------------------------------


@pytest.mark.django_db
def test_repeated_wrong_passwords_lock_the_log_in(make_user, abuse_limits):
    from axes.models import AccessAttempt

    abuse_limits.AXES_FAILURE_LIMIT = 5
    family = make_user(password=PASSWORD)
    url = reverse("login")
    attacker = Client(REMOTE_ADDR="198.51.100.7")
    statuses = [attacker.post(url, {"username": family.email, "password": f"guess {n}"}
                              ).status_code for n in range(5)]
    assert statuses == [200, 200, 200, 200, 429]
    locked = attacker.post(url, {"username": family.email, "password": PASSWORD})
    assert locked.status_code == 429, "even the right password is refused while locked"
    assert b"Log-in paused" in locked.content and b"30 minutes" in locked.content
    assert "_auth_user_id" not in attacker.session
    assert AccessAttempt.objects.get(username=family.email).failures_since_start >= 5

    # The family, from its own address, is not locked out by the attacker.
    home = Client(REMOTE_ADDR="203.0.113.20")
    response = home.post(url, {"username": family.email, "password": PASSWORD})
    assert response.status_code == 302
    assert int(home.session["_auth_user_id"]) == family.pk


@pytest.mark.django_db
def test_a_request_far_over_the_photo_limit_is_refused_unread(make_user, settings, media_root):
    family = _confirmed(make_user(password=PASSWORD))
    case = builders.case(family=family)
    client = Client()
    client.force_login(family)
    huge = io.BytesIO(b"\xff\xd8" + b"\0" * (settings.REQUEST_MAX_BYTES + 1))
    huge.name = "huge.jpg"
    response = client.post(reverse("families:case_photos", args=[case.pk]),
                           {"image": huge, "kind": Photo.Kind.CHILDHOOD, "age_in_photo": "1"})
    assert response.status_code == 413
    assert b"The file is too large" in response.content and b"at most 20 MB" in response.content
    assert Photo.objects.count() == 0 and not any(media_root.rglob("*.jpg"))


# --- The client's address -------------------------------------------------------------

PROXY = "10.0.0.2"


def _wrong_password(client: Client, email: str) -> int:
    return client.post(reverse("login"), {"username": email, "password": "a guess"}).status_code


def _right_password(client: Client, email: str) -> int:
    return client.post(reverse("login"), {"username": email, "password": PASSWORD}).status_code


def test_client_ip_believes_only_the_configured_proxies(settings):
    from django.test import RequestFactory

    from reunion.ratelimits import client_ip

    def ip(forwarded: str | None, remote: str = PROXY) -> str:
        extra = {} if forwarded is None else {"HTTP_X_FORWARDED_FOR": forwarded}
        return client_ip(RequestFactory().get("/", REMOTE_ADDR=remote, **extra))

    settings.TRUSTED_PROXY_HEADER = ""
    assert ip("203.0.113.5") == PROXY  # off by default: the header is anyone's to write
    settings.TRUSTED_PROXY_HEADER = "X-Forwarded-For"
    settings.TRUSTED_PROXY_COUNT = 1
    assert ip("203.0.113.5") == "203.0.113.5"
    assert ip("198.51.100.1, 203.0.113.5") == "203.0.113.5"  # what the client wrote is ignored
    assert ip(None) == PROXY and ip("not an address") == PROXY
    settings.TRUSTED_PROXY_COUNT = 2
    assert ip("198.51.100.1, 203.0.113.5, 10.0.0.9") == "203.0.113.5"
    assert ip("203.0.113.5") == PROXY  # too few hops: it did not come through both proxies
    settings.TRUSTED_PROXY_HEADER = "X-Real-Client"
    settings.TRUSTED_PROXY_COUNT = 1
    request = RequestFactory().get("/", REMOTE_ADDR=PROXY, HTTP_X_REAL_CLIENT="2001:db8::7")
    assert client_ip(request) == "2001:db8::7"


@pytest.mark.django_db
def test_without_a_trusted_proxy_a_forged_forwarded_header_changes_nothing(
    make_user, abuse_limits
):
    abuse_limits.AXES_FAILURE_LIMIT = 3
    family = make_user(password=PASSWORD)
    # A new X-Forwarded-For on each guess does not make the attacker a new address...
    statuses = [
        _wrong_password(Client(REMOTE_ADDR="198.51.100.7",
                               HTTP_X_FORWARDED_FOR=f"203.0.113.{n}"), family.email)
        for n in range(3)
    ]
    assert statuses == [200, 200, 429]
    # ...nor lets it lock the family's own address out.
    assert _right_password(Client(REMOTE_ADDR="203.0.113.1"), family.email) == 302

    abuse_limits.RATE_LIMITS = {**abuse_limits.RATE_LIMITS, "signup": "2/h"}
    url = reverse("families:signup")
    forged = [Client(REMOTE_ADDR="198.51.100.7", HTTP_X_FORWARDED_FOR=f"192.0.2.{n}")
              .post(url, {"email": "x"}).status_code for n in range(3)]
    assert forged == [200, 200, 429]


@pytest.mark.django_db
def test_behind_the_trusted_proxy_one_clients_failures_lock_no_one_else(
    make_user, abuse_limits
):
    """Every request comes from the proxy's address; the proxy appends the client's."""
    from axes.models import AccessAttempt

    abuse_limits.AXES_FAILURE_LIMIT = 3
    family = make_user(password=PASSWORD)

    def via_proxy(header: str) -> Client:
        return Client(REMOTE_ADDR=PROXY, HTTP_X_FORWARDED_FOR=header)

    # Without the setting every visitor is the proxy: the attacker locks the family out.
    for _ in range(3):
        _wrong_password(via_proxy("198.51.100.7"), family.email)
    assert _right_password(via_proxy("203.0.113.20"), family.email) == 429
    AccessAttempt.objects.all().delete()

    abuse_limits.TRUSTED_PROXY_HEADER = "X-Forwarded-For"
    abuse_limits.TRUSTED_PROXY_COUNT = 1
    # The attacker's own left-hand entries (posing as the family) are not believed.
    statuses = [_wrong_password(via_proxy("203.0.113.20, 198.51.100.7"), family.email)
                for _ in range(3)]
    assert statuses == [200, 200, 429]
    assert set(AccessAttempt.objects.values_list("ip_address", flat=True)) == {"198.51.100.7"}
    assert _wrong_password(via_proxy("198.51.100.7"), family.email) == 429
    # The family, at its own address, is not locked out.
    home = via_proxy("203.0.113.20")
    assert _right_password(home, family.email) == 302
    assert int(home.session["_auth_user_id"]) == family.pk

    # The rate limits count the same address.
    abuse_limits.RATE_LIMITS = {**abuse_limits.RATE_LIMITS, "signup": "2/h"}
    url = reverse("families:signup")
    one = [via_proxy("192.0.2.1").post(url, {"email": "x"}).status_code for _ in range(3)]
    assert one == [200, 200, 429]
    assert via_proxy("192.0.2.2").post(url, {"email": "x"}).status_code == 200


# --- Rate limits on emails and CPU-heavy pages -------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_pages_that_send_email_are_rate_limited(make_user, abuse_limits):
    abuse_limits.RATE_LIMITS = {**abuse_limits.RATE_LIMITS, "confirmation_email": "2/h",
                                "email_change": "2/h", "signup_account": "2/h"}
    user = make_user(password=PASSWORD)
    client = Client()
    client.force_login(user)
    resend = [client.post(reverse("families:resend_confirmation")).status_code
              for _ in range(3)]
    assert resend == [302, 302, 429]
    assert len(mail.outbox) == 2

    profile = reverse("families:profile")
    details = {"full_name": "", "phone": "", "address": "", "preferred_language": "en"}
    changes = [client.post(profile, {**details, "email": f"new{n}@example.org"}).status_code
               for n in range(3)]
    assert changes == [302, 302, 429]
    assert len(mail.outbox) == 4
    # Saving other details (the waiting address unchanged) is not an email change.
    assert client.post(profile, {**details, "email": "new1@example.org",
                                 "phone": "123"}).status_code == 302

    # Sign-ups naming one address (each mails its owner), from many addresses.
    url = reverse("families:signup")
    form = {"email": user.email, "full_name": "", "password1": PASSWORD,
            "password2": PASSWORD, "preferred_language": "en"}
    signups = [Client(REMOTE_ADDR=f"192.0.2.{n}").post(url, form).status_code
               for n in range(1, 4)]
    assert signups == [302, 302, 302], "the answer is the same past the limit"
    assert len(mail.outbox) == 6, "but no more emails"


@pytest.mark.django_db
def test_the_poster_and_the_age_progression_are_rate_limited(
    make_user, abuse_limits, photo_bytes
):
    abuse_limits.RATE_LIMITS = {**abuse_limits.RATE_LIMITS, "poster": "2/h",
                                "age_progression": "2/h"}
    family = _confirmed(make_user(password=PASSWORD))
    case = builders.case(family=family)
    poster = reverse("families:case_poster", args=[case.pk])
    visitor = Client(REMOTE_ADDR="198.51.100.30")
    assert [visitor.get(poster).status_code for _ in range(3)] == [200, 200, 429]
    assert Client(REMOTE_ADDR="198.51.100.31").get(poster).status_code == 200

    photo = builders.photo(data=photo_bytes("img1.jpg"), case=case)
    client = Client()
    client.force_login(family)
    url = reverse("matching:photo_age_progression", args=[photo.pk])
    assert [client.post(url, {"target_age": "0"}).status_code for _ in range(3)] == [
        400, 400, 429]
    assert client.get(url).status_code == 200, "the page itself still shows"


# --- Large bodies ------------------------------------------------------------------------


@pytest.mark.django_db
def test_the_413_answer_sends_no_hop_by_hop_header(make_user, settings):
    """WSGI servers refuse hop-by-hop headers from the application (the development
    server turns the whole answer into a 500)."""
    from wsgiref.util import is_hop_by_hop

    family = _confirmed(make_user(password=PASSWORD))
    case = builders.case(family=family)
    client = Client()
    client.force_login(family)
    huge = io.BytesIO(b"\xff\xd8" + b"\0" * (30 * 2**20))
    huge.name = "huge.jpg"
    response = client.post(reverse("families:case_photos", args=[case.pk]),
                           {"image": huge, "kind": Photo.Kind.CHILDHOOD, "age_in_photo": "1"})
    assert response.status_code == 413
    assert [name for name, _value in response.items() if is_hop_by_hop(name)] == []

    # Form fields over Django's own bound get the same page (not a 400 or the debug page).
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    response = client.post(reverse("families:case_withdraw", args=[case.pk]),
                           {"reason": "x" * 2000})
    assert response.status_code == 413 and b"The file is too large" in response.content
    case.refresh_from_db()
    assert case.status == "published"


@pytest.mark.django_db(transaction=True)
def test_a_30_mb_upload_to_the_development_server_gets_the_413_page(runserver, redis_queues):
    import http.client
    from urllib.parse import urlsplit

    address = urlsplit(runserver())
    boundary = "reunion-test-boundary"
    head = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"image\"; "
            f"filename=\"big.jpg\"\r\nContent-Type: image/jpeg\r\n\r\n").encode()
    body = head + b"\xff\xd8" + b"\0" * (30 * 2**20) + f"\r\n--{boundary}--\r\n".encode()
    connection_ = http.client.HTTPConnection(address.hostname, address.port, timeout=60)
    try:
        connection_.request("POST", "/signup/", body=body, headers={
            "Content-Type": f"multipart/form-data; boundary={boundary}"})
        response = connection_.getresponse()
        page = response.read()
    finally:
        connection_.close()
    assert response.status == 413, page[:300]
    assert b"The file is too large" in page and b"at most 20 MB" in page
