"""Forms for missing-child cases and their public search."""

from __future__ import annotations

from datetime import date
from typing import Any

from django import forms
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from families.forms.common import (
    CHILD_AGE_LIMIT,
    EARLIEST_YEAR,
    PLACE_HELP_TEXTS,
    WIDEST_BIRTH_RANGE,
    DateInput,
    check_place,
    dialect_field,
    place_picker_attrs,
    year_error,
)
from families.models import MissingChildCase, PublicContactChoice, Sex, User
from families.services.cases import CASE_EDITABLE_FIELDS

# --- Cases --------------------------------------------------------------------


class CaseForm(forms.ModelForm):
    """A missing-child case: public poster facts, then private facts and contacts."""

    PUBLIC_FIELDS = [
        "given_name", "family_name", "nicknames", "sex", "birth_date", "birth_year_min",
        "birth_year_max", "missing_date", "missing_province", "missing_city",
        "missing_district", "missing_country", "height_cm", "build",
        "distinguishing_marks", "dialect", "circumstances",
    ]
    PRIVATE_FIELDS = [
        "police_report_number", "police_station", "contact_name", "contact_phone",
        "contact_email", "public_contact",
    ]

    class Meta:
        model = MissingChildCase
        fields = [
            "given_name", "family_name", "nicknames", "sex", "birth_date", "birth_year_min",
            "birth_year_max", "missing_date", "missing_province", "missing_city",
            "missing_district", "missing_country", "height_cm", "build",
            "distinguishing_marks", "dialect", "circumstances", "police_report_number",
            "police_station", "contact_name", "contact_phone", "contact_email", "public_contact",
        ]
        widgets = {
            "birth_date": DateInput(),
            "missing_date": DateInput(),
            # Phones open the keypad that fits: digits for a phone, @ for an email address.
            "contact_name": forms.TextInput(attrs={"autocomplete": "name"}),
            "contact_phone": forms.TextInput(attrs={
                "type": "tel", "inputmode": "tel", "autocomplete": "tel"}),
            "contact_email": forms.EmailInput(attrs={"autocomplete": "email"}),
            "public_contact": forms.RadioSelect,
            "distinguishing_marks": forms.Textarea(attrs={"rows": 3}),
            "circumstances": forms.Textarea(attrs={"rows": 5}),
        }
        help_texts = {
            "nicknames": _("Names the child was called at home, separated by commas."),
            "birth_date": _("If you know the exact date. Otherwise give a range of years below."),
            "birth_year_min": _("If the date of birth is not known exactly: the earliest "
                                "possible year. Leave both years empty when you gave the date."),
            "birth_year_max": _("The latest possible year (the same year if you know it)."),
            **PLACE_HELP_TEXTS["missing"],
            "distinguishing_marks": _("Birthmarks, scars, moles: where and what they look like."),
            "police_report_number": _("Private: never shown on the public page or poster."),
            "contact_name": _("Private: volunteers contact you; the public never sees it."),
            "contact_phone": _("Give a phone number or an email address, or both."),
            "public_contact": _("The public page and the poster give this number to call. "
                                "Your own phone is shown only if you choose it here."),
        }

    def __init__(self, *args: Any, account: User | None = None, **kwargs: Any) -> None:
        if account is not None and kwargs.get("instance") is None:
            # A new case: the contact is the account's own, until the family changes it.
            kwargs["initial"] = {
                "contact_name": account.full_name, "contact_phone": account.phone,
                "contact_email": account.email, **kwargs.get("initial", {}),
            }
        super().__init__(*args, **kwargs)
        assert set(self.Meta.fields) == CASE_EDITABLE_FIELDS
        self.fields["dialect"] = dialect_field(
            self.instance.dialect, help_text=_("The dialect the child spoke or heard at home."))
        # The form derives the years from the date of birth when it is given.
        self.fields["birth_year_min"].required = False
        self.fields["birth_year_max"].required = False
        for name in ("birth_year_min", "birth_year_max", "height_cm"):
            self.fields[name].widget.attrs.setdefault("inputmode", "numeric")
        # The hotline unless the family chooses otherwise (a form without the field too).
        self.fields["public_contact"].required = False
        place_picker_attrs(self, "missing")

    def clean_public_contact(self) -> str:
        return self.cleaned_data.get("public_contact") or PublicContactChoice.HOTLINE

    def public_fields(self) -> list[forms.BoundField]:
        """In Chinese the family name (姓) is asked first, as it is written (李小梅)."""
        names = list(self.PUBLIC_FIELDS)
        if (get_language() or "").startswith("zh"):
            names[:2] = ["family_name", "given_name"]
        return [self[name] for name in names]

    def private_fields(self) -> list[forms.BoundField]:
        return [self[name] for name in self.PRIVATE_FIELDS]

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        check_place(self, data, "missing")
        today = timezone.localdate()
        birth_date: date | None = data.get("birth_date")
        year_min, year_max = data.get("birth_year_min"), data.get("birth_year_max")
        missing: date | None = data.get("missing_date")

        if birth_date and birth_date > today:
            self.add_error("birth_date", _("The date of birth is in the future."))
            birth_date = None
        if birth_date and birth_date.year < EARLIEST_YEAR:
            self.add_error("birth_date", _("Enter a date from %(year)d on.") % {
                "year": EARLIEST_YEAR})
            birth_date = None
        for name, value in (("birth_year_min", year_min), ("birth_year_max", year_max)):
            error = year_error(value)
            if error:
                self.add_error(name, error)
        if self.has_error("birth_year_min") or self.has_error("birth_year_max"):
            return data

        if birth_date:
            year_min = year_min or birth_date.year
            year_max = year_max or birth_date.year
            if not year_min <= birth_date.year <= year_max:
                self.add_error("birth_year_min", _(
                    "The years must include the year of the date of birth (%(year)d)."
                ) % {"year": birth_date.year})
                return data
        elif year_min is None and year_max is None:
            if not self.has_error("birth_date"):
                self.add_error("birth_year_min", _(
                    "Give the date of birth, or the earliest and latest possible years of birth."
                ))
            return data
        else:
            year_min = year_min if year_min is not None else year_max
            year_max = year_max if year_max is not None else year_min
        if year_min > year_max:
            self.add_error("birth_year_max", _(
                "The latest year of birth must not be before the earliest (%(year)d)."
            ) % {"year": year_min})
            return data
        if year_max - year_min > WIDEST_BIRTH_RANGE:
            self.add_error("birth_year_max", _(
                "The range of birth years is too wide: at most %(n)d years."
            ) % {"n": WIDEST_BIRTH_RANGE})
            return data
        data["birth_year_min"], data["birth_year_max"] = year_min, year_max

        if missing:
            if missing > today:
                self.add_error("missing_date", _("The date missing is in the future."))
            elif birth_date and missing < birth_date:
                self.add_error("missing_date", _("The date missing is before the date of birth."))
            elif missing.year < year_min:
                self.add_error("missing_date", _(
                    "The date missing is before the earliest year of birth (%(year)d)."
                ) % {"year": year_min})
            elif missing.year - year_max >= CHILD_AGE_LIMIT:
                self.add_error("missing_date", _(
                    "A case is for a child who went missing before the age of %(age)d; "
                    "with these dates the child was older."
                ) % {"age": CHILD_AGE_LIMIT})

        height = data.get("height_cm")
        if height is not None and not 30 <= height <= 200:
            self.add_error("height_cm", _("Enter a height between 30 and 200 cm."))
        if not data.get("contact_phone") and not data.get("contact_email") and not (
            self.has_error("contact_email")
        ):
            self.add_error("contact_phone", _(
                "Give a phone number or an email address so volunteers can reach you."
            ))
        if (data.get("public_contact") == PublicContactChoice.CONTACT_PHONE
                and not data.get("contact_phone") and not self.has_error("contact_phone")):
            self.add_error("public_contact", _(
                "To show your own phone, give it above; or choose the organisation's hotline."
            ))
        return data


# --- Public search ------------------------------------------------------------


class CaseSearchForm(forms.Form):
    name = forms.CharField(label=_("Name or nickname"), required=False, max_length=100)
    sex = forms.ChoiceField(
        label=_("Sex"), required=False, choices=[("", _("any")), *Sex.choices]
    )
    year_missing_from = forms.IntegerField(label=_("Missing from (year)"), required=False)
    year_missing_to = forms.IntegerField(label=_("Missing until (year)"), required=False)
    age_missing_from = forms.IntegerField(
        label=_("Age when missing, from"), required=False, min_value=0, max_value=17
    )
    age_missing_to = forms.IntegerField(
        label=_("Age when missing, to"), required=False, min_value=0, max_value=17
    )
    place = forms.CharField(
        label=_("Place (province, city or district)"), required=False, max_length=100
    )
    order = forms.ChoiceField(label=_("Sort by"), required=False, choices=[
        ("newest", _("newest first")),
        ("missing_recent", _("date missing, most recent first")),
        ("missing_longest", _("date missing, longest ago first")),
    ])

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        for name in ("year_missing_from", "year_missing_to"):
            error = year_error(data.get(name))
            if error:
                self.add_error(name, error)
        first, last = data.get("year_missing_from"), data.get("year_missing_to")
        if (first is not None and last is not None and first > last
                and not self.has_error("year_missing_to")):
            self.add_error("year_missing_to", _(
                "The last year (%(last)d) is before the first (%(first)d): swap them, or "
                "leave one empty.") % {"first": first, "last": last})
        low, high = data.get("age_missing_from"), data.get("age_missing_to")
        if low is not None and high is not None and low > high:
            self.add_error("age_missing_to", _("This must not be less than the value before it."))
        return data

    def filters(self) -> dict[str, Any]:
        """The filters of a valid search, for ``selectors.public_cases``; none of an invalid
        one, which the list says is wrong rather than running it without its wrong parts."""
        data = self.cleaned_data if self.is_valid() else {}
        return {name: data.get(name) for name in (
            "name", "sex", "year_missing_from", "year_missing_to", "age_missing_from",
            "age_missing_to", "place", "order",
        ) if data.get(name) not in (None, "")}
