"""Forms for accounts, cases, seeker postings, photos and the public search.

Every rule that a family or seeker can break gets a message beside the field
it concerns, in plain words, so a form can be fixed in one go; nothing is
saved until every field is right.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from django import forms
from django.conf import settings
from django.contrib.auth import password_validation
from django.urls import reverse_lazy
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from families.dialects import dialect_choices, dialect_code
from families.models import (
    MissingChildCase,
    PartnerOrganisation,
    Photo,
    PublicContactChoice,
    SeekerPosting,
    Sex,
    Tip,
    User,
)
from families.places import settle
from families.selectors import partner_organisations_left_alone
from families.services.cases import CASE_EDITABLE_FIELDS
from families.services.seeker_postings import SEEKER_EDITABLE_FIELDS

#: The earliest birth year the portal accepts; older cases are not plausible for matching.
EARLIEST_YEAR = 1900
#: A missing-child case is for someone who went missing before this age.
CHILD_AGE_LIMIT = 18
#: The widest birth-year range that still narrows matching.
WIDEST_BIRTH_RANGE = 10


def this_year() -> int:
    return timezone.localdate().year


def _year_error(value: int | None) -> str | None:
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


# --- Accounts -----------------------------------------------------------------


class SignUpForm(forms.Form):
    email = forms.EmailField(
        label=_("Email address"),
        widget=forms.EmailInput(attrs={"autocomplete": "email"}),
        help_text=_("We send a link to this address; click it to confirm your account."),
    )
    full_name = forms.CharField(
        label=_("Your name"), max_length=150, required=False,
        widget=forms.TextInput(attrs={"autocomplete": "name"}),
    )
    password1 = forms.CharField(
        label=_("Password"), strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        help_text=password_validation.password_validators_help_text_html(),
    )
    password2 = forms.CharField(
        label=_("Password again"), strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )
    preferred_language = forms.ChoiceField(
        label=_("Language for emails"), choices=settings.LANGUAGES, initial="en"
    )

    def clean_email(self) -> str:
        # Whether the address has an account is never said here (see user_sign_up).
        return User.objects.normalize_email(self.cleaned_data["email"]).lower()

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        first, second = data.get("password1"), data.get("password2")
        if first and second and first != second:
            self.add_error("password2", _("The two passwords differ."))
        elif first:
            candidate = User(email=data.get("email", ""), full_name=data.get("full_name", ""))
            try:
                password_validation.validate_password(first, candidate)
            except forms.ValidationError as error:
                self.add_error("password1", error)
        return data


class ProfileForm(forms.ModelForm):
    """Contact details. The email address is not a model field here: a new one waits for
    confirmation (``profile_update``), and the form never says whether it is taken."""

    email = forms.EmailField(
        label=User._meta.get_field("email").verbose_name,
        widget=forms.EmailInput(attrs={"autocomplete": "email"}),
        help_text=_("If you change it, we send a link to the new address; your account "
                    "keeps its current address until you open it."),
    )
    field_order = ["full_name", "email", "phone", "address", "preferred_language"]

    class Meta:
        model = User
        fields = ["full_name", "phone", "address", "preferred_language"]
        help_texts = {
            "phone": _("Private: only volunteers who review a possible match see it."),
            "address": _("Private: only volunteers who review a possible match see it."),
        }
        widgets = {
            "address": forms.Textarea(attrs={"rows": 3}),
            "phone": forms.TextInput(attrs={
                "type": "tel", "inputmode": "tel", "autocomplete": "tel"}),
        }

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # An address waiting for confirmation shows as typed, so saving again keeps it.
        self.fields["email"].initial = self.instance.pending_email or self.instance.email

    def clean_email(self) -> str:
        return User.objects.normalize_email(self.cleaned_data["email"]).lower()

    def profile_fields(self) -> dict[str, Any]:
        """What ``profile_update`` takes: the model fields and the email address typed."""
        return {name: self.cleaned_data[name] for name in [*self.Meta.fields, "email"]}

    def asks_new_address(self) -> bool:
        """Whether the address typed is new: neither the account's nor the one waiting."""
        email = self.cleaned_data["email"]
        return email not in (self.instance.email.lower(), self.instance.pending_email)


class ResendConfirmationForm(forms.Form):
    """Only a button: the address is the logged-in user's."""


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


# --- Cases --------------------------------------------------------------------


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
            error = _year_error(value)
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


# --- Seeker postings ------------------------------------------------------------


class SeekerPostingForm(forms.ModelForm):
    class Meta:
        model = SeekerPosting
        fields = [
            "posted_for", "display_name", "sex", "birth_year_min", "birth_year_max",
            "grew_up_province", "grew_up_city", "grew_up_district", "grew_up_country",
            "memories", "dialect", "remembered_names", "distinguishing_marks", "height_cm",
            "arrived_year", "contact_phone", "contact_email", "consent_to_matching",
            "matching_basis",
        ]
        widgets = {
            "posted_for": forms.RadioSelect,
            "memories": forms.Textarea(attrs={"rows": 6}),
            "distinguishing_marks": forms.Textarea(attrs={"rows": 3}),
            "matching_basis": forms.Textarea(attrs={"rows": 3}),
            "contact_phone": forms.TextInput(attrs={
                "type": "tel", "inputmode": "tel", "autocomplete": "tel"}),
            "contact_email": forms.EmailInput(attrs={"autocomplete": "email"}),
        }
        help_texts = {
            "display_name": _("The name you use now. Only you, volunteers and admins see it."),
            "birth_year_min": _("Your earliest possible year of birth."),
            "birth_year_max": _("Your latest possible year of birth (the same if you know it)."),
            "memories": _("Places, names, words of a dialect, things you remember from before "
                          "you came to the family that raised you."),
            "arrived_year": _("Roughly, if you know it."),
            **PLACE_HELP_TEXTS["grew_up"],
            "remembered_names": _("Any name you remember being called as a small child, "
                                  "separated by commas: a family compares it with the names "
                                  "their child was called at home."),
            "distinguishing_marks": _("Birthmarks, scars, moles: where and what they look like."),
            "height_cm": _("Optional. Only volunteers see it."),
            "consent_to_matching": _(
                "Without this consent your photos are never compared with missing children and "
                "nobody contacts you. You can take it back at any time. Your posting is never "
                "public: only you, volunteers and admins see it."
            ),
        }

    def __init__(self, *args: Any, consent_editable: bool = True, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        assert set(self.Meta.fields) == SEEKER_EDITABLE_FIELDS
        for name in ("birth_year_min", "birth_year_max", "arrived_year", "height_cm"):
            self.fields[name].widget.attrs.setdefault("inputmode", "numeric")
        place_picker_attrs(self, "grew_up")
        self.fields["dialect"] = dialect_field(self.instance.dialect)
        if not consent_editable:
            # Consent is the seeker's alone: a volunteer editing the posting sees it, can't
            # change it (a disabled field keeps the stored value whatever is posted).
            for name in ("consent_to_matching", "matching_basis"):
                self.fields[name].disabled = True
                self.fields[name].help_text = _("Only the person who posted this can change it.")
        if self.instance.pk and self.instance.is_found_person:
            # Who posted a found person can't speak for them: the posting stays theirs.
            self.fields["posted_for"].disabled = True
            self.fields["posted_for"].help_text = _(
                "A found person's posting stays one, and is never public.")

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        check_place(self, data, "grew_up")
        year_min, year_max = data.get("birth_year_min"), data.get("birth_year_max")
        for name in ("birth_year_min", "birth_year_max", "arrived_year"):
            error = _year_error(data.get(name))
            if error:
                self.add_error(name, error)
        if year_min and year_max and not self.has_error("birth_year_max"):
            if year_min > year_max:
                self.add_error("birth_year_max", _(
                    "The latest year of birth must not be before the earliest (%(year)d)."
                ) % {"year": year_min})
            elif year_max - year_min > WIDEST_BIRTH_RANGE:
                self.add_error("birth_year_max", _(
                    "The range of birth years is too wide: at most %(n)d years."
                ) % {"n": WIDEST_BIRTH_RANGE})
        height = data.get("height_cm")
        if height is not None and not 50 <= height <= 250:
            self.add_error("height_cm", _("Enter a height between 50 and 250 cm."))
        arrived = data.get("arrived_year")
        if arrived and year_min and not self.has_error("arrived_year") and arrived < year_min:
            self.add_error("arrived_year", _(
                "This is before your earliest year of birth (%(year)d)."
            ) % {"year": year_min})
        if (
            data.get("posted_for") == SeekerPosting.PostedFor.FOUND_PERSON
            and data.get("consent_to_matching")
            and not (data.get("matching_basis") or "").strip()
        ):
            self.add_error("matching_basis", _(
                "Say on what basis this found person's photos may be compared."
            ))
        if not data.get("contact_phone") and not data.get("contact_email") and not (
            self.has_error("contact_email")
        ):
            self.add_error("contact_phone", _(
                "Give a phone number or an email address so volunteers can reach you."
            ))
        return data


# --- Photos -------------------------------------------------------------------


class PhotoDetailsMixin:
    """Checks the age in the photo and the year taken against the person's birth years."""

    owner_obj: MissingChildCase | SeekerPosting

    def _check_age(self, data: dict[str, Any]) -> None:
        kind = data.get("kind")
        age, year = data.get("age_in_photo"), data.get("year_taken")
        owner = self.owner_obj
        error = _year_error(year)
        if error:
            self.add_error("year_taken", error)
            return
        if age is not None and not 0 <= age <= 120:
            self.add_error("age_in_photo", _("Enter an age between 0 and 120."))
            return
        if age is None and year is None:
            self.add_error("age_in_photo", _(
                "Give the age of the person in the photo, or the year it was taken."
            ))
            return
        if kind == Photo.Kind.AGE_PROGRESSED and age is None:
            self.add_error("age_in_photo", _(
                "An age-progressed image needs the age it shows."
            ))
            return
        if year is not None and year < owner.birth_year_min:
            self.add_error("year_taken", _(
                "This is before the earliest year of birth (%(year)d)."
            ) % {"year": owner.birth_year_min})
        if age is not None and kind != Photo.Kind.AGE_PROGRESSED:
            oldest_now = this_year() - owner.birth_year_min
            if age > oldest_now + 1:
                self.add_error("age_in_photo", _(
                    "With a birth year from %(year)d, the person is at most %(age)d today."
                ) % {"year": owner.birth_year_min, "age": oldest_now})
        if isinstance(owner, MissingChildCase) and kind == Photo.Kind.CHILDHOOD:
            missing_age = owner.missing_date.year - owner.birth_year_min
            if age is not None and age > missing_age + 1:
                self.add_error("age_in_photo", _(
                    "A childhood photo is from before the child went missing (at about "
                    "%(age)d). Choose the kind “age-progressed image” for an estimate."
                ) % {"age": max(missing_age, 0)})
            if year is not None and year > owner.missing_date.year:
                self.add_error("year_taken", _(
                    "A childhood photo is from before the child went missing (%(year)d)."
                ) % {"year": owner.missing_date.year})


class PhotoUploadForm(PhotoDetailsMixin, forms.Form):
    image = forms.FileField(
        label=_("Photo"),
        widget=forms.ClearableFileInput(attrs={"accept": "image/*"}),
        help_text=_("JPEG, PNG, WebP, GIF or HEIC. Location data and other hidden details "
                    "are removed before the photo is stored."),
    )
    kind = forms.ChoiceField(label=_("Kind"), choices=Photo.Kind.choices)
    age_in_photo = forms.DecimalField(
        label=_("Age in the photo (years)"), required=False, max_digits=4, decimal_places=1,
        help_text=_("For an age-progressed image: the age it shows."),
        widget=forms.NumberInput(attrs={"inputmode": "decimal", "step": "0.1"}),
    )
    year_taken = forms.IntegerField(
        label=_("Year taken"), required=False,
        widget=forms.NumberInput(attrs={"inputmode": "numeric"}),
        help_text=_("If you don't know the age, the year the photo was taken."),
    )
    caption = forms.CharField(label=_("Caption"), max_length=200, required=False)

    def __init__(self, *args: Any, owner_obj: MissingChildCase | SeekerPosting, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.owner_obj = owner_obj
        if isinstance(owner_obj, SeekerPosting):
            self.fields["kind"].choices = [
                (Photo.Kind.RECENT, Photo.Kind.RECENT.label),
                (Photo.Kind.CHILDHOOD, Photo.Kind.CHILDHOOD.label),
            ]
            self.fields["kind"].initial = Photo.Kind.RECENT

    def ask_for_the_file_again(self) -> None:
        """A form sent back keeps what was typed, but no browser keeps a chosen file: say so
        beside the file field when the file itself was fine and something else was not."""
        if self.is_bound and self.errors and "image" not in self.errors and self.files:
            self.add_error("image", _(
                "Your other answers are kept, but please choose the photo again: the file "
                "can't be kept when the form is sent back."))

    def clean_image(self) -> Any:
        upload = self.cleaned_data["image"]
        if upload.size > settings.PHOTO_MAX_BYTES:
            raise forms.ValidationError(
                _("The file is too large (%(size)d MB); the limit is %(limit)d MB.")
                % {"size": upload.size // 2**20, "limit": settings.PHOTO_MAX_BYTES // 2**20}
            )
        return upload

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        self._check_age(data)
        return data

    def photo_fields(self) -> dict[str, Any]:
        data = self.cleaned_data
        age = data.get("age_in_photo")
        return {
            "kind": data["kind"],
            "age_in_photo": float(age) if age is not None else None,
            "year_taken": data.get("year_taken"),
            "caption": data.get("caption", ""),
        }


class PhotoEditForm(PhotoDetailsMixin, forms.ModelForm):
    class Meta:
        model = Photo
        fields = ["kind", "age_in_photo", "year_taken", "caption", "use_in_matching",
                  "use_on_poster"]
        help_texts = {
            "use_on_poster": _("Shown on the public case page and the poster."),
            "use_in_matching": _("Compared with the photos on the other side."),
        }

    def __init__(self, *args: Any, poster_changeable: bool = True, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        photo = self.instance
        self.owner_obj = photo.case if photo.case_id else photo.seeker_posting
        if not photo.case_id or not poster_changeable:
            # Seeker photos are never public; the poster is the family's choice.
            del self.fields["use_on_poster"]

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        self._check_age(data)
        return data


class PhotoHideForm(forms.Form):
    """Why a volunteer hides a photo, for the other volunteers (optional)."""

    reason = forms.CharField(
        label=_("Why (for the other volunteers)"), required=False, max_length=500,
    )


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
            error = _year_error(data.get(name))
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


# --- Deleting for good --------------------------------------------------------


class DeleteConfirmForm(forms.Form):
    confirm = forms.BooleanField(
        label=_("I understand that this deletes the photos and everything else for good."),
        required=True,
    )


class AccountDeleteForm(DeleteConfirmForm):
    password = forms.CharField(
        label=_("Your password"), strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
    )

    def __init__(self, *args: Any, user: User, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.user = user

    def clean_password(self) -> str:
        password = self.cleaned_data["password"]
        if not self.user.check_password(password):
            raise forms.ValidationError(_("That is not your password."))
        return password

    def clean(self) -> dict[str, Any]:
        alone = partner_organisations_left_alone(self.user)
        if alone:
            raise forms.ValidationError(_(
                "%(names)s would be left with no member to look after the found people you "
                "posted for it. Ask an admin to add another member first."
            ) % {"names": ", ".join(organisation.name for organisation in alone)})
        return super().clean()


# --- Tips -------------------------------------------------------------------------


class TipForm(forms.ModelForm):
    """A lead about a case, from anyone. ``website`` is a trap: people never see it, so
    a form that fills it in was sent by a program, and is thanked and dropped."""

    photo = forms.FileField(
        label=_("A photo (optional)"), required=False,
        widget=forms.ClearableFileInput(attrs={"accept": "image/*"}),
        help_text=_("Only the volunteers see it. Location data and other hidden details are "
                    "removed before it is stored."),
    )
    website = forms.CharField(
        required=False, label=_("Leave this empty"),
        widget=forms.TextInput(attrs={"autocomplete": "off", "tabindex": "-1"}),
    )

    class Meta:
        model = Tip
        fields = ["text", "place", "when", "contact"]
        widgets = {"text": forms.Textarea(attrs={"rows": 6, "maxlength": 4000})}
        help_texts = {
            "text": _("What you saw, heard or know about this child. Please be as precise as "
                      "you can; a volunteer reads every tip."),
            "when": _("A date, a year or a season: whatever you know."),
        }

    def clean_photo(self) -> Any:
        upload = self.cleaned_data.get("photo")
        if upload and upload.size > settings.PHOTO_MAX_BYTES:
            raise forms.ValidationError(
                _("The file is too large (%(size)d MB); the limit is %(limit)d MB.")
                % {"size": upload.size // 2**20, "limit": settings.PHOTO_MAX_BYTES // 2**20}
            )
        return upload

    @property
    def is_from_a_program(self) -> bool:
        return bool(self.cleaned_data.get("website"))


class TipHandleForm(forms.Form):
    status = forms.ChoiceField(
        label=_("This tip is"),
        choices=[c for c in Tip.Status.choices if c[0] != Tip.Status.NEW],
        widget=forms.RadioSelect,
    )
    note = forms.CharField(
        label=_("Note for the other volunteers"), required=False, max_length=4000,
        widget=forms.Textarea(attrs={"rows": 3}),
    )


class TipPassOnForm(forms.Form):
    message = forms.CharField(
        label=_("What the family should hear"), max_length=2000,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_("In your own words. The tip itself, its sender and its photo are never "
                    "shown to the family."),
    )


# --- Public seeker postings ----------------------------------------------------------


class SeekerPublishForm(forms.Form):
    """What a seeker shows when they publish their posting: which photos, and the memories."""

    photos = forms.ModelMultipleChoiceField(
        label=_("Photos to show"), queryset=Photo.objects.none(), required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("Only the photos you tick are shown. Think twice about childhood photos: "
                    "anyone can see and copy a public photo."),
    )
    show_memories = forms.BooleanField(
        label=_("Show my earliest memories"), required=False,
        help_text=_("They help a family recognise you, and tell strangers about your past."),
    )
    understood = forms.BooleanField(
        label=_("I understand that anyone can see this posting, and that I can take it down "
                "at any time"),
    )

    def __init__(self, *args: Any, posting: SeekerPosting, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["photos"].queryset = posting.photos.order_by("uploaded_at", "pk")
        self.fields["photos"].label_from_instance = lambda photo: photo.caption or str(
            photo.get_kind_display()
        )


class SeekerSearchForm(forms.Form):
    name = forms.CharField(label=_("Name used now"), required=False, max_length=100)
    sex = forms.ChoiceField(
        label=_("Sex"), required=False, choices=[("", _("any")), *Sex.choices]
    )
    born_from = forms.IntegerField(label=_("Born from (year)"), required=False)
    born_to = forms.IntegerField(label=_("Born until (year)"), required=False)
    place = forms.CharField(label=_("Grew up in (province or city)"), required=False,
                            max_length=100)

    def filters(self) -> dict[str, Any]:
        """The valid filters, for ``selectors.public_seeker_postings``."""
        data = self.cleaned_data if self.is_valid() else {}
        return {name: data.get(name) for name in ("name", "sex", "born_from", "born_to", "place")
                if data.get(name) not in (None, "")}


class PartnerImportForm(forms.Form):
    """A CSV of found people and the zip of the photos it names (docs/PARTNERS.md)."""

    organisation = forms.ModelChoiceField(
        label=_("Organisation"), queryset=PartnerOrganisation.objects.none(), empty_label=None)
    csv_file = forms.FileField(
        label=_("CSV file"), help_text=_("One row per person; the first line names the columns."))
    photos_zip = forms.FileField(
        label=_("Zip of photos"), required=False,
        help_text=_("The photos the CSV names, in one zip archive."))

    def __init__(self, *args: Any, organisations: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["organisation"].queryset = organisations
        if len(organisations) == 1:
            self.fields["organisation"].initial = organisations[0]
            self.fields["organisation"].widget = forms.HiddenInput()
