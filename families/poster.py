"""The printable A4 poster of a published case, and of a published seeker posting.

Only public poster fields and public photos go on it (never contacts, the
police report number or anything about seekers or matches), with a QR code
to the case page so a passer-by who recognises the child reaches the portal.
Chinese text uses reportlab's built-in CID font, so the PDF needs no font file; the
image for phones is the same layout rendered by PDFium, which draws that font with the
system's CJK font (fonts-noto-cjk in the image).
"""

from __future__ import annotations

import io
import logging
from dataclasses import dataclass
from xml.sax.saxutils import escape

import pypdfium2 as pdfium
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
from families.models import CaseStatus, MissingChildCase, Photo, SeekerPosting
from families.selectors import public_hotline, public_photos, public_posting_photos

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
    """The name in the one form of its script, as on every page (families/names.py)."""
    return case.full_name


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
    facts = [
        (_("Sex"), str(case.get_sex_display()).capitalize()),
        (_("Born"), born),
        (_("Missing since"), formats.date_format(case.missing_date, "DATE_FORMAT")),
        (_("Missing from"), place),
        (_("Age when missing"), case.age_missing_text),
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


#: Characters a line never starts with, and characters it never ends with: the usual
#: line-breaking rules of Chinese (and Japanese) typesetting, which reportlab's CJK wrap
#: does not apply (it would start a line with "，").
NO_LINE_START = frozenset("，。、；：？！）》」』】〉〕］｝”’…—～·%,.;:?!)]}ー々")
NO_LINE_END = frozenset("（《「『【〈〔［｛“‘([{")


def _tokens(line: str) -> list[str]:
    """Breakable units: one CJK character each, a Latin word (with its trailing space) whole,
    punctuation glued to its neighbour so that no line starts or ends with the wrong one."""
    units: list[str] = []
    word = ""
    for char in line:
        if _needs_cjk(char):
            if word:
                units.append(word)
                word = ""
            units.append(char)
        else:
            word += char
            if char == " ":
                units.append(word)
                word = ""
    if word:
        units.append(word)
    glued: list[str] = []
    carry = ""
    for unit in units:
        unit = carry + unit
        carry = ""
        if glued and unit[0] in NO_LINE_START:
            glued[-1] += unit
        elif unit[-1] in NO_LINE_END:
            carry = unit
        else:
            glued.append(unit)
    if carry:
        glued.append(carry)
    return glued


def cjk_lines(text: str, *, font: str, size: float, width: float) -> list[str]:
    """``text`` broken into lines at most ``width`` points wide in ``font``, by the CJK rules
    (``NO_LINE_START``, ``NO_LINE_END``); Latin words are kept whole where they fit."""
    lines: list[str] = []

    def fits(candidate: str) -> bool:
        return pdfmetrics.stringWidth(candidate.rstrip(), font, size) <= width

    for paragraph in text.split("\n"):
        line = ""
        for unit in _tokens(paragraph):
            if fits(line + unit):
                line += unit
                continue
            if line.strip():
                lines.append(line.rstrip())
            line = unit.lstrip()
            while line and not fits(line):  # a unit wider than a line: cut it anywhere
                cut = max(1, next(
                    (n for n in range(len(line), 0, -1) if fits(line[:n])), 1))
                lines.append(line[:cut])
                line = line[cut:]
        lines.append(line.rstrip())
    return lines


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


def _paragraph(text: str, size: float, width: float, **kwargs: object) -> Paragraph:
    """A block of text ``width`` points wide; Chinese text is broken here, by its rules."""
    style = _style(text, size, **kwargs)
    if _needs_cjk(text):
        # A hair narrower than the frame, so reportlab never breaks a line again.
        text = "\n".join(cjk_lines(text, font=style.fontName, size=size, width=width - 0.5))
    return Paragraph(escape(text).replace("\n", "<br/>"), style)


@dataclass(frozen=True)
class Layout:
    """One poster layout at two sizes: the printed A4 page and the image for phones.

    Both draw the same things in the same places (heading, name, case number and age,
    photo on the left with the facts beside it, the number to call and the QR code at the
    bottom); only the page and the sizes differ.
    """

    page: tuple[float, float]
    margin: float
    heading: float
    name: float
    subtitle: float
    label: float
    value: float
    caption: float
    photo: tuple[float, float]
    gap: float
    qr: float
    call: float
    phone: float
    link: float


A4_LAYOUT = Layout(
    page=A4, margin=15 * mm, heading=34, name=26, subtitle=13, label=10, value=12, caption=9,
    photo=(80 * mm, 100 * mm), gap=8 * mm, qr=50 * mm, call=12, phone=20, link=9,
)
#: 9:16, drawn at 3 pixels a point: a 1080 × 1920 image, the shape of a phone's screen.
PHONE_LAYOUT = Layout(
    page=(360, 640), margin=14, heading=24, name=20, subtitle=10, label=8, value=10,
    caption=7, photo=(160, 215), gap=10, qr=104, call=8.5, phone=15, link=6.5,
)
PHONE_IMAGE_SCALE = 3


def case_poster_pdf(case: MissingChildCase, *, layout: Layout = A4_LAYOUT) -> bytes:
    """One page: heading, name, case number, photo, key facts, the number to call, a QR code."""
    name = display_name(case)
    hotline = public_hotline()
    phone = case.public_phone(hotline)
    return _poster_pdf(
        title=_("Missing child: %(name)s") % {"name": name}, heading=_("MISSING CHILD"),
        name=name, photos=public_photos(case), facts=_facts(case), url=case_url(case),
        subtitle=_("Case number %(number)s") % {"number": case.public_number} + " · "
        + (case.age_now_text if case.status != CaseStatus.REUNITED else ""),
        phone=_("Call %(phone)s") % {"phone": phone} if phone else "",
        call=_("If you recognise this child, or you think you may be this child, please call "
               "or scan the code, and give the case number. Every possible match is checked "
               "by volunteers and confirmed by a DNA test."),
        layout=layout,
    )


def case_poster_png(case: MissingChildCase) -> bytes:
    """The same poster as an image for phones (1080 × 1920 PNG), to share where families
    share: the phone-sized page of the same layout, rendered by PDFium."""
    document = pdfium.PdfDocument(case_poster_pdf(case, layout=PHONE_LAYOUT))
    try:
        image = document[0].render(scale=PHONE_IMAGE_SCALE).to_pil().convert("RGB")
    finally:
        document.close()
    buffer = io.BytesIO()
    # A light compression: Pillow's "optimize" takes ten times as long for 4% less.
    image.save(buffer, format="PNG", compress_level=3)
    return buffer.getvalue()


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


def _draw(canvas: Canvas, paragraph: Paragraph, x: float, top: float, width: float,
          height: float) -> float:
    """Draws ``paragraph`` with its top at ``top``; returns its height."""
    _width, used = paragraph.wrap(width, height)
    paragraph.drawOn(canvas, x, top - used)
    return used


def _poster_pdf(
    *, title: str, heading: str, name: str, photos: list[Photo],
    facts: list[tuple[str, str]], url: str, call: str, subtitle: str = "", phone: str = "",
    layout: Layout = A4_LAYOUT,
) -> bytes:
    """One page: heading, name, the first readable photo (or a placeholder), key facts, the
    number to call and a QR code to ``url``."""
    _register_fonts()
    buffer = io.BytesIO()
    width, height = layout.page
    margin = layout.margin
    canvas = Canvas(buffer, pagesize=layout.page, pageCompression=1)
    canvas.setTitle(title)
    canvas.setAuthor(_("Reunion"))
    content_width = width - 2 * margin
    y = height - margin

    y -= _draw(canvas, _paragraph(heading, layout.heading, content_width, bold=True,
                                  color=ACCENT), margin, y, content_width, height / 4)
    y -= layout.heading * 0.15
    y -= _draw(canvas, _paragraph(name, layout.name, content_width, bold=True),
               margin, y, content_width, height / 6)
    subtitle = subtitle.strip(" ·")
    if subtitle:
        y -= layout.subtitle * 0.3
        y -= _draw(canvas, _paragraph(subtitle, layout.subtitle, content_width),
                   margin, y, content_width, height / 8)
    y -= layout.gap * 0.75

    photo_w, photo_h = layout.photo
    photo, reader = next(
        ((photo, reader) for photo in photos
         if (reader := _photo_reader(photo)) is not None),
        (None, None),
    )
    if photo is not None and reader is not None:
        image_w, image_h = reader.getSize()
        scale = min(photo_w / image_w, photo_h / image_h)
        draw_w, draw_h = image_w * scale, image_h * scale
        canvas.drawImage(reader, margin, y - draw_h, width=draw_w, height=draw_h)
        caption = _photo_caption(photo)
    else:
        draw_h = photo_h
        _placeholder(canvas, margin, y - photo_h, photo_w, photo_h)
        caption = _("No photo yet")
    _draw(canvas, _paragraph(caption, layout.caption, photo_w), margin, y - draw_h - 2,
          photo_w, photo_h / 4)
    facts_x = margin + photo_w + layout.gap
    facts_width = width - margin - facts_x
    bottom = margin + layout.qr + layout.gap  # the facts stop above the call and the QR code
    facts_y = y
    for label, value in facts:
        label_p = _paragraph(label, layout.label, facts_width, bold=True,
                             color=HexColor("#555555"))
        value_p = _paragraph(value, layout.value, facts_width)
        label_h = label_p.wrap(facts_width, height)[1]
        value_h = value_p.wrap(facts_width, height)[1]
        if facts_y - label_h - value_h < bottom:
            break
        label_p.drawOn(canvas, facts_x, facts_y - label_h)
        value_p.drawOn(canvas, facts_x, facts_y - label_h - value_h)
        facts_y -= label_h + value_h + layout.value * 0.3

    qr_size = layout.qr
    canvas.drawImage(ImageReader(_qr_image(url)), margin, margin, width=qr_size, height=qr_size)
    text_x = margin + qr_size + layout.gap * 0.75
    text_width = width - margin - text_x
    top = margin + qr_size
    if phone:
        top -= _draw(canvas, _paragraph(phone, layout.phone, text_width, bold=True,
                                        color=ACCENT), text_x, top, text_width, qr_size / 2)
        top -= layout.phone * 0.2
    _draw(canvas, _paragraph(call, layout.call, text_width), text_x, top, text_width, qr_size)
    link = Paragraph(escape(url), _style(url, layout.link))
    link.wrap(text_width, qr_size / 4)
    link.drawOn(canvas, text_x, margin + 2)
    canvas.showPage()
    canvas.save()
    return buffer.getvalue()


def _placeholder(canvas: Canvas, x: float, y: float, w: float, h: float) -> None:
    """A grey head-and-shoulders where a case has no photo, so the page keeps its shape."""
    canvas.saveState()
    box = canvas.beginPath()
    box.rect(x, y, w, h)
    canvas.clipPath(box, stroke=0, fill=0)
    canvas.setFillColor(HexColor("#e8eaed"))
    canvas.rect(x, y, w, h, stroke=0, fill=1)
    canvas.setFillColor(HexColor("#b8bec6"))
    canvas.circle(x + w / 2, y + h * 0.62, min(w, h) * 0.2, stroke=0, fill=1)
    canvas.ellipse(x + w * 0.15, y - h * 0.2, x + w * 0.85, y + h * 0.42, stroke=0, fill=1)
    canvas.restoreState()


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
