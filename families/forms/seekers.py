"""Forms for seeker postings: posting, publishing, the public search."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from families.forms.common import (
    PLACE_HELP_TEXTS,
    WIDEST_BIRTH_RANGE,
    check_place,
    dialect_field,
    place_picker_attrs,
    year_error,
)
from families.models import Photo, SeekerPosting, Sex
from families.services.seeker_postings import SEEKER_EDITABLE_FIELDS

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
            error = year_error(data.get(name))
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
