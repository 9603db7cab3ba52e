"""The files partners' spreadsheets write (families/csv_reading.py), each built here as
Excel, WPS, LibreOffice or Numbers saves it: read exactly, or refused saying how to save
them; never stored garbled. The refused-rows file, fixed and sent again, goes in whole."""

from __future__ import annotations

import csv
import io
import zipfile

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile

from families.models import PartnerImport, Photo, SeekerPosting
from families.partners import csv_reading
from families.partners.services import partner_import_run, partner_import_start
from tests import builders

pytestmark = pytest.mark.django_db

MEMORY = 'He says "mama" and\n"baba";\tcalls the river "big water".'
HEADER = ["reference", "name", "sex", "birth_year", "notes", "photos", "photo_age"]
ROWS = [
    ["HS-1", "Hélène Müller", "F", "1986", MEMORY, "hs1.jpg", "6"],
    ["HS-2", "小红", "女", "1990", "红色的门", "", ""],
]


def written(rows: list[list[str]], *, delimiter: str = ",", header=HEADER) -> str:
    """The table as a spreadsheet writes it: RFC 4180 quoting, CRLF line ends."""
    out = io.StringIO()
    csv.writer(out, delimiter=delimiter, lineterminator="\r\n").writerows([header, *rows])
    return out.getvalue()


def photos(names: dict[str, bytes] | None = None) -> SimpleUploadedFile:
    return builders.zip_upload(
        names or {"hs1.jpg": builders.jpeg(size=(240, 240), colour=(200, 10, 10))})


@pytest.fixture
def shelter(make_user):
    from families.models import PartnerOrganisation

    organisation = PartnerOrganisation.objects.create(
        name="Hope shelter", kind="shelter", region="Hebei", matching_basis="Intake records.")
    organisation.members.add(make_user(email="intake@hope.example.org"))
    return organisation


def run_import(organisation, data: bytes, zip_file=None) -> PartnerImport:
    started = partner_import_start(actor=organisation.members.get(), organisation=organisation,
                                   csv_data=data, csv_name="people.csv", photos_zip=zip_file,
                                   queue=False)
    return partner_import_run(partner_import_id=started.pk)


def test_excel_unicode_text_utf16_tabs_and_multiline_quoted_cells_go_in_exactly(
    shelter, redis_queues
):
    data = written(ROWS, delimiter="\t").encode("utf-16")  # with its mark, as Excel writes
    done = run_import(shelter, data, photos())
    assert (done.rows_created, done.rows_refused, done.photos_added) == (2, 0, 1)
    first = SeekerPosting.objects.get(partner_reference="HS-1")
    assert (first.display_name, first.memories) == ("Hélène Müller", MEMORY)
    assert Photo.objects.filter(seeker_posting=first).count() == 1
    assert SeekerPosting.objects.get(partner_reference="HS-2").display_name == "小红"


def test_a_quoted_cell_with_doubled_quotes_is_never_cut_whatever_the_first_lines_say():
    # csv.Sniffer guessed doublequote=False from such lines and cut the cell.
    text = written([["HS-1", "A", "F", "1986", 'Says ""x"" and "y"', "", ""]] * 3)
    table = csv_reading.read_table(text.encode())
    assert [row["memories"] for row in table.rows] == ['Says ""x"" and "y"'] * 3


def test_windows_1252_is_read_as_such_never_as_chinese(shelter, redis_queues):
    rows = [["HS-1", "Hélène Müller", "F", "1986", "Née à Lyon, père inconnu.", "", ""],
            ["HS-2", "José Núñez", "M", "1984", "Señora García", "", ""]]
    done = run_import(shelter, written(rows, delimiter=";").encode("cp1252"))
    assert (done.rows_created, done.rows_refused) == (2, 0)
    names = set(SeekerPosting.objects.values_list("display_name", flat=True))
    assert names == {"Hélène Müller", "José Núñez"}


def test_a_file_whose_encoding_is_unsure_is_refused_naming_what_it_could_be(shelter):
    # One name with a few accents: as likely Windows-1252 as Chinese (H閘鑞e M黮ler).
    data = written([["HS-1", "Hélène Müller", "F", "1986", "", "", ""]]).encode("cp1252")
    with pytest.raises(ValidationError) as refused:
        run_import(shelter, data)
    message = " ".join(refused.value.messages)
    assert "can't be told for sure" in message and "Windows-1252" in message
    assert "GB18030" in message and "CSV UTF-8" in message
    assert not PartnerImport.objects.exists() and not SeekerPosting.objects.exists()


def test_gb18030_from_a_chinese_windows_is_read(shelter, redis_queues):
    rows = [["HS-1", "王小红", "女", "1986", "记得家门口有一条大河，河边有棵老槐树。", "", ""],
            ["HS-2", "李明", "男", "1984", "河北省石家庄市", "", ""]]
    done = run_import(shelter, written(rows).encode("gb18030"))
    assert (done.rows_created, done.rows_refused) == (2, 0)
    assert SeekerPosting.objects.get(partner_reference="HS-1").memories == (
        "记得家门口有一条大河，河边有棵老槐树。")


def test_semicolons_trailing_empty_columns_and_a_decimal_comma(shelter, redis_queues):
    # Excel in a locale with a decimal comma: semicolons, and empty columns after the last.
    text = ("reference;name;sex;birth_year;photos;photo_age;;\r\n"
            "HS-1;Xiao Hong;F;1986;hs1.jpg;5,5;;\r\n"
            "HS-2;Li Ming;M;1984;;;;\r\n")
    done = run_import(shelter, text.encode("utf-8-sig"), photos())
    assert (done.rows_created, done.rows_refused) == (2, 0), list(done.refusals.values())
    photo = Photo.objects.get(seeker_posting__partner_reference="HS-1")
    assert float(photo.age_in_photo) == 5.5


@pytest.mark.parametrize("age", ["1,234", "5 years", "5,5,5"])
def test_a_number_that_is_not_one_is_refused_clearly(age):
    row = csv_reading.read_row({"reference": "HS-1", "display_name": "A", "sex": "F",
                                "birth_year": "1986", "photos": "a.jpg", "photo_age": age})
    assert [column for column, _message in row.problems] == ["photo_age"]
    assert "like 6 or 5.5" in row.problems[0][1]


def _zip_with_raw_names(names: dict[bytes, bytes]) -> bytes:
    """A zip whose names are the given bytes with no UTF-8 flag, as Chinese Windows writes."""
    out = io.BytesIO()
    placeholders = {}
    with zipfile.ZipFile(out, "w") as archive:
        for index, (raw, data) in enumerate(names.items()):
            placeholder = f"{index:0{len(raw)}d}"[-len(raw):].encode()
            placeholders[placeholder] = raw
            archive.writestr(placeholder.decode(), data)
    result = out.getvalue()
    for placeholder, raw in placeholders.items():
        assert result.count(placeholder) == 2  # the local header and the central directory
        result = result.replace(placeholder, raw)
    return result


def test_zip_names_from_chinese_windows_and_backslash_folders_are_found(shelter, redis_queues):
    red = builders.jpeg(size=(240, 240), colour=(200, 10, 10))
    green = builders.jpeg(size=(240, 240), colour=(10, 200, 10))
    archive = _zip_with_raw_names({"照片\\小红.jpg".encode("gbk"): red,
                                   b"photos\\li.jpg": green})
    with zipfile.ZipFile(io.BytesIO(archive)) as check:
        assert not any(info.flag_bits & 0x800 for info in check.infolist())
    rows = [["HS-1", "Xiao Hong", "F", "1986", "", "照片/小红.jpg", "6"],
            ["HS-2", "Li Ming", "M", "1984", "", "photos\\li.jpg", "30"]]
    done = run_import(shelter, written(rows).encode(),
                      SimpleUploadedFile("photos.zip", archive, "application/zip"))
    assert (done.rows_created, done.rows_refused, done.photos_added) == (2, 0, 2), list(
        done.refusals.values_list("message", flat=True))


def test_a_utf8_flagged_zip_keeps_its_names():
    archive = photos({"照片/小红.jpg": b"x"})
    with zipfile.ZipFile(archive) as opened:
        assert [csv_reading.zip_name(info) for info in opened.infolist()] == ["照片/小红.jpg"]


def test_the_refused_rows_file_round_trips_every_kind_of_cell(shelter, redis_queues):
    rows = [
        ["HS-1", "Hélène Müller", "X", "1986", MEMORY, "hs1.jpg", "5,5"],
        ["HS-2", "=HYPERLINK(\"http://evil.example\",\"x\")", "X", "1990", "+86 139", "", ""],
        ["HS-3", "小红", "X", "1990", "'@quoted", "", ""],
    ]
    first = run_import(shelter, written(rows, delimiter="\t").encode("utf-16"), photos())
    assert first.rows_refused == 3
    download = "".join(csv_reading.refused_rows_csv(first.csv_header, first.refusals.all()))
    parsed = list(csv.reader(io.StringIO(download.lstrip("\ufeff"), newline="")))
    fixed = [parsed[0], *[[("F" if cell == "X" else cell) for cell in row]
                          for row in parsed[1:]]]
    out = io.StringIO()
    csv.writer(out, lineterminator="\r\n").writerows(fixed)

    again = run_import(shelter, ("\ufeff" + out.getvalue()).encode(), photos())

    assert (again.rows_created, again.rows_refused, again.photos_added) == (3, 0, 1)
    postings = {p.partner_reference: p for p in SeekerPosting.objects.all()}
    assert postings["HS-1"].memories == MEMORY
    assert postings["HS-1"].display_name == "Hélène Müller"
    assert postings["HS-2"].display_name == rows[1][1]
    assert postings["HS-2"].memories == "+86 139"
    # A quote before a sign is a spreadsheet's text mark: read so from the first file too.
    assert postings["HS-3"].memories == "@quoted"
    assert float(Photo.objects.get(seeker_posting=postings["HS-1"]).age_in_photo) == 5.5
