"""Partners' bulk imports (families/partners/services/imports.py, families/csv_reading.py):
rows in or refused with their line, column and why; whole files refused with nothing kept;
the same file twice changes nothing; the refused rows fixed and sent again go in; photos
through the uploads' checks onto the bulk face queue; the files gone once done."""

from __future__ import annotations

import csv
import io
import struct
import zipfile
from datetime import timedelta

import pytest
from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from families.models import (
    AuditEntry,
    PartnerImport,
    PartnerOrganisation,
    Photo,
    SeekerPosting,
    Sex,
)
from families.partners import csv_reading
from families.partners.services import partner_import_run, partner_import_start
from matching.models import MatchJob
from tests import builders

pytestmark = pytest.mark.django_db

BASIS = "Intake records of the Hope shelter, 1985-1995."
HEADER = ["reference", "name", "sex", "birth_year", "province", "notes", "photos", "photo_age"]
GOOD = [
    ["HS-1", "Xiao Hong", "F", "1986", "Hebei", "A red door.", "hs1.jpg", "6"],
    ["HS-2", "Li Ming", "男", "1984", "Hebei", "", "hs2.jpg", "30"],
    ["HS-3", "Wang Fang", "f", "1990", "Shanxi", "Came in winter.", "", ""],
]
BAD = [
    ["HS-4", "No Sex", "X", "1986", "Hebei", "", "", ""],  # line 5: sex
    ["HS-5", "No Year", "F", "", "Hebei", "", "", ""],  # line 6: birth year
    ["HS-6", "Lost Photo", "F", "1986", "Hebei", "", "missing.jpg", ""],  # line 7: photo
    ["HS-7", "Not A Photo", "F", "1986", "Hebei", "", "notes.jpg", ""],  # line 8: not a photo
    ["HS-1", "Twice", "F", "1986", "Hebei", "", "", ""],  # line 9: reference again
    ["bad ref!", "Bad Ref", "F", "1986", "Hebei", "", "", ""],  # line 10: reference
]


def csv_bytes(rows: list[list[str]], header: list[str] = HEADER) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(header)
    writer.writerows(rows)
    return out.getvalue().encode()


def photos_zip(names: dict[str, bytes] | None = None) -> SimpleUploadedFile:
    names = names if names is not None else {
        "hs1.jpg": builders.jpeg(size=(240, 240), colour=(200, 10, 10)),
        "people/hs2.jpg": builders.jpeg(size=(240, 240), colour=(10, 200, 10)),
        "notes.jpg": b"this is not a photo",
    }
    return builders.zip_upload(names)


@pytest.fixture
def shelter(make_user) -> PartnerOrganisation:
    organisation = PartnerOrganisation.objects.create(
        name="Hope shelter", kind="shelter", region="Hebei", matching_basis=BASIS)
    organisation.members.add(make_user(email="intake@hope.example.org"))
    return organisation


def member(organisation: PartnerOrganisation):
    return organisation.members.get()


def run_import(organisation: PartnerOrganisation, data: bytes, zip_file=None) -> PartnerImport:
    started = partner_import_start(actor=member(organisation), organisation=organisation,
                                   csv_data=data, csv_name="people.csv", photos_zip=zip_file,
                                   queue=False)
    return partner_import_run(partner_import_id=started.pk)


def test_rows_go_in_or_are_refused_with_line_column_and_why(shelter, redis_queues):
    done = run_import(shelter, csv_bytes(GOOD + BAD), photos_zip())

    assert done.status == PartnerImport.Status.DONE
    assert (done.rows_total, done.rows_processed) == (9, 9)
    refusals = {r.line: (r.column, r.message) for r in done.refusals.all()}
    assert (done.rows_created, done.rows_refused, done.photos_added) == (3, 6, 2), refusals
    assert sorted(refusals) == [5, 6, 7, 8, 9, 10]
    assert refusals[5][0] == "sex" and "F, M or U" in refusals[5][1]
    assert refusals[6][0] == "birth_year"
    assert refusals[7] == ("photos", "missing.jpg: missing.jpg is not among the photos.")
    assert refusals[8][0] == "photos" and "notes.jpg" in refusals[8][1]
    assert refusals[9] == ("reference", "This reference is already on line 2.")
    assert refusals[10][0] == "reference"
    assert done.refusals.get(line=5).cells["display_name"] == "No Sex"

    postings = SeekerPosting.objects.filter(organisation=shelter).order_by("partner_reference")
    assert [p.partner_reference for p in postings] == ["HS-1", "HS-2", "HS-3"]
    first = postings[0]
    assert (first.display_name, first.sex, first.birth_year_min, first.birth_year_max) == (
        "Xiao Hong", Sex.FEMALE, 1986, 1986)
    assert (first.grew_up_province, first.memories) == ("Hebei", "A red door.")
    assert first.posted_for == SeekerPosting.PostedFor.FOUND_PERSON
    assert first.consent_to_matching and first.matching_basis == BASIS
    assert first.owner == member(shelter)
    assert postings[1].sex == Sex.MALE
    # Nothing of a refused row is kept.
    assert not SeekerPosting.objects.filter(partner_reference__in=["HS-4", "HS-6", "HS-7"])


def test_photos_take_the_upload_checks_and_the_bulk_face_queue(
    shelter, redis_queues, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        done = run_import(shelter, csv_bytes(GOOD), photos_zip())

    photos = Photo.objects.filter(partner_import=done).order_by("seeker_posting__partner_reference")
    assert photos.count() == 2
    child, adult = photos
    assert (child.kind, float(child.age_in_photo)) == (Photo.Kind.CHILDHOOD, 6.0)
    assert adult.kind == Photo.Kind.RECENT
    assert child.face_state == Photo.FaceState.WAITING
    assert child.use_on_poster is False  # a found person's photo is never public by itself
    with child.image.open("rb") as stored:
        assert stored.read(2) == b"\xff\xd8"  # re-encoded as a plain JPEG
    queued = redis_queues[settings.FACE_BULK_QUEUE].get_job_ids()
    assert len(queued) == 2
    assert not redis_queues[settings.FACE_QUEUE].get_job_ids()
    assert MatchJob.objects.filter(photo__in=photos).count() == 2


def test_the_same_file_twice_changes_nothing(shelter, redis_queues):
    data = csv_bytes(GOOD + BAD)
    run_import(shelter, data, photos_zip())
    postings = list(SeekerPosting.objects.filter(organisation=shelter).values())
    photos = list(Photo.objects.values_list("pk", "sha256"))
    saved = AuditEntry.objects.filter(action="partner_posting.saved").count()

    again = run_import(shelter, data, photos_zip())

    assert (again.rows_created, again.rows_updated, again.rows_unchanged) == (0, 0, 3)
    assert (again.rows_refused, again.photos_added) == (6, 0)
    assert list(SeekerPosting.objects.filter(organisation=shelter).values()) == postings
    assert list(Photo.objects.values_list("pk", "sha256")) == photos
    assert AuditEntry.objects.filter(action="partner_posting.saved").count() == saved


def test_a_changed_row_updates_its_person(shelter, redis_queues):
    run_import(shelter, csv_bytes(GOOD), photos_zip())
    changed = [row[:] for row in GOOD]
    changed[2][5] = "Came in the winter of 1994."

    again = run_import(shelter, csv_bytes(changed), photos_zip())

    assert (again.rows_created, again.rows_updated, again.rows_unchanged) == (0, 1, 2)
    assert SeekerPosting.objects.get(partner_reference="HS-3").memories == (
        "Came in the winter of 1994.")


def test_the_refused_rows_fixed_and_sent_again_go_in(shelter, redis_queues):
    first = run_import(shelter, csv_bytes(GOOD + BAD), photos_zip())
    download = "".join(csv_reading.refused_rows_csv(first.csv_header, first.refusals.all()))
    rows = list(csv.reader(io.StringIO(download.lstrip("\ufeff"))))
    assert rows[0] == ["line", "column", "message", *HEADER]
    assert [row[0] for row in rows[1:]] == ["5", "6", "7", "8", "9", "10"]

    fixed = [rows[0]]
    for row in rows[1:]:
        cells = dict(zip(rows[0], row, strict=True))
        if cells["line"] == "9":
            continue  # the duplicate goes
        cells["sex"] = "F" if cells["sex"] == "X" else cells["sex"]
        cells["birth_year"] = cells["birth_year"] or "1987"
        cells["photos"] = ""  # the missing photo and the text file go
        cells["reference"] = "HS-10" if cells["reference"] == "bad ref!" else cells["reference"]
        fixed.append([cells[name] for name in rows[0]])
    again = run_import(shelter, csv_bytes(fixed[1:], header=fixed[0]))

    assert (again.rows_created, again.rows_refused) == (5, 0)
    assert SeekerPosting.objects.filter(organisation=shelter).count() == 8


@pytest.mark.parametrize(("data", "zip_file", "message"), [
    (csv_bytes(GOOD, header=[*HEADER[:-1], "brith_year"]), None, "Unknown columns: brith_year"),
    (csv_bytes(GOOD, header=["reference", "name", "birth_year", "province", "notes", "photos",
                             "photo_age", "x"]), None, "Unknown columns: x"),
    (csv_bytes([row[:2] + row[3:] for row in GOOD], header=[h for h in HEADER if h != "sex"]),
     None, "Missing columns: sex"),
    (csv_bytes([]), None, "no rows"),
    (b"", None, "empty"),
    (b"\x89PNG\r\n\x1a\n\0\0\0", None, "binary"),
    (csv_bytes(GOOD), None, "upload the zip"),
    (csv_bytes(GOOD), SimpleUploadedFile("photos.zip", b"not a zip"), "not a zip"),
])
def test_a_file_that_cannot_be_read_is_refused_and_nothing_is_kept(
    shelter, redis_queues, media_root, data, zip_file, message
):
    with pytest.raises(ValidationError) as refused:
        partner_import_start(actor=member(shelter), organisation=shelter, csv_data=data,
                             csv_name="people.csv", photos_zip=zip_file)
    assert message in " ".join(refused.value.messages)
    assert not PartnerImport.objects.exists()
    assert not list(media_root.rglob("*.*"))


@pytest.mark.parametrize("encoding", ["utf-8-sig", "utf-16", "gb18030"])
def test_the_text_encodings_a_spreadsheet_saves_are_read(encoding):
    text = "reference;name;sex;birth_year;province\nHS-1;小红;女;1986;河北\n"
    table = csv_reading.read_table(text.encode(encoding))
    assert table.rows == [{"reference": "HS-1", "display_name": "小红", "sex": "女",
                           "birth_year": "1986", "grew_up_province": "河北"}]
    assert csv_reading.read_row(table.rows[0]).fields["sex"] == Sex.FEMALE


def test_too_many_rows_are_refused(shelter, settings):
    settings.PARTNER_IMPORT_MAX_ROWS = 2
    with pytest.raises(ValidationError, match="at most 2"):
        partner_import_start(actor=member(shelter), organisation=shelter,
                             csv_data=csv_bytes(GOOD), csv_name="p.csv", photos_zip=photos_zip())


def test_only_an_active_member_imports(shelter, make_user, redis_queues):
    with pytest.raises(PermissionDenied):
        partner_import_start(actor=make_user(), organisation=shelter, csv_data=csv_bytes(GOOD),
                             csv_name="p.csv", photos_zip=photos_zip())
    shelter.is_active = False
    shelter.save()
    with pytest.raises(PermissionDenied):
        partner_import_start(actor=member(shelter), organisation=shelter,
                             csv_data=csv_bytes(GOOD), csv_name="p.csv", photos_zip=photos_zip())


def test_a_member_removed_before_the_import_runs_stops_it_with_a_reason(shelter, redis_queues):
    started = partner_import_start(actor=member(shelter), organisation=shelter,
                                   csv_data=csv_bytes(GOOD), csv_name="p.csv",
                                   photos_zip=photos_zip(), queue=False)
    shelter.members.clear()

    stopped = partner_import_run(partner_import_id=started.pk)

    assert stopped.status == PartnerImport.Status.FAILED
    assert "no longer an active member" in stopped.error
    assert not SeekerPosting.objects.filter(organisation=shelter).exists()


def test_the_uploaded_files_go_once_the_import_is_done(shelter, redis_queues, media_root,
                                                       django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        started = partner_import_start(actor=member(shelter), organisation=shelter,
                                       csv_data=csv_bytes(GOOD), csv_name="p.csv",
                                       photos_zip=photos_zip(), queue=False)
    assert len(list((media_root / "partner-imports").iterdir())) == 2
    with django_capture_on_commit_callbacks(execute=True):
        done = partner_import_run(partner_import_id=started.pk)
    assert not list((media_root / "partner-imports").iterdir())
    assert not done.csv_file and not done.photos_zip
    notice = member(shelter).notifications.get()
    assert "is done" in notice.subject and "3 of 3 rows went in" in notice.body


def test_a_run_with_a_time_limit_takes_a_slice_and_the_next_run_goes_on(shelter, redis_queues):
    started = partner_import_start(actor=member(shelter), organisation=shelter,
                                   csv_data=csv_bytes(GOOD + BAD), csv_name="p.csv",
                                   photos_zip=photos_zip(), queue=False)
    first = partner_import_run(partner_import_id=started.pk, max_seconds=0.0001)
    assert first.status == PartnerImport.Status.RUNNING
    assert 0 < first.rows_processed < 9
    done = partner_import_run(partner_import_id=started.pk)
    assert (done.status, done.rows_processed, done.rows_created) == ("done", 9, 3)


def test_a_members_account_goes_but_the_organisations_postings_stay(shelter, make_user,
                                                                    redis_queues):
    from families.services import account_delete

    run_import(shelter, csv_bytes(GOOD), photos_zip())
    leaving = member(shelter)
    with pytest.raises(ValidationError, match="Hope shelter would be left with no member"):
        account_delete(actor=leaving, user=leaving)
    assert SeekerPosting.objects.filter(organisation=shelter).count() == 3

    staying = make_user()
    shelter.members.add(staying)
    account_delete(actor=leaving, user=leaving)

    postings = SeekerPosting.objects.filter(organisation=shelter)
    assert postings.count() == 3 and {p.owner for p in postings} == {staying}
    assert Photo.objects.filter(seeker_posting__in=postings).count() == 2
    assert AuditEntry.objects.filter(action="partner_postings.handed_over").exists()


def test_refused_rows_go_after_the_days_they_are_kept(shelter, redis_queues, settings):
    from families.partners.services.imports import partner_import_refusals_expire

    done = run_import(shelter, csv_bytes(GOOD + BAD), photos_zip())
    assert partner_import_refusals_expire() == 0, "kept while the members fix them"
    PartnerImport.objects.filter(pk=done.pk).update(
        finished_at=timezone.now() - timedelta(days=settings.PARTNER_IMPORT_REFUSALS_KEEP_DAYS,
                                               minutes=1))

    assert partner_import_refusals_expire() == 1
    done.refresh_from_db()
    assert not done.refusals.exists() and done.refusals_deleted_at is not None
    assert done.rows_refused == 6, "the counts stay"
    assert AuditEntry.objects.filter(action="partner_import.refusals_deleted").exists()
    assert partner_import_refusals_expire() == 0


def test_an_import_deleted_before_it_runs_is_nothing_to_do(shelter, redis_queues):
    started = partner_import_start(actor=member(shelter), organisation=shelter,
                                   csv_data=csv_bytes(GOOD), csv_name="p.csv",
                                   photos_zip=photos_zip(), queue=False)
    started.delete()
    assert partner_import_run(partner_import_id=started.pk) is None
    assert not SeekerPosting.objects.filter(organisation=shelter).exists()


def test_a_refusal_names_the_column_as_the_file_does(shelter, redis_queues):
    rows = [["HS-1", "", "F", "1990", "", "", "", ""],  # no name, in the "name" column
            ["HS-2", "Li", "F", "1990", "", "", "", ""]]
    header = [*HEADER[:3], "birth_year", *HEADER[4:]]
    done = run_import(shelter, csv_bytes(rows, header=header))
    refusal = done.refusals.get()
    assert (refusal.line, refusal.column) == (2, "name")


def test_a_stopped_import_deletes_its_files_as_a_finished_one_does(
    shelter, redis_queues, media_root, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        started = partner_import_start(actor=member(shelter), organisation=shelter,
                                       csv_data=csv_bytes(GOOD), csv_name="p.csv",
                                       photos_zip=photos_zip(), queue=False)
    assert len(list((media_root / "partner-imports").iterdir())) == 2
    shelter.members.clear()
    with django_capture_on_commit_callbacks(execute=True):
        stopped = partner_import_run(partner_import_id=started.pk)
    assert stopped.status == PartnerImport.Status.FAILED
    assert not list((media_root / "partner-imports").iterdir())
    stopped.refresh_from_db()
    assert not stopped.csv_file and not stopped.photos_zip


def test_the_upkeep_deletes_the_files_an_ended_import_still_has(
    shelter, redis_queues, media_root, settings
):
    from families.partners.services.imports import partner_imports_upkeep

    started = partner_import_start(actor=member(shelter), organisation=shelter,
                                   csv_data=csv_bytes(GOOD), csv_name="p.csv",
                                   photos_zip=photos_zip(), queue=False)
    running = partner_import_start(actor=member(shelter), organisation=shelter,
                                   csv_data=csv_bytes(GOOD), csv_name="q.csv",
                                   photos_zip=photos_zip(), queue=False)
    # Ended (stopped) while the deletion after it was lost: a crash between the two.
    PartnerImport.objects.filter(pk=started.pk).update(
        status=PartnerImport.Status.FAILED, finished_at=timezone.now())
    settings.RECONCILE_GRACE_SECONDS = 3600
    assert partner_imports_upkeep()["files_deleted"] == 0, "not before the grace"
    PartnerImport.objects.filter(pk=started.pk).update(
        finished_at=timezone.now() - timedelta(hours=2))
    assert partner_imports_upkeep()["files_deleted"] == 1
    started.refresh_from_db()
    running.refresh_from_db()
    assert not started.csv_file and not started.photos_zip
    assert running.csv_file and running.photos_zip, "an import still running keeps its files"
    assert len(list((media_root / "partner-imports").iterdir())) == 2


def test_a_row_naming_too_many_photos_is_refused(shelter, redis_queues, settings):
    settings.PARTNER_IMPORT_MAX_PHOTOS_PER_ROW = 2
    many = [["HS-1", "Xiao Hong", "F", "1986", "Hebei", "", "hs1.jpg;a.jpg;b.jpg", ""],
            ["HS-2", "Li Ming", "M", "1984", "Hebei", "", "hs1.jpg;people/hs2.jpg", ""]]
    done = run_import(shelter, csv_bytes(many), photos_zip())
    assert (done.rows_created, done.rows_refused) == (1, 1)
    refusal = done.refusals.get()
    assert (refusal.line, refusal.column) == (2, "photos")
    assert "names 3 photos; a row takes at most 2" in refusal.message
    assert not SeekerPosting.objects.filter(partner_reference="HS-1").exists()


def _with_declared_entries(data: bytes, count: int) -> bytes:
    """The zip with its end record saying it holds ``count`` entries (no comment)."""
    end = data[-22:]
    assert end[:4] == b"PK\x05\x06"
    return data[:-22] + end[:8] + count.to_bytes(2, "little") * 2 + end[12:]


def test_the_zip_s_entry_count_is_checked_before_its_index_is_read(shelter, settings):
    settings.PARTNER_IMPORT_MAX_ROWS = 100
    settings.PARTNER_IMPORT_MAX_PHOTOS_PER_ROW = 10
    honest = photos_zip().read()
    assert csv_reading.check_zip(io.BytesIO(honest)) == 3
    forged = _with_declared_entries(honest, 60_000)
    with pytest.raises(ValidationError, match="too many files"):
        csv_reading.check_zip(io.BytesIO(forged))
    with pytest.raises(ValidationError, match="too many files"):
        partner_import_start(
            actor=member(shelter), organisation=shelter, csv_data=csv_bytes(GOOD),
            csv_name="p.csv",
            photos_zip=SimpleUploadedFile("photos.zip", forged, "application/zip"))
    assert not PartnerImport.objects.exists()
    settings.PARTNER_IMPORT_MAX_ROWS = 1
    settings.PARTNER_IMPORT_MAX_PHOTOS_PER_ROW = 2
    with pytest.raises(ValidationError, match="too many files"):
        csv_reading.check_zip(io.BytesIO(honest))


def _with_zip64_count(data: bytes, count: int) -> bytes:
    """The zip with a Zip64 end record and locator claiming ``count`` entries, and its plain
    end record saying "see Zip64" (0xFFFF): a few hundred bytes claiming ``count`` files."""
    end = data[-22:]
    assert end[:4] == b"PK\x05\x06"
    index_size, index_offset = struct.unpack("<2L", end[12:20])
    body = data[:-22]
    zip64_record = struct.pack("<4sQ2H2L4Q", b"PK\x06\x06", 44, 45, 45, 0, 0,
                               count, count, index_size, index_offset)
    locator = struct.pack("<4sLQL", b"PK\x06\x07", 0, len(body), 1)
    plain = end[:8] + (0xFFFF).to_bytes(2, "little") * 2 + end[12:]
    return body + zip64_record + locator + plain


def test_the_end_record_is_read_by_the_portal_s_own_reader(monkeypatch, settings):
    settings.PARTNER_IMPORT_MAX_ROWS = 100
    settings.PARTNER_IMPORT_MAX_PHOTOS_PER_ROW = 10
    honest = photos_zip().read()
    with_comment = io.BytesIO()
    with zipfile.ZipFile(with_comment, "w") as archive:
        for index in range(5):
            archive.writestr(f"p{index}.jpg", b"x")
        archive.comment = b"PK\x05\x06" + b"c" * 60_000  # a comment that looks like a record
    for data, entries in ((honest, 3), (with_comment.getvalue(), 5)):
        assert csv_reading.zip_declared_entries(io.BytesIO(data)) == entries
    assert csv_reading.zip_declared_entries(io.BytesIO(b"not a zip" * 100)) is None
    # A zip of a few kilobytes claiming a trillion entries, in Zip64's end record: refused
    # from the end record, before zipfile reads (and allocates) the index.
    forged = _with_zip64_count(honest, 10**12)
    assert len(forged) < 10_000
    assert csv_reading.zip_declared_entries(io.BytesIO(forged)) == 10**12

    def index_read(*args, **kwargs):
        raise AssertionError("the index was read")

    monkeypatch.setattr(csv_reading.zipfile, "ZipFile", index_read)
    with pytest.raises(ValidationError, match="too many files"):
        csv_reading.check_zip(io.BytesIO(forged))
    # A Zip64 count within bounds goes on to the index (and counts it).
    monkeypatch.undo()
    assert csv_reading.zip_declared_entries(io.BytesIO(_with_zip64_count(honest, 3))) == 3
    assert csv_reading.check_zip(io.BytesIO(_with_zip64_count(honest, 3))) == 3
    # A Zip64 locator with no record before it is a damaged zip.
    broken = honest[:-22] + struct.pack("<4sLQL", b"PK\x06\x07", 0, 0, 1) + honest[-22:]
    assert csv_reading.zip_declared_entries(io.BytesIO(broken)) is None


def test_the_refused_rows_neutralise_formulas_and_come_back_as_sent(shelter, redis_queues):
    header = ["reference", "name", "sex", "birth_year", "notes", "contact_phone"]
    sent = [
        ["HS-1", "=HYPERLINK(\"http://evil.example\",\"x\")", "X", "1986",
         "@SUM(1+1)", "+86 139 0000 1234"],
        ["HS-2", "-2+3", "X", "1986", "'=already quoted", "'plain quote"],
    ]
    first = run_import(shelter, csv_bytes(sent, header=header))
    assert first.rows_refused == 2
    download = "".join(csv_reading.refused_rows_csv(first.csv_header, first.refusals.all()))
    rows = list(csv.reader(io.StringIO(download.lstrip("\ufeff"))))
    for row in rows[1:]:
        for cell in row:
            assert not cell or cell[0] not in "=+-@\t\r", f"a formula left in {cell!r}"
    assert rows[1][4] == "'=HYPERLINK(\"http://evil.example\",\"x\")"
    assert rows[1][8] == "'+86 139 0000 1234"
    # A quote before a sign is a spreadsheet's mark for text, read as such from any file.
    assert rows[2][7] == "'=already quoted" and rows[2][8] == "'plain quote"

    fixed = [rows[0], *[[("F" if cell == "X" else cell) for cell in row] for row in rows[1:]]]
    again = run_import(shelter, csv_bytes(fixed[1:], header=fixed[0]))
    assert (again.rows_created, again.rows_refused) == (2, 0)
    postings = {p.partner_reference: p for p in SeekerPosting.objects.filter(organisation=shelter)}
    assert postings["HS-1"].display_name == sent[0][1]
    assert postings["HS-1"].memories == "@SUM(1+1)"
    assert postings["HS-1"].contact_phone == "+86 139 0000 1234"
    assert postings["HS-2"].display_name == "-2+3"
    assert postings["HS-2"].memories == "=already quoted"
    assert postings["HS-2"].contact_phone == "'plain quote"
