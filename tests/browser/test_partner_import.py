"""Journey 8: a shelter's member imports a CSV of found people with a zip of their photos.

A real worker on the import queue takes the rows while the progress page updates by
itself; the refused rows are listed with their line, column and why, downloaded, fixed
as in a spreadsheet and imported again until every row is in. The original file sent
once more changes nothing, and a photo given as the CSV is refused with nothing kept.
"""

from __future__ import annotations

import csv
import io
import re
import zipfile
from pathlib import Path

import pytest
from django.urls import reverse
from playwright.sync_api import expect

from families.models import PartnerImport, PartnerOrganisation, Photo, SeekerPosting, Sex
from tests.browser.conftest import assert_fits_width, axe_check, field

BASIS = "Intake records of the Hope shelter, 1985-1995."
HEADER = ["reference", "name", "sex", "birth_year", "province", "notes", "photos"]
#: How long a real worker may take over one small import.
IMPORT_TIMEOUT = 45_000


@pytest.fixture
def shelter(confirmed_user) -> PartnerOrganisation:
    organisation = PartnerOrganisation.objects.create(
        name="Hope shelter", kind=PartnerOrganisation.Kind.SHELTER, region="Hebei",
        matching_basis=BASIS)
    organisation.members.add(confirmed_user(full_name="Zhao Lan", email="intake@hope.example.org"))
    return organisation


@pytest.fixture
def photo_names(identities: dict[str, str], faces_dir: Path) -> list[str]:
    """One photo of each of seven different people (the smallest file each, to be quick)."""
    smallest: dict[str, str] = {}
    for file, person in sorted(identities.items()):
        size = (faces_dir / file).stat().st_size
        if person not in smallest or size < (faces_dir / smallest[person]).stat().st_size:
            smallest[person] = file
    names = [smallest[person] for person in sorted(smallest)][:7]
    assert len(names) == 7, "the shared photos have fewer than seven people"
    return names


def write_csv(path: Path, header: list[str], rows: list[list[str]]) -> Path:
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        writer.writerows(rows)
    return path


def counts(page) -> dict[str, str]:
    """The progress page's numbers, by their label."""
    names = page.locator("dl.counts dt").all_inner_texts()
    values = page.locator("dl.counts dd").all_inner_texts()
    return {name.strip(): value.strip() for name, value in zip(names, values, strict=True)}


def refused_rows(page) -> list[tuple[str, str, str, str, str]]:
    """The refused rows' table as (line, reference, name, column, why)."""
    table = page.get_by_role("table")
    return [
        tuple(cell.strip() for cell in row.locator("th, td").all_inner_texts())
        for row in table.locator("tbody tr").all()
    ]


def upload(page, csv_path: Path, zip_path: Path | None) -> None:
    """Sends the files from the imports page."""
    page.get_by_label(field("CSV file")).set_input_files(csv_path)
    if zip_path is not None:
        page.get_by_label(field("Zip of photos")).set_input_files(zip_path)
    page.get_by_role("button", name="Import").click()


def wait_until_done(page, *, refused: int = 0) -> None:
    """Waits, without reloading, for the page to show the import finished: "done", or with
    refused rows "finished with N rows refused" in the warning colour."""
    page.locator("#refused-heading ~ .table-scroll, #refused-heading ~ p.empty").filter(
        has_not_text="None so far").first.wait_for(timeout=IMPORT_TIMEOUT)
    status = page.locator('[data-progress="status_label"]')
    if refused:
        expect(status).to_have_text(f"finished with {refused} rows refused")
        expect(status).to_have_class("badge badge-warning")
        expect(page.locator("progress[data-progress-bar]")).to_have_class("bar-warning")
    else:
        expect(status).to_have_text("done")
        expect(page.locator("progress[data-progress-bar]")).to_have_class("bar-ok")


def test_a_shelter_imports_found_people_fixes_the_refused_rows_and_imports_them_again(
    new_page, page_problems, shelter, photo_names, faces_dir, tmp_path, log_in, worker_process,
    screenshot,
):
    member = shelter.members.get()
    p = photo_names
    original = [
        ["HS-1", "Xiao Hong", "F", "1986", "Hebei", "A red door.", p[0]],  # line 2
        ["HS-2", "Li Ming", "M", "1984", "Hebei", "", p[1]],  # line 3
        ["HS-3", "Wang Fang", "X", "1990", "Shanxi", "Came in winter.", p[2]],  # 4: sex
        ["HS-4", "Zhou Jie", "M", "", "Hebei", "", p[3]],  # 5: no birth year
        ["HS-5", "Sun Li", "F", "1988", "Hebei", "", p[4].replace(".jpg", ".jpeg")],  # 6
        ["HS-1", "Chen Bo", "M", "1985", "Henan", "A scar on the chin.", p[5]],  # 7: twice
        ["HS-7", "Liu Yang", "U", "1992", "Hebei", "", p[6]],  # line 8
    ]
    original_csv = write_csv(tmp_path / "hope-intake.csv", HEADER, original)
    photos_zip = tmp_path / "hope-photos.zip"
    with zipfile.ZipFile(photos_zip, "w") as archive:
        for name in p:
            archive.write(faces_dir / name, f"intake/{name}")

    page = new_page()
    log_in(page, member)
    page.goto(reverse("families:dashboard"))
    page.locator("nav.site-nav").get_by_role("link", name="Imports").click()
    page.wait_for_url(re.compile(r"/partners/imports/$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Imports of found people")
    expect(page.get_by_text("No import yet.")).to_be_visible()
    axe_check(page)
    assert_fits_width(page)

    # A photo given as the CSV is refused, saying so, and nothing is kept.
    upload(page, faces_dir / p[0], photos_zip)
    alert = page.locator(".form-errors")
    expect(alert).to_be_visible()
    expect(alert).to_contain_text("This is not a CSV file: it holds binary data")
    assert page.url.endswith("/partners/imports/")
    assert not PartnerImport.objects.exists()
    axe_check(page)
    screenshot(page, "not-a-csv")
    # A refused form answers 400, which the browser reports on its console: expected here.
    expected = [error for error in page_problems.errors
                if "/partners/imports/" in error and "status of 400" in error]
    assert len(expected) == 1, page_problems.errors
    page_problems.errors.remove(expected[0])

    # The real file: its progress page waits for the worker, which starts only now.
    upload(page, original_csv, photos_zip)
    page.wait_for_url(re.compile(r"/partners/imports/\d+/$"))
    first = PartnerImport.objects.get()
    assert (first.organisation, first.uploaded_by, first.rows_total) == (shelter, member, 7)
    expect(page.get_by_role("heading", level=1)).to_have_text("Import of hope-intake.csv")
    expect(page.locator('[data-progress="status_label"]')).to_have_text("waiting to start")
    expect(page.get_by_text("None so far.")).to_be_visible()
    axe_check(page)
    worker = worker_process(burst=False, queues=("import",))

    # The page follows the import by itself and ends listing the refused rows.
    wait_until_done(page, refused=4)
    assert worker.poll() is None, worker.stdout.read()
    numbers = counts(page)
    assert numbers["Rows read"] == "7 / 7"
    assert (numbers["New people"], numbers["Rows refused"], numbers["Photos added"]) == (
        "3", "4", "3")
    assert refused_rows(page) == [
        ("4", "HS-3", "Wang Fang", "sex", "Write F, M or U (female, male, unknown)."),
        ("5", "HS-4", "Zhou Jie", "birth_year",
         "Give the year of birth, or the earliest and the latest."),
        ("6", "HS-5", "Sun Li", "photos",
         f"{original[4][6]}: {original[4][6]} is not among the photos."),
        ("7", "HS-1", "Chen Bo", "reference", "This reference is already on line 2."),
    ]
    # A phone shows what each number and word is.
    for header in ("Line", "Reference", "Name", "Column", "Why"):
        box = page.get_by_role("columnheader", name=header).bounding_box()
        assert box and box["width"] > 5 and box["height"] > 5, f"{header} is not shown"
    assert sorted(SeekerPosting.objects.filter(organisation=shelter)
                  .values_list("partner_reference", flat=True)) == ["HS-1", "HS-2", "HS-7"]
    assert SeekerPosting.objects.get(partner_reference="HS-1").display_name == "Xiao Hong"
    axe_check(page)
    assert_fits_width(page)
    screenshot(page, "refused-rows", docs_name="partner-import-refused")

    # The refused rows come down as a CSV, are fixed as in a spreadsheet and go up again.
    with page.expect_download() as download_info:
        page.get_by_role("link", name="Download the refused rows (CSV)").click()
    download = download_info.value
    assert download.suggested_filename == f"refused-rows-import-{first.pk}.csv"
    downloaded = list(csv.reader(io.StringIO(Path(download.path()).read_text("utf-8-sig"))))
    assert downloaded[0] == ["line", "column", "message", *HEADER]
    rows = [dict(zip(downloaded[0], row, strict=True)) for row in downloaded[1:]]
    assert [(row["line"], row["column"], row["reference"]) for row in rows] == [
        ("4", "sex", "HS-3"), ("5", "birth_year", "HS-4"), ("6", "photos", "HS-5"),
        ("7", "reference", "HS-1")]
    assert rows[2]["message"].startswith(original[4][6])
    fixes = {"4": ("sex", "F"), "5": ("birth_year", "1983"), "6": ("photos", p[4]),
             "7": ("reference", "HS-6")}
    for row in rows:
        column, value = fixes[row["line"]]
        row[column] = value
    fixed_csv = write_csv(tmp_path / "refused-rows-fixed.csv", downloaded[0],
                          [[row[name] for name in downloaded[0]] for row in rows])

    page.get_by_role("link", name="All imports").click()
    page.wait_for_url(re.compile(r"/partners/imports/$"))
    expect(page.get_by_role("link", name="hope-intake.csv")).to_be_visible()
    upload(page, fixed_csv, photos_zip)
    page.wait_for_url(re.compile(r"/partners/imports/\d+/$"))
    wait_until_done(page)
    expect(page.get_by_text("No row was refused.")).to_be_visible()
    expect(page.get_by_role("link", name="Download the refused rows (CSV)")).to_have_count(0)
    numbers = counts(page)
    assert numbers["Rows read"] == "4 / 4"
    assert (numbers["Rows done"], numbers["New people"], numbers["Rows refused"],
            numbers["Photos added"]) == ("4", "4", "0", "4")
    axe_check(page)
    screenshot(page, "all-rows-in")

    postings = {posting.partner_reference: posting
                for posting in SeekerPosting.objects.filter(organisation=shelter)}
    assert sorted(postings) == ["HS-1", "HS-2", "HS-3", "HS-4", "HS-5", "HS-6", "HS-7"]
    for posting in postings.values():
        assert posting.organisation == shelter and posting.matching_basis == BASIS
        assert posting.posted_for == SeekerPosting.PostedFor.FOUND_PERSON
        assert posting.consent_to_matching and posting.owner == member
        assert posting.photos.count() == 1
    assert postings["HS-3"].sex == Sex.FEMALE
    assert (postings["HS-4"].birth_year_min, postings["HS-4"].birth_year_max) == (1983, 1983)
    assert (postings["HS-6"].display_name, postings["HS-6"].memories) == (
        "Chen Bo", "A scar on the chin.")
    assert postings["HS-1"].display_name == "Xiao Hong"
    assert Photo.objects.filter(seeker_posting__organisation=shelter).count() == 7

    # The original file once more: nothing new, the good rows are already up to date.
    before = list(SeekerPosting.objects.filter(organisation=shelter).order_by("pk").values())
    page.get_by_role("link", name="All imports").click()
    upload(page, original_csv, photos_zip)
    page.wait_for_url(re.compile(r"/partners/imports/\d+/$"))
    wait_until_done(page, refused=4)
    numbers = counts(page)
    assert (numbers["New people"], numbers["People updated"], numbers["Already up to date"],
            numbers["Rows refused"], numbers["Photos added"]) == ("0", "0", "3", "4", "0")
    assert list(SeekerPosting.objects.filter(organisation=shelter).order_by("pk").values()) == (
        before)
    assert Photo.objects.filter(seeker_posting__organisation=shelter).count() == 7

    page.get_by_role("link", name="All imports").click()
    page.wait_for_url(re.compile(r"/partners/imports/$"))
    expect(page.locator("main tbody tr")).to_have_count(3)
    assert PartnerImport.objects.filter(status=PartnerImport.Status.DONE).count() == 3
    axe_check(page)
    assert_fits_width(page)
    screenshot(page, "imports")
