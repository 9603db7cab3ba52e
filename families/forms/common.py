"""What the families' forms share: the years accepted, the date widget, the place and
dialect fields, confirming a withdrawal or a deletion."""

from __future__ import annotations

from typing import Any

from django import forms
from django.urls import reverse_lazy
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from families.dialects import dialect_choices, dialect_code
from families.places import settle

#: The earliest birth year the portal accepts; older cases are not plausible for matching.
EARLIEST_YEAR = 1900
#: A missing-child case is for someone who went missing before this age.
CHILD_AGE_LIMIT = 18
#: The widest birth-year range that still narrows matching.
WIDEST_BIRTH_RANGE = 10


def this_year() -> int:
    return timezone.localdate().year


def year_error(value: int | None) -> str | None:
    if value is None:
        return None
    if value < EARLIEST_YEAR:
        return _("Enter a year from %(year)d on.") % {"year": EARLIEST_YEAR}
    if value > this_year():
        return _("This year is in the future.")
    return None


class DateInput(forms.DateInput):
    input_type = "date"

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("format", "%Y-%m-%d")
        super().__init__(**kwargs)


# --- Places -------------------------------------------------------------------

#: The place fields' help: a place in China from the list, elsewhere free text.
PLACE_HELP_TEXTS = {
    prefix: {
        f"{prefix}_province": _(
            "In China: the province (四川, Sichuan), or the whole place (四川省 成都市 武侯区), "
            "or its code (510107). Outside China: the region, and the country below."),
        f"{prefix}_country": _("Only if the place is outside China."),
    }
    for prefix in ("missing", "grew_up")
}


def place_picker_attrs(form: forms.ModelForm, prefix: str) -> None:
    """Marks the place fields for the picker's suggestions (static/js/place-picker.js)."""
    for level in ("province", "city", "district", "country"):
        attrs = form.fields[f"{prefix}_{level}"].widget.attrs
        attrs["data-place-picker"] = level
        attrs["data-place-group"] = prefix
        attrs.setdefault("autocomplete", "off" if level != "country" else "country-name")
    form.fields[f"{prefix}_province"].widget.attrs["data-place-url"] = reverse_lazy(
        "families:place_divisions")


def check_place(form: forms.ModelForm, data: dict[str, Any], prefix: str) -> None:
    """Says which part of a place in China is not in the list of divisions, and why."""
    settled = settle(
        province=data.get(f"{prefix}_province") or "", city=data.get(f"{prefix}_city") or "",
        district=data.get(f"{prefix}_district") or "",
        country=data.get(f"{prefix}_country") or "", prefix=prefix,
    )
    for field, message in settled.unknown.items():
        if field in form.fields and not form.has_error(field):
            form.add_error(field, message)


def dialect_field(current: str, help_text: str = "") -> forms.ChoiceField:
    """A dialect picked from the list (``families.dialects``), not typed, so the same dialect
    written in two languages is one fact; text an older posting holds stays a choice."""
    choices = [("", _("Not known")), *dialect_choices()]
    if current and not dialect_code(current):
        choices.append((current, current))
    return forms.ChoiceField(
        label=_("Dialect"), required=False, choices=choices,
        help_text=help_text or _("The dialect you remember speaking or hearing as a child."),
    )


class WithdrawForm(forms.Form):
    """Why a case or posting is withdrawn; "found" (offered only while it is in
    matching) marks it reunited instead, so its page says the person was found."""

    FOUND, OTHER = "found", "other"

    why = forms.ChoiceField(label=_("Why"), widget=forms.RadioSelect, initial=OTHER,
                            required=False)
    reason = forms.CharField(
        label=_("Reason (optional)"), required=False, max_length=500,
        widget=forms.Textarea(attrs={"rows": 3}),
    )

    def __init__(self, *args: Any, is_case: bool = True, found_offered: bool = True,
                 **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if not found_offered:
            del self.fields["why"]
            return
        self.fields["why"].choices = [
            (self.FOUND, _("We found our child") if is_case else _("I found my family")),
            (self.OTHER, _("Another reason")),
        ]
        self.fields["why"].help_text = (
            _("The case then shows the child was found, and is no longer matched.")
            if is_case else _("The posting then shows you found your family, and is no "
                              "longer matched."))

    @property
    def found(self) -> bool:
        return self.cleaned_data.get("why") == self.FOUND


# --- Deleting for good --------------------------------------------------------


class DeleteConfirmForm(forms.Form):
    confirm = forms.BooleanField(
        label=_("I understand that this deletes the photos and everything else for good."),
        required=True,
    )
