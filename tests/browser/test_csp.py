"""The Content-Security-Policy in a real browser: the check that fails a journey on any
violation notices one; the admin, the jobs dashboard (django-rq), the partner API's docs
page and the poster in the browser's PDF viewer work under the policy, with no violation
reported.
"""

from __future__ import annotations

import re

import django_rq
from django.conf import settings
from django.urls import reverse
from playwright.sync_api import expect
from rq import Queue, SimpleWorker

from tests.browser.conftest import wait_for_text


def test_the_violation_check_notices_a_violation(page, page_problems):
    """An inline style attribute added to a page is refused by the browser, and the
    journeys' check (conftest.CSP_LISTENER and the console) reports it."""
    response = page.goto(reverse("home"))
    assert "script-src 'self'" in response.headers["content-security-policy"]
    # The page waits for the browser's report, which the check has heard by then.
    reported = page.evaluate(
        """() => new Promise(done => {
            document.addEventListener('securitypolicyviolation',
                                      event => done(event.effectiveDirective), {once: true});
            document.querySelector('main').insertAdjacentHTML(
                'beforeend', '<p id="refused" style="color: rgb(255, 0, 0)">red</p>');
        })"""
    )
    assert reported == "style-src-attr"
    refused = page.locator("#refused")
    expect(refused).to_be_visible()
    assert refused.evaluate("el => getComputedStyle(el).color") != "rgb(255, 0, 0)"
    # The listener in every page (conftest.CSP_LISTENER) reported it to the test.
    heard = [error for error in page_problems.errors
             if error.startswith("Content-Security-Policy violation on")]
    assert any("style-src-attr" in error for error in heard), page_problems.errors
    page_problems.errors.clear()  # the violation was made on purpose


def test_the_admin_and_the_jobs_dashboard_work_under_the_policy(
    page, superuser, log_in, redis_queues
):
    queue = Queue(settings.FACE_QUEUE, connection=django_rq.get_connection(settings.FACE_QUEUE))
    index = list(settings.RQ_QUEUES).index(settings.FACE_QUEUE)
    done = queue.enqueue("builtins.len", "four", job_id="csp-done")
    SimpleWorker([queue], connection=queue.connection).work(burst=True)
    waiting = queue.enqueue("builtins.len", "five", job_id="csp-waiting")
    log_in(page, superuser)

    # The admin: its index, a list, a change form with its widgets and the add form.
    page.goto(reverse("admin:index"))
    expect(page.locator("#site-name")).to_be_visible()
    page.goto(reverse("admin:families_user_changelist"))
    # actions.js runs: ticking a row counts it.
    page.locator("input.action-select").first.check()
    expect(page.locator(".action-counter")).to_contain_text("1 of")
    page.goto(reverse("admin:families_user_change", args=[superuser.pk]))
    expect(page.locator("#user_form")).to_be_visible()
    page.goto(reverse("admin:families_user_add"))
    expect(page.locator("#user_form")).to_be_visible()

    # The jobs dashboard: the queue's list, its bulk action and its confirmation.
    page.goto(reverse("django_rq:home"))
    expect(page.locator("#changelist").first).to_be_visible()
    page.goto(reverse("django_rq:jobs", args=[index]))
    row = page.locator("tr", has=page.locator(f'input[value="{waiting.id}"]'))
    row.locator("input.action-select").check()
    expect(page.locator(".action-counter")).to_contain_text("1 of 1")
    page.locator("select[name=action]").select_option("delete")
    page.locator("#changelist-form button[type=submit], #changelist-form input[type=submit]"
                 ).first.click()
    wait_for_text(page, "Are you sure?")
    page.goto(reverse("django_rq:jobs", args=[index]))

    # A finished job: its result's row opens the result (django-rq.js, not an onclick).
    page.goto(reverse("django_rq:job_detail", args=[index, done.id]))
    page.locator("tr.rq-clickable td").first.click()
    page.wait_for_url(re.compile(r"/results/"))
    page.goto(reverse("django_rq:workers", args=[index]))
    expect(page.locator("#content-main")).to_be_visible()


def test_the_api_docs_page_works_under_the_policy(page):
    page.goto(reverse("api:docs"))
    expect(page.locator(".swagger-ui .info .title")).to_contain_text("Reunion partner API")
    expect(page.locator(".opblock-summary-path").first).to_be_visible()
    expect(page.get_by_text("/api/v1/postings/", exact=True).first).to_be_visible()


def test_the_poster_opens_in_the_pdf_viewer_under_the_policy(
    page, confirmed_user, published_case
):
    case = published_case(family=confirmed_user())
    url = reverse("families:case_poster", args=[case.pk])
    with page.expect_event(
        "framenavigated", predicate=lambda frame: frame.url.startswith("chrome-extension://")
    ):
        response = page.goto(url)
    assert response.ok and response.headers["content-type"] == "application/pdf"
    # The site sent the whole policy with the PDF (the answer the browser reports for its
    # viewer carries only a part of it).
    sent = page.context.request.get(url)
    assert "object-src 'none'" in sent.headers["content-security-policy"]
