"""Forms of the review pages: queue filters, the decision, and the DNA test steps."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from matching.models import DnaTest, Review


class DateInput(forms.DateInput):
    input_type = "date"


class QueueFilterForm(forms.Form):
    region = forms.CharField(label=_("Region (province or city)"), max_length=100, required=False)
    created_from = forms.DateField(label=_("Found from"), required=False, widget=DateInput)
    created_to = forms.DateField(label=_("Found until"), required=False, widget=DateInput)
    min_score = forms.FloatField(
        label=_("Lowest score"), required=False, min_value=-10, max_value=1,
        widget=forms.NumberInput(attrs={"step": "0.01"}),
    )

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        start, end = data.get("created_from"), data.get("created_to")
        if start and end and start > end:
            self.add_error("created_to", _("The end date is before the start date."))
        return data


#: Reasons a volunteer may give; "DNA: no match" is recorded by the DNA result only.
REJECT_REASONS = [
    (value, label) for value, label in Review.Reason.choices
    if value != Review.Reason.DNA_NO_MATCH
]


class ReviewDecisionForm(forms.Form):
    decision = forms.ChoiceField(label=_("Decision"), widget=forms.RadioSelect)
    reason = forms.ChoiceField(
        label=_("Reason for rejecting"), required=False,
        choices=[("", _("(choose when rejecting)")), *REJECT_REASONS],
    )
    note = forms.CharField(
        label=_("Note"), required=False, max_length=4000,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_("Why you decided so; required for \"needs more information\" and \"other\"."),
    )

    def __init__(self, *args: Any, awaiting_second: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        confirm = Review.Decision.SECOND_CONFIRM if awaiting_second else Review.Decision.CONFIRM
        self.fields["decision"].choices = [
            (confirm, Review.Decision(confirm).label),
            (Review.Decision.NEEDS_INFO, Review.Decision.NEEDS_INFO.label),
            (Review.Decision.REJECT, Review.Decision.REJECT.label),
        ]

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        decision, reason, note = data.get("decision"), data.get("reason"), data.get("note", "")
        if decision == Review.Decision.REJECT and not reason:
            self.add_error("reason", _("Choose the reason for rejecting."))
        if decision == Review.Decision.REJECT and reason == Review.Reason.OTHER and not note:
            self.add_error("note", _("Say why in the note."))
        if decision == Review.Decision.NEEDS_INFO and not note:
            self.add_error("note", _("Say which information is needed."))
        return data


def _not_in_future(value):
    if value and value > timezone.localdate():
        raise forms.ValidationError(_("This date is in the future."))
    return value


class DnaRequestForm(forms.Form):
    lab_reference = forms.CharField(label=_("Laboratory reference"), max_length=100, required=False)


class DnaSamplesForm(forms.Form):
    collected_on = forms.DateField(
        label=_("Samples collected on"), widget=DateInput, validators=[_not_in_future]
    )
    lab_reference = forms.CharField(label=_("Laboratory reference"), max_length=100, required=False)


class DnaResultForm(forms.Form):
    result = forms.ChoiceField(label=_("Result"), choices=DnaTest.Result.choices,
                               widget=forms.RadioSelect)
    result_on = forms.DateField(
        label=_("Result received on"), widget=DateInput, validators=[_not_in_future]
    )
    lab_reference = forms.CharField(label=_("Laboratory reference"), max_length=100, required=False)
    note = forms.CharField(label=_("Note"), required=False, max_length=4000,
                           widget=forms.Textarea(attrs={"rows": 3}))
