"""The Content-Security-Policy (django-csp; docs/ARCHITECTURE.md): its header on pages, API
answers and admin pages; no template and no rendered admin or django-rq page keeps inline
code the policy would refuse (inline scripts or styles without the request's nonce, event
handler or style attributes, javascript: URLs). The browser journeys (tests/browser) run
under the same policy and fail on any violation the browser reports.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path

import django_rq
import pytest
from csp.middleware import CSPMiddleware
from django.conf import settings
from django.contrib import admin
from django.http import HttpResponse
from django.template import engines
from django.test import RequestFactory
from django.urls import reverse
from rq import Queue, SimpleWorker

from tests import builders

BASE_DIR = Path(__file__).resolve().parents[2]
HEADER = "Content-Security-Policy"

#: The policy, directive by directive (reunion/settings.py).
EXPECTED = {
    "default-src": ["'self'"],
    "script-src": ["'self'"],
    "style-src": ["'self'"],
    "img-src": ["'self'", "data:"],
    "font-src": ["'self'"],
    "connect-src": ["'self'"],
    "object-src": ["'none'"],
    "base-uri": ["'self'"],
    "form-action": ["'self'"],
    "frame-ancestors": ["'none'"],
}
DATA_BLOCKS = ("application/json", "application/ld+json")


def policy_of(response) -> dict[str, list[str]]:
    """The response's policy as {directive: sources}."""
    assert HEADER in response, f"no {HEADER} header on {response}"
    directives = {}
    for part in response[HEADER].split(";"):
        name, *sources = part.split()
        directives[name] = sources
    return directives


class InlineCode(HTMLParser):
    """Collects what the policy refuses in a page or a template: <script> with code and
    <style> without a nonce (or with another nonce than ``nonce``), on...= and style=
    attributes, javascript: URLs."""

    def __init__(self, *, nonce: str | None = None) -> None:
        super().__init__()
        self.nonce = nonce
        self.found: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        where = f"line {self.getpos()[0]}: <{tag}"
        for name, value in attrs:
            if name.startswith("on"):
                self.found.append(f"{where} {name}=...> (an inline event handler)")
            elif name == "style":
                self.found.append(f"{where} style=...> (a style attribute)")
            elif value and re.match(r"\s*javascript:", value, re.I):
                self.found.append(f"{where} {name}=javascript:...>")
        inline_script = (tag == "script" and "src" not in values
                         and (values.get("type") or "").lower() not in DATA_BLOCKS)
        if inline_script or tag == "style":
            nonce = values.get("nonce")
            if nonce is None:
                self.found.append(f"{where}> without a nonce")
            elif self.nonce is not None and nonce != self.nonce:
                self.found.append(f"{where}> with a nonce that is not the request's")

    handle_startendtag = handle_starttag


def inline_code(html: str, *, nonce: str | None = None) -> list[str]:
    parser = InlineCode(nonce=nonce)
    parser.feed(html)
    parser.close()
    return parser.found


def assert_no_inline_code(response, what: str) -> None:
    html = response.content.decode()
    found = inline_code(html, nonce=_header_nonce(response))
    assert not found, f"{what} keeps inline code the policy refuses:\n" + "\n".join(found)


def _header_nonce(response) -> str | None:
    match = re.search(r"'nonce-([^']+)'", response.get(HEADER, ""))
    return match[1] if match else None


# --- The header --------------------------------------------------------------------


@pytest.mark.django_db
def test_the_policy_is_on_a_page_an_api_answer_and_an_admin_page(client, admin_client):
    page = client.get(reverse("home"))
    api = client.get("/api/v1/postings/")  # refused without a key: the header all the same
    schema = client.get(reverse("api:schema"))
    admin_index = admin_client.get(reverse("admin:index"))
    assert page.status_code == 200 and schema.status_code == 200
    assert admin_index.status_code == 200 and api.status_code in (401, 403)
    for response in (page, api, schema, admin_index):
        assert policy_of(response) == EXPECTED
        assert "unsafe" not in response[HEADER]


@pytest.mark.django_db
def test_the_policy_is_on_an_answer_made_before_the_view(client, settings):
    """The 413 page comes from a middleware: the policy's middleware runs before it."""
    settings.REQUEST_MAX_BYTES = 100
    too_big = client.post(reverse("login"), {"username": "x" * 200, "password": "y"})
    assert too_big.status_code == 413
    assert policy_of(too_big) == EXPECTED
    assert_no_inline_code(too_big, "the 413 page")


def test_a_nonce_used_by_a_page_is_in_its_header():
    """docs/DEVELOPING.md: an inline script that can't be a file carries the request's
    nonce, and the header then allows that nonce (and only on that answer)."""
    template = engines["django"].from_string(
        '<script nonce="{{ request.csp_nonce }}">let ready = true;</script>'
    )
    request = RequestFactory().get("/")

    def view(request):
        return HttpResponse(template.render({}, request))

    response = CSPMiddleware(view)(request)
    nonce = _header_nonce(response)
    assert nonce and f'nonce="{nonce}"' in response.content.decode()
    assert f"'nonce-{nonce}'" in policy_of(response)["script-src"]
    assert inline_code(response.content.decode(), nonce=nonce) == []
    assert inline_code(response.content.decode(), nonce="another") != []


# --- Templates and rendered pages ---------------------------------------------------


def project_templates() -> list[Path]:
    folders = [BASE_DIR / "templates", *(BASE_DIR / app / "templates"
                                         for app in ("families", "matching", "reunion"))]
    return sorted(path for folder in folders if folder.is_dir()
                  for path in folder.rglob("*.html"))


def test_no_template_keeps_an_inline_handler_style_or_unnonced_script():
    templates = project_templates()
    assert len(templates) > 50
    found = {str(path.relative_to(BASE_DIR)): inline_code(path.read_text())
             for path in templates}
    assert not {path: problems for path, problems in found.items() if problems}


def test_the_template_check_can_fail():
    bad = """<button onclick="go()">Go</button><div style="color: red"></div>
             <a href="javascript:go()">x</a><script>go()</script><style>p {}</style>
             <script type="application/json">{"ok": true}</script><script src="/a.js"></script>
             <script nonce="{{ request.csp_nonce }}">go()</script>"""
    found = inline_code(bad)
    assert len(found) == 5, found
    assert any("onclick" in f for f in found) and any("style=" in f for f in found)
    assert any("javascript:" in f for f in found)
    assert sum("without a nonce" in f for f in found) == 2


def test_every_django_rq_template_with_inline_code_is_overridden():
    """After an upgrade of django-rq, a template of it with new inline code needs its
    override in templates/django_rq/ (see the README there)."""
    installed = Path(django_rq.__file__).parent / "templates" / "django_rq"
    with_inline_code = {path.name for path in installed.glob("*.html")
                        if inline_code(path.read_text())}
    assert "jobs.html" in with_inline_code  # the check sees django-rq's inline code
    overridden = {path.name for path in (BASE_DIR / "templates" / "django_rq").glob("*.html")}
    assert with_inline_code <= overridden, sorted(with_inline_code - overridden)


@pytest.mark.django_db(transaction=True)
def test_admin_pages_render_without_inline_code(admin_client, superuser, make_user,
                                                photo_bytes, redis_queues):
    family = make_user()
    case = builders.case(family=family)
    builders.photo(data=photo_bytes("img1.jpg"), case=case)
    pages = [reverse("admin:index"), reverse("admin:password_change")]
    request = RequestFactory().get("/")
    request.user = superuser
    for model, model_admin in admin.site._registry.items():
        if not model._meta.managed:
            continue
        info = (model._meta.app_label, model._meta.model_name)
        pages.append(reverse("admin:{}_{}_changelist".format(*info)))
        if model_admin.has_add_permission(request):
            pages.append(reverse("admin:{}_{}_add".format(*info)))
        instance = model.objects.first()
        if instance is not None:
            pages.append(reverse("admin:{}_{}_change".format(*info), args=[instance.pk]))
    for url in pages:
        response = admin_client.get(url)
        assert response.status_code == 200, url
        assert_no_inline_code(response, url)
    assert len(pages) > 20


@pytest.mark.django_db(transaction=True)
def test_django_rq_pages_render_without_inline_code(admin_client, redis_queues):
    """Every page of the jobs dashboard, with a finished and a failed job and a worker, so
    the lists, a job's results and the confirmations all draw their rows."""
    queue = Queue(settings.FACE_QUEUE, connection=django_rq.get_connection(settings.FACE_QUEUE))
    index = list(settings.RQ_QUEUES).index(settings.FACE_QUEUE)
    done = queue.enqueue("builtins.len", "four", job_id="csp-done")
    failed = queue.enqueue("builtins.int", "not a number", job_id="csp-failed")
    SimpleWorker([queue], connection=queue.connection).work(burst=True)
    waiting = queue.enqueue("builtins.len", "five", job_id="csp-waiting")
    worker = SimpleWorker([queue], connection=queue.connection, name="csp-worker")
    worker.register_birth()
    result = done.latest_result()
    assert result is not None and failed.is_failed

    def rq(name: str, *args: object) -> str:
        return reverse(f"django_rq:{name}", args=args)

    pages = [rq("home")] + [rq(name, index) for name in (
        "jobs", "queue_details", "finished_jobs", "failed_jobs", "scheduled_jobs",
        "started_jobs", "deferred_jobs", "clear", "requeue_all", "workers")]
    pages += [rq("job_detail", index, done.id), rq("job_detail", index, failed.id),
              rq("result_detail", index, done.id, result.id), rq("delete_job", index, waiting.id),
              rq("worker_details", index, worker.key)]
    for url in pages:
        response = admin_client.get(url)
        assert response.status_code == 200, url
        assert_no_inline_code(response, url)
    job_page = admin_client.get(rq("job_detail", index, done.id)).content.decode()
    assert "rq-clickable" in job_page and "js/django-rq.js" in job_page

    confirm = admin_client.post(rq("confirm_action", index),
                                {"action": "delete", "_selected_action": [waiting.id]})
    assert confirm.status_code == 200 and "Are you sure?" in confirm.content.decode()
    assert_no_inline_code(confirm, "the confirmation of an action")
    worker.register_death()
