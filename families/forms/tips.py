"""Forms for tips: sending one, a volunteer handling it and passing it on."""

from __future__ import annotations

from typing import Any

from django import forms
from django.conf import settings
from django.utils.translation import gettext_lazy as _

from families.models import Tip

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
