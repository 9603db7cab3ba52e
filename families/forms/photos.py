"""Forms for photos: adding, editing, a volunteer hiding one."""

from __future__ import annotations

from typing import Any

from django import forms
from django.conf import settings
from django.utils.translation import gettext_lazy as _

from families.forms.common import this_year, year_error
from families.models import MissingChildCase, Photo, SeekerPosting

# --- Photos -------------------------------------------------------------------


class PhotoDetailsMixin:
    """Checks the age in the photo and the year taken against the person's birth years."""

    owner_obj: MissingChildCase | SeekerPosting

    def _check_age(self, data: dict[str, Any]) -> None:
        kind = data.get("kind")
        age, year = data.get("age_in_photo"), data.get("year_taken")
        owner = self.owner_obj
        error = year_error(year)
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
