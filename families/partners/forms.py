"""The partner's bulk import form."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from families.models import PartnerOrganisation


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
