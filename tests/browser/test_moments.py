"""The hard moments, in a real browser: the portal's own 404 page in Chinese on a phone;
the family's match page after a confirmation (their child's photo beside the person's, one
status word, the money warning); a volunteer recording a DNA match, which asks to be
confirmed and says who will be told; and the reunited case's public page, which says the
child was found, with no tip form and no poster."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse

from matching import services
from matching.models import Candidate, DnaTest
from tests import builders
from tests.browser.conftest import assert_fits_width, axe_check, field, image_loaded

DESKTOP = {"width": 1280, "height": 900}


def test_an_old_link_shows_the_portals_own_404_in_chinese(new_page, screenshot, page_problems):
    page = new_page(locale="zh-CN")
    response = page.goto("/cases/999999/")
    assert response.status == 404
    assert page.get_by_role("heading", level=1).inner_text() == "找不到这个页面"
    assert page.locator("html").get_attribute("lang") == "zh-hans"
    assert_fits_width(page)
    axe_check(page)
    screenshot(page, "404-zh", docs_name="error-404-zh")
    page.get_by_role("link", name="返回首页").click()
    page.wait_for_url(re.compile(r"/zh-hans/$"))
    # The browser reports the document's own 404 status; that one is this test's point.
    page_problems.errors[:] = [
        error for error in page_problems.errors
        if not (error.startswith(f"console error at {response.url}:") and "404" in error)
    ]


@pytest.fixture
def candidate(confirmed_user, published_case, person_photos, matched_seeker):
    """A case and a seeker posting with real photos, matched by a real worker."""
    family = confirmed_user(full_name="Chen Mei")
    return matched_seeker(published_case(family=family, photos=(person_photos(0)[0],)))


def test_the_family_after_a_confirmation_and_the_reunion(
    new_page, candidate, make_user, log_in, screenshot
):
    volunteer = make_user(volunteer=True, full_name="Zhao Min")
    builders.confirm(candidate=candidate, volunteer=volunteer)
    case = candidate.case

    # The family's match page: their child's photo beside the person's, one status word.
    family = new_page(viewport=DESKTOP)
    log_in(family, case.family)
    family.goto(reverse("matching:match_detail", args=[candidate.reference]))
    main = family.locator("main")
    assert main.locator(".badge").inner_text() == "Not yet certain: a DNA test is next"
    assert "Your photos of Lin Chen" in main.inner_text()
    assert "Photos of Li Na" in main.inner_text()
    assert "Never pay anyone for news of a match." in main.inner_text()
    assert "Your volunteer is Zhao Min" in main.inner_text()
    images = main.locator(".match-photos img").all()
    assert len(images) == 3 and all(image_loaded(image) for image in images)
    axe_check(family)
    screenshot(family, "match-page-family", docs_name="match-page-family")

    # The volunteer records the samples, then a match: it asks to be confirmed first.
    services.dna_test_record_samples(actor=volunteer,
                                     dna_test=DnaTest.objects.get(candidate=candidate))
    page = new_page(viewport=DESKTOP)
    log_in(page, volunteer)
    page.goto(reverse("matching:dna_test", args=[candidate.reference]))
    told = page.locator("main").inner_text()
    assert "Who will be told, by email and in their inbox: the family (Chen Mei) and Li Na." \
        in told
    page.get_by_label("match", exact=True).check()
    page.get_by_role("button", name="Record the result").click()
    page.locator("small.error", has_text="tick this box to confirm it").wait_for()
    candidate.refresh_from_db()
    assert candidate.status == Candidate.Status.CONFIRMED
    axe_check(page)
    screenshot(page, "dna-match-asks-to-confirm", docs_name="dna-match-confirm")
    page.get_by_label("match", exact=True).check()
    page.get_by_label(field("I have checked the laboratory's report: it is a match, and "
                            "they are reunited")).check()
    page.get_by_role("button", name="Record the result").click()
    page.get_by_text("The reunion is recorded").wait_for()
    candidate.refresh_from_db()
    assert candidate.status == Candidate.Status.REUNITED

    # The volunteers see it on their dashboard.
    page.goto(reverse("matching:dashboard"))
    assert f"Case #{case.pk}" in page.locator("#reunions-heading + p + ul").inner_text()

    # The family's page now says who the person is.
    family.reload()
    assert family.locator("main .badge").inner_text() == "Reunited: the DNA test confirms it"
    assert "may be" not in family.locator("main").inner_text()

    # Anyone: the case's page says the child was found; no tip form, no poster.
    visitor = new_page()
    visitor.goto(reverse("families:case_detail", args=[case.pk]))
    text = visitor.locator("main").inner_text()
    assert "This child has been found" in text
    assert "If you recognise this child" not in text
    assert visitor.get_by_role("link", name="Print the poster (PDF)").count() == 0
    assert visitor.get_by_role("link", name=re.compile("tip")).count() == 0
    assert_fits_width(visitor)
    axe_check(visitor)
    screenshot(visitor, "case-found", docs_name="case-found")


def test_the_family_writes_to_the_volunteer_who_answers(
    new_page, candidate, make_user, log_in, screenshot
):
    """After a confirmation: the family, on a phone in Chinese, writes on their thread; the
    volunteer, at 1280 px in English, reads the facts compared as facts (四川话 beside
    "Sichuanese") and answers; the family reads the answer. The seeker never sees it."""
    from families.models import MissingChildCase, SeekerPosting

    MissingChildCase.objects.filter(pk=candidate.case_id).update(
        dialect="sichuan", distinguishing_marks="胎记在左臂上", nicknames="明明")
    SeekerPosting.objects.filter(pk=candidate.seeker_posting_id).update(
        dialect="sichuan", distinguishing_marks="A birthmark on my left arm",
        remembered_names="明明")
    volunteer = make_user(volunteer=True, full_name="Zhao Min")
    builders.confirm(candidate=candidate, volunteer=volunteer)
    case = candidate.case

    family = new_page(locale="zh-CN")
    log_in(family, case.family)
    family.goto("/zh-hans" + reverse("matching:match_detail", args=[candidate.reference]))
    thread = family.locator("#messages-family")
    assert "与志愿者的留言" in thread.inner_text()
    thread.get_by_label("给您的志愿者留言").fill("我们同意与对方联系。请问在哪里采血？")
    thread.get_by_role("button", name="发送").click()
    family.get_by_text("您的留言已发送。").wait_for()
    assert "我们同意与对方联系" in family.locator("#messages-family").inner_text()
    assert_fits_width(family)
    axe_check(family)
    screenshot(family, "match-messages-family-zh", docs_name="match-messages-family-zh")

    desk = new_page(viewport=DESKTOP)
    log_in(desk, volunteer)
    desk.goto(reverse("matching:review", args=[candidate.reference]))
    facts = desk.locator("table.facts-compare")
    dialect_row = facts.locator("tr").filter(has=desk.get_by_role("rowheader", name="Dialect"))
    assert "agrees" in dialect_row.inner_text()
    marks_row = facts.locator("tr").filter(
        has=desk.get_by_role("rowheader", name="Distinguishing marks"))
    assert "agrees" in marks_row.inner_text() and "birthmark" in marks_row.inner_text()
    family_thread = desk.locator("#messages-family")
    assert "我们同意与对方联系" in family_thread.inner_text()
    assert "我们同意" not in desk.locator("#messages-seeker").inner_text()
    family_thread.get_by_label("Your answer").fill(
        "Thank you. The sample is taken at the county hospital; it costs you nothing.")
    family_thread.get_by_role("button", name="Send").click()
    desk.get_by_text("Your answer is sent.").wait_for()
    assert_fits_width(desk)
    axe_check(desk)
    screenshot(desk, "review-facts-and-messages", docs_name="review-facts-and-messages")

    family.reload()
    assert "county hospital" in family.locator("#messages-family").inner_text()

    seeker = new_page(viewport=DESKTOP)
    log_in(seeker, candidate.seeker_posting.owner)
    seeker.goto(reverse("matching:match_detail", args=[candidate.reference]))
    text = seeker.locator("main").inner_text()
    assert "county hospital" not in text and "我们同意" not in text


def test_a_family_says_they_found_their_child(
    new_page, confirmed_user, published_case, log_in, screenshot
):
    """On the withdraw page, in English at 1280 px: "We found our child" marks the case
    found; its public page, on a phone, says so with no tip form and no poster."""
    family = confirmed_user(full_name="Wu Lan")
    case = published_case(family=family)
    page = new_page(viewport=DESKTOP)
    log_in(page, family)
    page.goto(reverse("families:case_withdraw", args=[case.pk]))
    page.get_by_label("We found our child").check()
    axe_check(page)
    screenshot(page, "withdraw-we-found-our-child", docs_name="withdraw-found")
    page.get_by_role("button", name="Withdraw").click()
    page.get_by_text("We are so glad.").wait_for()
    visitor = new_page(locale="zh-CN")
    visitor.goto("/zh-hans" + reverse("families:case_detail", args=[case.pk]))
    text = visitor.locator("main").inner_text()
    assert visitor.locator(".found").count() == 1
    assert "这个孩子已经找到了" in text
    assert visitor.get_by_role("link", name=re.compile("线索")).count() == 0
    assert_fits_width(visitor)
    axe_check(visitor)
    screenshot(visitor, "case-found-by-the-family-zh", docs_name="case-found-by-family-zh")


def test_a_partner_member_reads_the_results_and_the_organisations_postings(
    new_page, confirmed_user, log_in, screenshot, redis_queues
):
    """A member reading Chinese: the import says "已完成，1 行被拒绝" in amber, with the
    refusal in Chinese; a colleague, on a phone in English, searches the organisation's
    postings and filters them by import."""
    from django.core.files.base import ContentFile

    from families.models import PartnerOrganisation
    from families.partners.services import partner_import_run, partner_import_start

    shelter = PartnerOrganisation.objects.create(
        name="Hope shelter", kind="shelter", matching_basis="Intake records.")
    member = confirmed_user(full_name="Sun Li", preferred_language="zh-hans")
    colleague = confirmed_user(full_name="Ma Jun")
    shelter.members.add(member, colleague)
    started = partner_import_start(
        actor=member, organisation=shelter, csv_name="people.csv",
        csv_data=(b"reference,name,sex,birth_year\nHS-1,Xiao Hong,F,1986\n"
                  b"HS-2,Li Ming,X,1984\nHS-3,Zhang Wei,M,1985\n"),
        photos_zip=ContentFile(builders.zip_upload({"a.jpg": builders.jpeg()}).read(),
                               name="photos.zip"),
    )
    done = partner_import_run(partner_import_id=started.pk)

    page = new_page(viewport=DESKTOP, locale="zh-CN")
    log_in(page, member)
    page.goto("/zh-hans" + reverse("partners:partner_import_detail", args=[done.pk]))
    assert page.locator(".badge-warning").inner_text() == "已完成，1 行被拒绝"
    assert page.locator("progress.bar-warning").count() == 1
    refused = page.locator("main").inner_text()
    assert "请填写 F、M 或 U" in refused and "HS-2" in refused
    axe_check(page)
    screenshot(page, "import-finished-with-refusals-zh", docs_name="import-refusals-zh")

    phone = new_page()
    log_in(phone, colleague)
    phone.goto(reverse("partners:partner_postings"))
    assert "Xiao Hong" in phone.locator("main").inner_text()
    phone.get_by_label("Name or reference").fill("Zhang")
    phone.get_by_role("button", name="Search").click()
    phone.wait_for_url(re.compile(r"q=Zhang"))
    text = phone.locator("main").inner_text()
    assert "Zhang Wei" in text and "Xiao Hong" not in text
    assert_fits_width(phone)
    axe_check(phone)
    screenshot(phone, "organisation-postings-phone", docs_name="partner-postings-phone")
