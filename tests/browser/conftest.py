"""Browser tests: Playwright drives the system's Chromium against a live server.

Each test gets its own Playwright, browser and phone-sized page (most families
use phones). Pages are checked with axe-core (from npm, see package.json) and
every journey ends in a screenshot under test-results/. The site's
Content-Security-Policy is on, as in production: a test fails when the browser
reports any violation of it (an event listener in every page, and the console). Set
``REUNION_DOCS_SCREENSHOTS=1`` to also refresh the screenshots in docs/screenshots/.
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
import re
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest
from django.db import connections
from django.test import Client
from django.utils import timezone

BASE_DIR = Path(__file__).resolve().parent.parent.parent
RESULTS_DIR = BASE_DIR / "test-results"
DOCS_SCREENSHOTS_DIR = BASE_DIR / "docs" / "screenshots"
AXE_SCRIPT = BASE_DIR / "node_modules" / "axe-core" / "axe.min.js"
CHROMIUM = Path(os.environ.get("CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
]
#: A common phone; the layout is also checked at 320 px.
PHONE = {"width": 390, "height": 844}
#: axe-core impacts that fail a test.
BLOCKING_IMPACTS = ("serious", "critical")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Every test in this folder drives a browser."""
    for item in items:
        if Path(str(item.fspath)).is_relative_to(Path(__file__).parent):
            item.add_marker(pytest.mark.browser)


#: Runs in every document before its own scripts: tells the test of each report of a
#: Content-Security-Policy violation (what was refused, by which directive, where).
CSP_LISTENER = """
document.addEventListener('securitypolicyviolation', (event) => {
    window.reunionCspViolation({
        page: document.location.href, directive: event.effectiveDirective,
        blocked: event.blockedURI, source: event.sourceFile, line: event.lineNumber,
        sample: event.sample,
    });
}, true);
"""


@dataclasses.dataclass
class PageProblems:
    """What went wrong in the browser while a test ran, besides its assertions."""

    errors: list[str] = dataclasses.field(default_factory=list)

    def console(self, message) -> None:
        """Records console errors, except the browser's own request for /favicon.ico
        (made for documents that are not pages, such as the poster PDF)."""
        where = message.location.get("url", "")
        if "Content Security Policy" in message.text:
            self.errors.append(f"Content-Security-Policy violation at {where}: {message.text}")
        elif message.type == "error" and not where.endswith("/favicon.ico"):
            self.errors.append(f"console error at {where}: {message.text}")

    def csp_violation(self, _source, report: dict) -> None:
        """A ``securitypolicyviolation`` event from a page (CSP_LISTENER)."""
        self.errors.append(
            f"Content-Security-Policy violation on {report['page']}: {report['directive']} "
            f"refused {report['blocked'] or 'inline code'} at {report['source']}:"
            f"{report['line']} {report['sample']!r}"
        )

    def assert_none(self) -> None:
        assert not self.errors, "The browser reported problems:\n" + "\n".join(self.errors)


@pytest.fixture
def browser(transactional_db, live_server, monkeypatch):
    """A Chromium of this test's own (the system's, never a downloaded one).

    Playwright's sync API keeps an event loop running in this thread, so
    Django's guard against database calls from async code must be lifted for
    the test's own service calls; the live server answers in its own thread.
    """
    from playwright.sync_api import sync_playwright

    if not CHROMIUM.is_file():
        pytest.fail(f"Browser tests need Chromium at {CHROMIUM} (apt-get install chromium).")
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    playwright = sync_playwright().start()
    try:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            yield chromium
        finally:
            chromium.close()
    finally:
        # Database connections opened while Playwright's loop ran are kept apart
        # from the test's own; close them before the loop goes.
        connections.close_all()
        playwright.stop()


@pytest.fixture
def page_problems() -> PageProblems:
    return PageProblems()


@pytest.fixture
def new_page(browser, live_server, page_problems) -> Callable[..., object]:
    """Opens a fresh browser context (its own cookies) on a phone-sized screen."""
    contexts = []

    def open_page(*, viewport: dict[str, int] | None = None, locale: str = "en-GB"):
        context = browser.new_context(
            viewport=viewport or PHONE, locale=locale, base_url=live_server.url,
            accept_downloads=True,
        )
        contexts.append(context)
        context.expose_binding("reunionCspViolation", page_problems.csp_violation)
        context.add_init_script(CSP_LISTENER)
        page = context.new_page()
        page.set_default_timeout(15_000)
        page.on("pageerror", lambda error: page_problems.errors.append(f"script error: {error}"))
        page.on("console", page_problems.console)
        page.on(
            "response",
            lambda response: response.status >= 500
            and page_problems.errors.append(f"{response.status} from {response.url}"),
        )
        return page

    yield open_page
    from playwright.sync_api import Error as PlaywrightError

    for context in contexts:
        for page in context.pages:
            # The page's last reports reach the test before it ends (a page that is
            # gone has nothing left to report).
            with contextlib.suppress(PlaywrightError):
                page.evaluate("0")
        context.close()
    page_problems.assert_none()


@pytest.fixture
def page(new_page):
    """The usual page: a phone-sized screen, English."""
    return new_page()


# ---- accessibility ----------------------------------------------------------


def axe_violations(page) -> list[dict]:
    """Runs axe-core on the page as it is now and returns its serious or critical findings."""
    if not AXE_SCRIPT.is_file():
        pytest.fail(f"axe-core is missing ({AXE_SCRIPT}): run `make browser-deps`.")
    if not page.evaluate("typeof window.axe !== 'undefined'"):
        # Evaluated, not added as a <script> element: the page's Content-Security-Policy
        # refuses inline scripts, and the test's own code is no part of the page.
        page.evaluate(AXE_SCRIPT.read_text())
    results = page.evaluate(
        """async () => {
            const results = await axe.run(document, {resultTypes: ['violations']});
            return results.violations.map(v => ({
                id: v.id, impact: v.impact, help: v.help,
                nodes: v.nodes.map(n => n.target.join(' ') + ' → ' + n.failureSummary),
            }));
        }"""
    )
    return [v for v in results if v["impact"] in BLOCKING_IMPACTS]


def axe_check(page) -> None:
    """Fails the test when axe-core finds a serious or critical problem on the page."""
    violations = axe_violations(page)
    report = "\n".join(
        f"- {v['id']} ({v['impact']}): {v['help']}\n    " + "\n    ".join(v["nodes"][:5])
        for v in violations
    )
    assert not violations, f"axe-core found accessibility problems on {page.url}:\n{report}"


def assert_fits_width(page) -> None:
    """Nothing on the page makes a phone scroll sideways."""
    overflow = page.evaluate(
        """() => {
            const width = document.documentElement.clientWidth;
            const wide = [...document.querySelectorAll('body *')].filter(el => {
                const box = el.getBoundingClientRect();
                const style = getComputedStyle(el);
                return box.right > width + 1 && style.position !== 'fixed'
                    && !el.closest('.table-scroll, .visually-hidden, .skip-link');
            }).slice(0, 5).map(el => el.tagName.toLowerCase()
                + (el.className ? '.' + String(el.className).split(' ').join('.') : ''));
            return {scroll: document.documentElement.scrollWidth, width, wide};
        }"""
    )
    assert overflow["scroll"] <= overflow["width"], (
        f"{page.url} is wider than the screen ({overflow['scroll']} > {overflow['width']} px): "
        f"{overflow['wide']}"
    )


# ---- screenshots ------------------------------------------------------------


def slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")


@pytest.fixture
def screenshot(request) -> Callable[..., Path]:
    """Saves a full-page screenshot under test-results/<test name>/.

    ``docs_name`` also copies it to docs/screenshots/<docs_name>.png when
    REUNION_DOCS_SCREENSHOTS is set, so the pictures in the docs are refreshed
    on purpose, never by an ordinary test run.
    """
    folder = RESULTS_DIR / slug(request.node.name)

    def take(page, name: str, *, docs_name: str | None = None) -> Path:
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / f"{slug(name)}.png"
        page.screenshot(path=str(path), full_page=True)
        if docs_name and os.environ.get("REUNION_DOCS_SCREENSHOTS"):
            DOCS_SCREENSHOTS_DIR.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(path, DOCS_SCREENSHOTS_DIR / f"{docs_name}.png")
        return path

    return take


# ---- people and their data, made through the services -----------------------


@pytest.fixture
def confirmed_user(make_user) -> Callable[..., object]:
    """A user whose email address is confirmed, as after following the emailed link."""

    def make(**extra: object):
        user = make_user(**extra)
        user.email_confirmed_at = timezone.now()
        user.save(update_fields=["email_confirmed_at"])
        return user

    return make


@pytest.fixture
def log_in(live_server) -> Callable[..., None]:
    """Logs ``user`` in to the page's browser context without going through the form."""

    def log_in_as(page, user) -> None:
        client = Client()
        client.force_login(user)
        cookie = client.cookies["sessionid"]
        page.context.add_cookies(
            [{"name": "sessionid", "value": cookie.value, "url": live_server.url}]
        )

    return log_in_as


CASE_FIELDS = {
    "given_name": "Lin",
    "family_name": "Chen",
    "nicknames": "Xiao Lin",
    "sex": "F",
    "birth_year_min": 1986,
    "birth_year_max": 1986,
    "missing_date": "1989-04-12",
    "missing_province": "Shaanxi",
    "missing_city": "Xi'an",
    "circumstances": "Last seen outside the railway station with her grandmother.",
    "contact_name": "Chen Mei",
    "contact_phone": "+86 29 5555 0101",
}


@pytest.fixture
def published_case(photo_bytes) -> Callable[..., object]:
    """A published case posted through the services, with childhood photos."""
    from datetime import date

    from families.models import Photo
    from families.services import case_create, photo_add

    def make(*, family, photos: tuple[str, ...] = (), **fields: object):
        values = {**CASE_FIELDS, **fields}
        if isinstance(values["missing_date"], str):
            values["missing_date"] = date.fromisoformat(values["missing_date"])
        case = case_create(actor=family, fields=values, publish=True)
        for name in photos:
            photo_add(
                actor=family, data=photo_bytes(name), kind=Photo.Kind.CHILDHOOD, case=case,
                age_in_photo=3,
            )
        return case

    return make


@pytest.fixture
def person_photos(identities: dict[str, str]) -> Callable[[int], list[str]]:
    """The photo files of the ``rank``-th person with the most photos (two at least)."""
    people: dict[str, list[str]] = {}
    for file, person in identities.items():
        people.setdefault(person, []).append(file)
    ranked = sorted(people.values(), key=lambda files: (-len(files), files[0]))

    def photos(rank: int = 0) -> list[str]:
        return sorted(ranked[rank])

    return photos


@pytest.fixture
def matched_seeker(confirmed_user, person_photos, photo_bytes, run_worker
                   ) -> Callable[[object], object]:
    """``matched_seeker(case)``: Li Na's seeker posting, made through the services with two
    more photos of the case's person, and the candidate a real worker found for the pair."""

    def match(case):
        from families.models import Photo
        from families.services import photo_add, seeker_posting_create
        from matching.models import Candidate

        seeker = confirmed_user(full_name="Li Na")
        posting = seeker_posting_create(actor=seeker, fields={
            "display_name": "Li Na", "sex": "F", "birth_year_min": 1985,
            "birth_year_max": 1987, "grew_up_province": "Henan",
            "memories": "A railway station; a red gate.",
            "contact_email": "li.na@example.org", "consent_to_matching": True,
        })
        for name in person_photos(0)[1:3]:
            photo_add(actor=seeker, data=photo_bytes(name), kind=Photo.Kind.RECENT,
                      seeker_posting=posting, age_in_photo=38)
        assert run_worker() is True
        return Candidate.objects.get(case=case, seeker_posting=posting)

    return match


def image_loaded(locator) -> bool:
    """Whether an image (lazy or not) loads: scrolled into view, then waited for."""
    locator.scroll_into_view_if_needed()
    return locator.evaluate(
        """img => img.complete && img.naturalWidth > 0 ? true : new Promise(done => {
            img.addEventListener('load', () => done(img.naturalWidth > 0));
            img.addEventListener('error', () => done(false));
        })"""
    )


def tab_to(page, target, *, limit: int = 60) -> None:
    """Presses Tab until ``target`` has the focus: proof it is reachable by keyboard."""
    for _ in range(limit):
        page.keyboard.press("Tab")
        if target.evaluate("el => el === document.activeElement"):
            return
    raise AssertionError(f"{target} is not reachable with the Tab key")


def mark_page(page) -> None:
    """Marks the loaded document, so a test can tell an update in place from a reload."""
    page.evaluate("window.reunionTestMark = true")


def assert_not_reloaded(page) -> None:
    assert page.evaluate("window.reunionTestMark === true"), "the page was reloaded"


def field(label: str) -> re.Pattern[str]:
    """A form field's label exactly, with or without the mark of a required field."""
    return re.compile(rf"^\s*{re.escape(label)}( \*)?\s*$")


def wait_for_text(page, text: str, *, timeout: float = 60_000) -> None:
    """Waits until ``text`` shows on the page (for pages that update themselves)."""
    page.get_by_text(text, exact=False).first.wait_for(timeout=timeout)
