"""The printable A4 poster of a published case, and of a published seeker posting.

Only public poster fields and public photos go on it (never contacts, the
police report number or anything about seekers or matches), with a QR code
to the case page so a passer-by who recognises the child reaches the portal.
Chinese text uses reportlab's built-in CID font, so no font file is needed.
"""

from __future__ import annotations

import io
import logging
from xml.sax.saxutils import escape

import qrcode
from django.conf import settings
from django.utils import formats
from django.utils.translation import gettext as _
from PIL import Image
from reportlab.lib.colors import HexColor
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.lib.utils import ImageReader
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.cidfonts import UnicodeCIDFont
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import Paragraph

from families.dialects import dialect_label
from families.models import MissingChildCase, Photo, SeekerPosting
from families.selectors import public_photos, public_posting_photos

logger = logging.getLogger(__name__)

CJK_FONT = "STSong-Light"
LATIN_FONT = "Helvetica"
LATIN_BOLD = "Helvetica-Bold"
MARGIN = 15 * mm
ACCENT = HexColor("#b00020")


def _register_fonts() -> None:
    if CJK_FONT not in pdfmetrics.getRegisteredFontNames():
        pdfmetrics.registerFont(UnicodeCIDFont(CJK_FONT))


def _needs_cjk(text: str) -> bool:
    return any(ord(char) > 0x24F for char in text)


def display_name(case: MissingChildCase) -> str:
    """Chinese names are written family name first, without a space."""
    if _needs_cjk(case.given_name + case.family_name):
        return f"{case.family_name}{case.given_name}"
    return str(case)


def case_url(case: MissingChildCase) -> str:
    """The absolute address of the public case page (what the QR code holds)."""
    return settings.SITE_URL.rstrip("/") + case.get_absolute_url()


def _qr_image(url: str) -> Image.Image:
    code = qrcode.QRCode(error_correction=qrcode.constants.ERROR_CORRECT_M, border=4, box_size=10)
    code.add_data(url)
    code.make(fit=True)
    return code.make_image(fill_color="black", back_color="white").get_image().convert("RGB")


def _photo_reader(photo: Photo) -> ImageReader | None:
    """The photo, ready to draw; ``None`` (and a warning) when its file can't be read."""
    try:
        with photo.image.open("rb") as handle:
            reader = ImageReader(io.BytesIO(handle.read()))
        reader.getSize()
    except Exception as error:  # a missing or broken file must not cost the whole poster
        logger.warning("poster: photo %s left out: %s: %s", photo.pk, type(error).__name__,
                       error)
        return None
    return reader


def _facts(case: MissingChildCase) -> list[tuple[str, str]]:
    """The poster's key facts, public fields only."""
    if case.birth_date:
        born = formats.date_format(case.birth_date, "DATE_FORMAT")
    elif case.birth_year_min == case.birth_year_max:
        born = str(case.birth_year_min)
    else:
        born = f"{case.birth_year_min}–{case.birth_year_max}"
    parts = (case.missing_province, case.missing_city, case.missing_district)
    if _needs_cjk("".join(parts)):
        place = "".join(parts)  # 陕西省西安市碑林区: largest first, no separators
    else:
        place = ", ".join(part for part in reversed(parts) if part)
    age = case.age_at(case.missing_date)
    facts = [
        (_("Sex"), str(case.get_sex_display()).capitalize()),
        (_("Born"), born),
        (_("Missing since"), formats.date_format(case.missing_date, "DATE_FORMAT")),
        (_("Missing from"), place),
        (_("Age when missing"), _("about %(age)s years") % {"age": f"{age:g}"}),
    ]
    if case.nicknames:
        facts.insert(0, (_("Also called"), case.nicknames))
    if case.height_cm:
        facts.append((_("Height then"), f"{case.height_cm} cm"))
    if case.build:
        facts.append((_("Build then"), case.build))
    if case.dialect:
        facts.append((_("Dialect"), dialect_label(case.dialect)))
    if case.distinguishing_marks:
        facts.append((_("Distinguishing marks"), case.distinguishing_marks))
    if case.circumstances:
        circumstances = case.circumstances
        if len(circumstances) > 600:
            circumstances = circumstances[:600].rsplit(" ", 1)[0] + " …"
        facts.append((_("Circumstances"), circumstances))
    return facts


def _style(text: str, size: float, *, bold: bool = False, leading: float | None = None,
           color: object = None) -> ParagraphStyle:
    cjk = _needs_cjk(text)
    return ParagraphStyle(
        name="poster",
        fontName=CJK_FONT if cjk else (LATIN_BOLD if bold else LATIN_FONT),
        fontSize=size,
        leading=leading or size * 1.25,
        wordWrap="CJK" if cjk else None,
        textColor=color or HexColor("#000000"),
    )


def _paragraph(text: str, size: float, **kwargs: object) -> Paragraph:
    return Paragraph(escape(text).replace("\n", "<br/>"), _style(text, size, **kwargs))


def case_poster_pdf(case: MissingChildCase) -> bytes:
    """One A4 page: heading, name, photo, key facts and a QR code to the case page."""
    name = display_name(case)
    return _poster_pdf(
        title=_("Missing child: %(name)s") % {"name": name}, heading=_("MISSING CHILD"),
        name=name, photos=public_photos(case), facts=_facts(case), url=case_url(case),
        call=_("If you recognise this child, or you think you may be this child, please scan "
               "the code or visit the case page. Every possible match is checked by "
               "volunteers and confirmed by a DNA test."),
    )


def seeker_posting_poster_pdf(posting: SeekerPosting) -> bytes:
    """The same page for a published seeker posting: an adult looking for their family."""
    born = (str(posting.birth_year_min) if posting.birth_year_min == posting.birth_year_max
            else f"{posting.birth_year_min}–{posting.birth_year_max}")
    facts = [(_("Sex"), str(posting.get_sex_display()).capitalize()), (_("Born"), born)]
    place = ", ".join(p for p in (posting.grew_up_city, posting.grew_up_province) if p)
    if place:
        facts.append((_("Grew up in"), place))
    if posting.dialect:
        facts.append((_("Dialect"), dialect_label(posting.dialect)))
    if posting.show_memories and posting.memories:
        memories = posting.memories
        if len(memories) > 600:
            memories = memories[:600].rsplit(" ", 1)[0] + " …"
        facts.append((_("Earliest memories"), memories))
    return _poster_pdf(
        title=_("Looking for my family: %(name)s") % {"name": posting.display_name},
        heading=_("LOOKING FOR MY FAMILY"), name=posting.display_name,
        photos=public_posting_photos(posting), facts=facts,
        url=settings.SITE_URL.rstrip("/") + posting.get_public_url(),
        call=_("If you think this may be your child, please scan the code or visit the page. "
               "Every possible match is checked by volunteers and confirmed by a DNA test."),
    )


def _poster_pdf(
    *, title: str, heading: str, name: str, photos: list[Photo],
    facts: list[tuple[str, str]], url: str, call: str,
) -> bytes:
    """One A4 page: heading, name, the first readable photo, key facts, a QR code to ``url``."""
    _register_fonts()
    buffer = io.BytesIO()
    width, height = A4
    canvas = Canvas(buffer, pagesize=A4, pageCompression=1)
    canvas.setTitle(title)
    canvas.setAuthor(_("Reunion"))
    content_width = width - 2 * MARGIN
    y = height - MARGIN

    heading = _paragraph(heading, 34, bold=True, color=ACCENT)
    _width, used = heading.wrap(content_width, 60 * mm)
    heading.drawOn(canvas, MARGIN, y - used)
    y -= used + 4 * mm
    title = _paragraph(name, 26, bold=True)
    _width, used = title.wrap(content_width, 40 * mm)
    title.drawOn(canvas, MARGIN, y - used)
    y -= used + 6 * mm

    photo_box_w, photo_box_h = 80 * mm, 100 * mm
    facts_x = MARGIN
    photo, reader = next(
        ((photo, reader) for photo in photos
         if (reader := _photo_reader(photo)) is not None),
        (None, None),
    )
    if photo is not None and reader is not None:
        image_w, image_h = reader.getSize()
        scale = min(photo_box_w / image_w, photo_box_h / image_h)
        draw_w, draw_h = image_w * scale, image_h * scale
        canvas.drawImage(reader, MARGIN, y - draw_h, width=draw_w, height=draw_h)
        caption = _photo_caption(photo)
        note = _paragraph(caption, 9)
        _width, note_h = note.wrap(photo_box_w, 20 * mm)
        note.drawOn(canvas, MARGIN, y - draw_h - note_h - 1 * mm)
        facts_x = MARGIN + photo_box_w + 8 * mm
    facts_width = width - MARGIN - facts_x
    facts_y = y
    for label, value in facts:
        label_p = _paragraph(label, 10, bold=True, color=HexColor("#555555"))
        _width, used = label_p.wrap(facts_width, 20 * mm)
        label_p.drawOn(canvas, facts_x, facts_y - used)
        facts_y -= used
        value_p = _paragraph(value, 12)
        _width, used = value_p.wrap(facts_width, 80 * mm)
        value_p.drawOn(canvas, facts_x, facts_y - used)
        facts_y -= used + 3 * mm
        if facts_y < 80 * mm:
            break

    qr_size = 50 * mm
    canvas.drawImage(ImageReader(_qr_image(url)), MARGIN, MARGIN, width=qr_size, height=qr_size)
    text_x = MARGIN + qr_size + 6 * mm
    call = _paragraph(call, 12)
    _width, used = call.wrap(width - MARGIN - text_x, qr_size)
    call.drawOn(canvas, text_x, MARGIN + qr_size - used)
    link = Paragraph(escape(url), _style(url, 9))
    link.wrap(width - MARGIN - text_x, 20 * mm)
    link.drawOn(canvas, text_x, MARGIN + 2 * mm)
    canvas.showPage()
    canvas.save()
    return buffer.getvalue()


def _photo_caption(photo: Photo) -> str:
    age = photo.age_years()
    if photo.is_estimate:
        if age is not None:
            return _("Age-progressed image (an estimate, not a photo) at age %(age)s") % {
                "age": f"{age:g}"}
        return _("Age-progressed image (an estimate, not a photo)")
    if age is not None:
        return _("Photo at age %(age)s") % {"age": f"{age:g}"}
    return _("Photo")
