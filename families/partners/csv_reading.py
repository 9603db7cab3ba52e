"""Reading a partner's CSV of found people and finding the photos it names.

One row per person. The first line names the columns (docs/PARTNERS.md lists
them); the partners' API field names are the columns' names, with a few short
forms a spreadsheet user would write (``name``, ``province``, ``notes``, ...).
A whole file is refused (``ValidationError``, nothing stored) when it can't be
read as a table of found people; a single row's problems are returned with the
row, as (column, message) pairs, so the rest of the file goes in.

Nothing here touches the database or storage.
"""

from __future__ import annotations

import codecs
import csv
import io
import re
import struct
import unicodedata
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from charset_normalizer import from_bytes
from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext as _

from families.models import Photo, Sex, partner_reference_validator

#: Short forms a spreadsheet user may write, and the column each stands for.
ALIASES = {
    "name": "display_name", "province": "grew_up_province", "city": "grew_up_city",
    "district": "grew_up_district", "country": "grew_up_country", "notes": "memories",
    "photo": "photos",
}
POSTING_COLUMNS = (
    "display_name", "sex", "birth_year_min", "birth_year_max", "grew_up_province",
    "grew_up_city", "grew_up_district", "grew_up_country", "memories", "dialect",
    "arrived_year", "contact_phone", "contact_email",
)
PHOTO_COLUMNS = ("photos", "photo_age", "photo_year", "photo_kind")
COLUMNS = ("reference", *POSTING_COLUMNS, "birth_year", *PHOTO_COLUMNS)
REQUIRED = ("reference", "display_name", "sex")
#: The columns the refused-rows download adds in front; read back, they are left aside.
REFUSAL_COLUMNS = ("line", "column", "message")
YEAR_COLUMNS = ("birth_year", "birth_year_min", "birth_year_max", "arrived_year", "photo_year")

SEXES = {
    "f": Sex.FEMALE, "female": Sex.FEMALE, "女": Sex.FEMALE,
    "m": Sex.MALE, "male": Sex.MALE, "男": Sex.MALE,
    "u": Sex.UNKNOWN, "unknown": Sex.UNKNOWN, "不详": Sex.UNKNOWN, "未知": Sex.UNKNOWN,
}
PHOTO_KINDS = {"childhood": Photo.Kind.CHILDHOOD, "recent": Photo.Kind.RECENT}
#: Below this age a photo is a childhood photo unless the row says otherwise.
CHILDHOOD_UNDER = 18
#: The fields whose text may run over several lines (tabs and line breaks allowed).
MULTILINE_COLUMNS = ("memories",)
#: The longest memories a row or a call may give (the other fields are bounded by the model).
MEMORIES_MAX_LENGTH = 10_000
#: The first year a birth, an arrival or a photo may be given (the forms' bound too).
FIRST_YEAR = 1900


def year_problem(year: int) -> str | None:
    """Why ``year`` can't be a year of birth, of arrival or of a photo (none if it can):
    the same rule for an import's row and the API (``families.partners.api.serializers``)."""
    this_year = timezone.now().year
    if not FIRST_YEAR <= year <= this_year:
        return _("A year between %(first)d and %(last)d.") % {"first": FIRST_YEAR,
                                                                "last": this_year}
    return None


def text_problem(text: str, *, multiline: bool = False) -> str | None:
    """Why ``text`` can't be stored (none if it can): a control character (a NUL, an escape,
    a line break in a one-line field) is never a person's name or memory."""
    allowed = "\t\n\r" if multiline else ""
    for char in text:
        if unicodedata.category(char) in ("Cc", "Cs") and char not in allowed:
            return _("The text holds a control character (%(code)s): remove it.") % {
                "code": f"U+{ord(char):04X}"}
    return None


@dataclass(frozen=True)
class Table:
    """A read CSV: the columns as the file names them, and each row's cells by column."""

    header: list[str]
    rows: list[dict[str, str]]  # keyed by the canonical column name

    def line_of(self, index: int) -> int:
        """The row's line in the file as a spreadsheet numbers it (the header is line 1)."""
        return index + 2

    def column_named(self, column: str) -> str:
        """A column as the file names it (``name`` for ``display_name``, say); a birth year
        bound of a file that gives ``birth_year`` is that column."""
        names = {_canonical(name): name for name in self.header}
        if column in ("birth_year_min", "birth_year_max") and column not in names:
            column = "birth_year"
        return names.get(column, column)


@dataclass
class Row:
    """What a row says: the posting's fields, its photos, and what is wrong with it."""

    reference: str
    fields: dict[str, Any] = field(default_factory=dict)
    photo_names: list[str] = field(default_factory=list)
    photo_facts: dict[str, Any] = field(default_factory=dict)
    problems: list[tuple[str, str]] = field(default_factory=list)


#: The encodings a spreadsheet saves a CSV in, besides UTF-8 and UTF-16 (which say so):
#: Chinese Windows (GB18030, a superset of GBK), Taiwan and Hong Kong (Big5), Western
#: Windows and Mac (Windows-1252).
LEGACY_ENCODINGS = ("gb18030", "big5", "cp1252")
#: How much less chaotic the best reading must be than any other for the encoding to be sure.
SURE_MARGIN = 0.1
#: Names of the encodings as a spreadsheet's "Save as" offers them.
ENCODING_NAMES = {"gb18030": "GB18030/GBK", "big5": "Big5", "cp1252": "Windows-1252",
                  "utf_8": "UTF-8"}


def _save_as_utf8() -> str:
    """How to save a file the reader can't be sure of."""
    return _(
        "Save it as \"CSV UTF-8\" (Excel, WPS: Save As, \"CSV UTF-8\"; LibreOffice: Save As, "
        "character set \"Unicode (UTF-8)\"; Numbers: Export To, CSV, text encoding "
        "\"Unicode (UTF-8)\") and choose that file.")


def decode(data: bytes) -> str:
    """The file's text, or ``ValidationError`` when its encoding can't be told for sure.

    A file that says its encoding (a UTF-16 or UTF-8 mark) or is valid UTF-8 is read so;
    any other is judged by charset-normalizer among the encodings spreadsheets save in
    (``LEGACY_ENCODINGS``). When two readings are about as likely (a few accented letters
    read as Windows-1252 or as Chinese), the file is refused naming them: a name stored
    garbled is worse than a file saved again. Between GB18030 and Big5 alone GB18030 is
    taken, the partners writing Simplified Chinese. Binary data is refused first: a photo
    or a spreadsheet (.xlsx) chosen by mistake is told apart from a CSV."""
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        try:
            return data.decode("utf-16")
        except UnicodeDecodeError:
            raise ValidationError(_("The CSV file can't be read as text.") + " "
                                  + _save_as_utf8()) from None
    if b"\0" in data:
        raise ValidationError(_(
            "This is not a CSV file: it holds binary data (a photo, or a spreadsheet not "
            "saved as CSV?). Save the table as \"CSV UTF-8\" and choose that file."))
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        pass
    readings: dict[str, tuple[float, str]] = {}
    for match in from_bytes(data, cp_isolation=list(LEGACY_ENCODINGS)):
        text = str(match)
        if text not in readings or match.chaos < readings[text][0]:
            readings[text] = (match.chaos, match.encoding)
    ranked = sorted(readings.items(), key=lambda item: item[1][0])
    if not ranked:
        raise ValidationError(_("The CSV file can't be read as text.") + " "
                              + _save_as_utf8())
    best_text, (best_chaos, _encoding) = ranked[0]
    close = [encoding for _text, (chaos, encoding) in ranked
             if chaos - best_chaos < SURE_MARGIN]
    if set(close) == {"gb18030", "big5"}:
        return next(text for text, (_chaos, encoding) in ranked if encoding == "gb18030")
    if len(close) > 1:
        raise ValidationError(_(
            "The CSV file's encoding can't be told for sure: it could be %(encodings)s."
        ) % {"encodings": _(" or ").join(ENCODING_NAMES.get(e, e) for e in close)}
            + " " + _save_as_utf8())
    return best_text


def _separator(text: str) -> str:
    """The separator among comma, semicolon and tab: the one the header line uses most
    (Excel writes semicolons where the decimal sign is a comma, "Unicode text" tabs)."""
    header = text.lstrip("\r\n").split("\n", 1)[0]
    counts = {separator: header.count(separator) for separator in (",", ";", "\t")}
    best = max(counts, key=lambda separator: counts[separator])
    return best if counts[best] else ","


class _Dialect(csv.excel):
    """RFC 4180: fields in double quotes, a quote inside written twice, as every spreadsheet
    writes them; only the separator differs from file to file."""

    strict = False


def read_table(data: bytes) -> Table:
    """Reads the whole CSV, or refuses it saying why (``ValidationError``)."""
    if len(data) > settings.PARTNER_IMPORT_CSV_MAX_BYTES:
        raise ValidationError(_("The CSV file is larger than %(mb)d MB: split it in parts.")
                              % {"mb": settings.PARTNER_IMPORT_CSV_MAX_BYTES // 2**20})
    text = decode(data)
    reader = csv.reader(io.StringIO(text, newline=""), _Dialect, delimiter=_separator(text))
    try:
        lines = [line for line in reader if any(cell.strip() for cell in line)]
    except csv.Error as error:
        raise ValidationError(_("The CSV file can't be read: %(error)s") % {"error": error}) \
            from None
    if not lines:
        raise ValidationError(_("The CSV file is empty."))
    header = [cell.strip() for cell in lines[0]]
    while header and not header[-1]:  # the empty columns a spreadsheet leaves at the end
        header.pop()
    columns = [_canonical(name) for name in header]
    _check_header(header, columns)
    rows = lines[1:]
    if not rows:
        raise ValidationError(_("The CSV file has column names but no rows."))
    if len(rows) > settings.PARTNER_IMPORT_MAX_ROWS:
        raise ValidationError(
            _("The CSV file has %(rows)d rows; one import takes at most %(limit)d.")
            % {"rows": len(rows), "limit": settings.PARTNER_IMPORT_MAX_ROWS})
    return Table(header=header, rows=[
        {column: (restore_formula(cells[i].strip()) if i < len(cells) else "")
         for i, column in enumerate(columns) if column not in REFUSAL_COLUMNS}
        for cells in rows
    ])


def _canonical(name: str) -> str:
    name = name.strip().lower().replace(" ", "_")
    return ALIASES.get(name, name)


def _check_header(header: list[str], columns: list[str]) -> None:
    known = set(COLUMNS) | set(REFUSAL_COLUMNS)
    unknown = [name for name, column in zip(header, columns, strict=True) if column not in known]
    if unknown:
        raise ValidationError(
            _("Unknown columns: %(unknown)s. The columns Reunion reads are: %(known)s.")
            % {"unknown": ", ".join(unknown), "known": ", ".join(COLUMNS)})
    twice = sorted({column for column in columns if columns.count(column) > 1})
    if twice:
        raise ValidationError(_("Columns named twice: %(columns)s.")
                              % {"columns": ", ".join(twice)})
    missing = [column for column in REQUIRED if column not in columns]
    if "birth_year" not in columns and not {"birth_year_min", "birth_year_max"} <= set(columns):
        missing.append("birth_year")
    if missing:
        raise ValidationError(_("Missing columns: %(missing)s.")
                              % {"missing": ", ".join(missing)})


def read_row(cells: dict[str, str]) -> Row:
    """The posting's fields and the photos of one row; its problems by column."""
    row = Row(reference=cells.get("reference", ""))
    try:
        partner_reference_validator(row.reference)
    except ValidationError as error:
        row.problems.append(("reference", " ".join(error.messages)))
    years: dict[str, int | None] = {}
    for column in YEAR_COLUMNS:
        if column in cells:
            years[column] = _year(cells[column], column, row)
    for column in POSTING_COLUMNS:
        if column in cells and column not in YEAR_COLUMNS:
            row.fields[column] = cells[column]
            problem = text_problem(cells[column], multiline=column in MULTILINE_COLUMNS)
            if column == "memories" and len(cells[column]) > MEMORIES_MAX_LENGTH:
                problem = _("At most %(count)d characters.") % {"count": MEMORIES_MAX_LENGTH}
            if problem:
                row.problems.append((column, problem))
    sex = cells.get("sex", "")
    if sex:
        row.fields["sex"] = SEXES.get(sex.lower(), "")
        if not row.fields["sex"]:
            row.problems.append(("sex", _("Write F, M or U (female, male, unknown).")))
    birth = years.get("birth_year")
    for column in ("birth_year_min", "birth_year_max"):
        row.fields[column] = birth if birth is not None else years.get(column)
    if "arrived_year" in years:
        row.fields["arrived_year"] = years["arrived_year"]
    said = {column for column, _message in row.problems}
    if None in (row.fields["birth_year_min"], row.fields["birth_year_max"]) and not (
        said & {"birth_year", "birth_year_min", "birth_year_max"}
    ):
        column = "birth_year" if "birth_year" in cells else "birth_year_min"
        row.problems.append((column, _("Give the year of birth, or the earliest and the latest.")))
    row.photo_names = [name.strip().replace("\\", "/")
                       for name in re.split(r"[;|]", cells.get("photos", "")) if name.strip()]
    most = settings.PARTNER_IMPORT_MAX_PHOTOS_PER_ROW
    if len(row.photo_names) > most:
        row.problems.append(("photos", _(
            "The row names %(count)d photos; a row takes at most %(most)d."
        ) % {"count": len(row.photo_names), "most": most}))
        row.photo_names = []
    _photo_facts(cells, years.get("photo_year"), row)
    return row


def _year(text: str, column: str, row: Row) -> int | None:
    if not text:
        return None
    try:
        year = int(text)
    except ValueError:
        row.problems.append((column, _("A year is four digits, like 1988.")))
        return None
    problem = year_problem(year)
    if problem:
        row.problems.append((column, problem))
        return None
    return year


#: A number as spreadsheets write it: 5, 5.5, or with a decimal comma 5,5 (one sign, no
#: thousands separator: 1,234 would be one thousand or one point two, so it is refused).
_NUMBER = re.compile(r"^\d+(?:[.,]\d+)?$")


def _number(text: str) -> float | None:
    """The number in the cell, its decimal sign a point or a comma; ``None`` if it is not one."""
    text = text.strip()
    if not _NUMBER.match(text) or re.match(r"^\d{1,3},\d{3}$", text):
        return None
    return float(text.replace(",", "."))


def _photo_facts(cells: dict[str, str], year: int | None, row: Row) -> None:
    age: float | None = None
    if cells.get("photo_age"):
        age = _number(cells["photo_age"])
        if age is None or not 0 <= age <= 120:
            row.problems.append(("photo_age", _(
                "The age in the photo is a number of years between 0 and 120, like 6 or 5.5 "
                "(5,5 is read too); a thousands separator or a unit is not.")))
            age = None
    kind = cells.get("photo_kind", "").lower()
    if kind and kind not in PHOTO_KINDS:
        row.problems.append(("photo_kind", _("Write childhood or recent.")))
    if kind in PHOTO_KINDS:
        kind = PHOTO_KINDS[kind]
    else:
        young = age is not None and age < CHILDHOOD_UNDER
        kind = Photo.Kind.CHILDHOOD if young else Photo.Kind.RECENT
    row.photo_facts = {"kind": kind, "age_in_photo": age, "year_taken": year}
    if (age is not None or year is not None) and not row.photo_names:
        row.problems.append(("photos", _("The row gives the photo's age or year but no photo.")))


#: The zip flag saying its names are UTF-8; without it a name is in the writer's code page.
_UTF8_FLAG = 0x800


def zip_name(info: zipfile.ZipInfo) -> str:
    """The entry's name as its writer meant it, with ``/`` between folders.

    A zip flagged UTF-8 says so; one that is not (Windows' own "Send to compressed folder",
    7-Zip and WinRAR on a Chinese Windows) holds the names in the machine's code page:
    read as UTF-8 when they are valid UTF-8, else as GBK (Chinese Windows), else as the
    zip standard's CP437. Windows tools may write ``\\`` between folders."""
    name = info.filename
    if not info.flag_bits & _UTF8_FLAG:
        raw = name.encode("cp437")  # zipfile's reading of an unflagged name, undone
        for encoding in ("utf-8", "gbk"):
            try:
                name = raw.decode(encoding)
                break
            except UnicodeDecodeError:
                continue
    return name.replace("\\", "/")


class PhotoSource:
    """The photos of an import by the names the CSV gives: a zip, or a folder."""

    def __init__(self, *, zip_path: str | None = None, folder: str | None = None) -> None:
        self._zip = zipfile.ZipFile(zip_path) if zip_path else None
        self._folder = Path(folder).resolve() if folder else None
        self._names: dict[str, str] = {}
        self._bases: dict[str, str] = {}
        self._entries: dict[str, zipfile.ZipInfo] = {}
        if self._zip is not None:
            for info in self._zip.infolist():
                name = zip_name(info)
                if not name.endswith("/"):
                    self._entries[name] = info
                    self._index(name)
        elif self._folder is not None:
            for path in self._folder.rglob("*"):
                if path.is_file():
                    self._index(path.relative_to(self._folder).as_posix())

    def _index(self, name: str) -> None:
        # A name is found as written, or by its last part when no other file has that part.
        self._names[name.lower()] = name
        base = name.rsplit("/", 1)[-1].lower()
        if base != name.lower():
            self._bases[base] = name if base not in self._bases else ""

    def __enter__(self) -> PhotoSource:
        return self

    def __exit__(self, *exc: object) -> None:
        if self._zip is not None:
            self._zip.close()

    def read(self, name: str) -> bytes:
        """The photo's bytes, or ``ValidationError`` saying what is wrong with the name."""
        key = name.strip().replace("\\", "/").lower()
        found = self._names.get(key, self._bases.get(key))
        if found is None:
            raise ValidationError(_("%(name)s is not among the photos.") % {"name": name})
        if not found:
            raise ValidationError(_("Several photos are named %(name)s: give its folder too.")
                                  % {"name": name})
        limit = settings.PHOTO_MAX_BYTES
        if self._zip is not None:
            info = self._entries[found]
            if info.file_size > limit:
                raise _too_large(name)
            with self._zip.open(info) as stream:
                data = stream.read(limit + 1)
        else:
            with (self._folder / found).open("rb") as stream:
                data = stream.read(limit + 1)
        if len(data) > limit:
            raise _too_large(name)
        return data


def _too_large(name: str) -> ValidationError:
    return ValidationError(_("%(name)s is larger than %(mb)d MB.")
                           % {"name": name, "mb": settings.PHOTO_MAX_BYTES // 2**20})


def max_zip_entries() -> int:
    """The most entries a zip of photos may hold: every row's photos, and their folders."""
    return settings.PARTNER_IMPORT_MAX_ROWS * settings.PARTNER_IMPORT_MAX_PHOTOS_PER_ROW


#: The end of central directory record: signature, this disk, the index's disk, entries on
#: this disk, entries in all, the index's size and offset, the comment's length.
_END_RECORD = struct.Struct("<4s4H2LH")
_END_SIGNATURE = b"PK\x05\x06"
#: Zip64's locator, just before the end record: signature, disk, the Zip64 record's
#: offset, disks in all.
_ZIP64_LOCATOR = struct.Struct("<4sLQL")
_ZIP64_LOCATOR_SIGNATURE = b"PK\x06\x07"
#: Zip64's end record, just before its locator: signature, the record's size, two
#: versions, two disks, entries on this disk, entries in all, the index's size and offset.
_ZIP64_END_RECORD = struct.Struct("<4sQ2H2L4Q")
_ZIP64_END_SIGNATURE = b"PK\x06\x06"
#: The longest comment a zip may end with.
_MAX_COMMENT = 0xFFFF


def _end_record(tail: bytes) -> tuple[int, tuple[int, ...]] | None:
    """Where the end record starts in the file's last bytes, with its fields: the last
    signature whose comment length reaches exactly the end (a comment may itself hold the
    signature), else the last one with a whole record after it, as zipfile would take."""
    whole = None
    at = tail.rfind(_END_SIGNATURE)
    while at >= 0:
        if at + _END_RECORD.size <= len(tail):
            fields = _END_RECORD.unpack_from(tail, at)
            if at + _END_RECORD.size + fields[-1] == len(tail):
                return at, fields
            whole = (at, fields) if whole is None else whole
        at = tail.rfind(_END_SIGNATURE, 0, at)
    return whole


def zip_declared_entries(handle: IO[bytes]) -> int | None:
    """The number of entries a zip's end record declares (its Zip64 form when there is
    one); ``None`` when no end record is found. Reads at most the file's last 64 KiB.

    Read before the index (central directory), which zipfile parses into one object per
    entry: a small file declaring millions would cost that memory before it was refused.
    """
    handle.seek(0, io.SEEK_END)
    size = handle.tell()
    tail_start = max(0, size - _END_RECORD.size - _MAX_COMMENT)
    handle.seek(tail_start)
    found = _end_record(handle.read())
    if found is None:
        return None
    at, (_signature, _disk, _index_disk, on_disk, in_all, *_rest) = found
    record_at = tail_start + at
    locator_at = record_at - _ZIP64_LOCATOR.size
    if locator_at >= 0:
        handle.seek(locator_at)
        locator = handle.read(_ZIP64_LOCATOR.size)
        if locator[:4] == _ZIP64_LOCATOR_SIGNATURE:
            zip64_at = locator_at - _ZIP64_END_RECORD.size
            if zip64_at < 0:
                return None
            handle.seek(zip64_at)
            record = handle.read(_ZIP64_END_RECORD.size)
            if len(record) < _ZIP64_END_RECORD.size or record[:4] != _ZIP64_END_SIGNATURE:
                return None  # a locator with no record: damaged
            fields = _ZIP64_END_RECORD.unpack(record)
            on_disk, in_all = fields[6], fields[7]
    return max(on_disk, in_all)


def _declared_entries(source: str | IO[bytes]) -> int | None:
    """``zip_declared_entries`` of a path or an open file (left where it was)."""
    if isinstance(source, str):
        with open(source, "rb") as handle:
            return zip_declared_entries(handle)
    position = source.tell()
    try:
        return zip_declared_entries(source)
    finally:
        source.seek(position)


def check_zip(source: str | IO[bytes]) -> int:
    """Refuses a file that is not a zip of a reasonable number of photos; returns the count.

    The count the zip declares is checked before its index is read."""
    if not zipfile.is_zipfile(source):
        raise ValidationError(_("The photos file is not a zip archive."))
    try:
        declared = _declared_entries(source)
    except OSError:
        raise ValidationError(_("The zip archive is damaged.")) from None
    if declared is None:
        raise ValidationError(_("The zip archive is damaged."))
    if declared > max_zip_entries():
        raise ValidationError(_("The zip archive holds too many files."))
    try:
        with zipfile.ZipFile(source) as archive:
            entries = archive.infolist()
    except (zipfile.BadZipFile, OSError):
        raise ValidationError(_("The zip archive is damaged.")) from None
    if len(entries) > max_zip_entries():
        raise ValidationError(_("The zip archive holds too many files."))
    return sum(1 for info in entries if not zip_name(info).endswith("/"))


#: A cell starting with = + - @ (or a tab or carriage return) is a formula to a spreadsheet,
#: which may run it; after quotes, one that ``neutralise_formula`` made.
_ESCAPED_FORMULA = re.compile("^'+[=+\\-@\t\r]")
_FORMULA = re.compile("^'*[=+\\-@\t\r]")


def neutralise_formula(cell: str) -> str:
    """A cell a spreadsheet would run as a formula, made text with a leading ``'``.

    A cell that already starts with quotes before such a sign gets one more, so
    ``restore_formula`` gives back exactly what was sent: a phone number
    ``+86 139...`` goes out as ``'+86 139...`` and comes back as it was when the
    fixed file is imported again.
    """
    return f"'{cell}" if _FORMULA.match(cell) else cell


def restore_formula(cell: str) -> str:
    """The cell ``neutralise_formula`` was given (a cell it never made is left alone)."""
    return cell[1:] if _ESCAPED_FORMULA.match(cell) else cell


def refused_rows_csv(header: list[str], refusals: Iterator[Any]) -> Iterator[str]:
    """The refused rows as CSV lines, each after its line, column and message, to fix.

    Every cell a spreadsheet would run as a formula is neutralised
    (``neutralise_formula``); reading the file back restores it."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    columns = [name for name in header if _canonical(name) not in REFUSAL_COLUMNS]
    writer.writerow([*REFUSAL_COLUMNS, *columns])
    yield "\ufeff" + _flush(buffer)  # Excel reads UTF-8 with its mark
    for refusal in refusals:
        cells = refusal.cells
        writer.writerow([neutralise_formula(str(cell)) for cell in (
            refusal.line, refusal.column, refusal.message,
            *(cells.get(_canonical(name), "") for name in columns))])
        yield _flush(buffer)


def _flush(buffer: io.StringIO) -> str:
    text = buffer.getvalue()
    buffer.seek(0)
    buffer.truncate()
    return text

