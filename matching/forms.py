"""Forms of the review pages: queue filters, the decision, and the DNA test steps."""

from __future__ import annotations

from typing import Any

from django import forms
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from families.models import Photo
from matching.models import Candidate, DnaTest, Review


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
    source = forms.ChoiceField(
        label=_("Came from"), required=False,
        choices=[("", _("anywhere")), *Candidate.Source.choices],
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
        help_text=_("Why you decided so; required to confirm, for \"needs more information\" "
                    "and for \"other\"."),
    )

    def __init__(self, *args: Any, awaiting_second: bool = False, may_confirm: bool = True,
                 **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        confirm = Review.Decision.SECOND_CONFIRM if awaiting_second else Review.Decision.CONFIRM
        # The volunteer who proposed a candidate never confirms it: another one does.
        choices = [(confirm, Review.Decision(confirm).label)] if may_confirm else []
        self.fields["decision"].choices = [
            *choices,
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
        if decision in (Review.Decision.CONFIRM, Review.Decision.SECOND_CONFIRM) and not note:
            self.add_error("note", _("Write why you confirm it."))
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
    reunion_confirmed = forms.BooleanField(
        label=_("I have checked the laboratory's report: it is a match, and they are reunited"),
        required=False,
    )

    def clean(self) -> dict:
        """A match reunites two people and tells them both: it is recorded only when
        the volunteer says, in so many words, that they checked it."""
        data = super().clean()
        if data.get("result") == DnaTest.Result.MATCH and not data.get("reunion_confirmed"):
            self.add_error("reunion_confirmed", _(
                "A match reunites them and tells both sides: tick this box to confirm it."
            ))
        return data


# --- Faces and estimates (the face picker, the age-progression page) ---------------


class FacePickForm(forms.Form):
    """Either one of the detected boxes, or a box drawn by hand (in the stored photo's pixels)."""

    face = forms.TypedChoiceField(
        label=_("Detected faces"), required=False, coerce=int, empty_value=None,
        widget=forms.RadioSelect,
    )
    box_x = forms.IntegerField(label=_("Left (pixels)"), required=False, min_value=0)
    box_y = forms.IntegerField(label=_("Top (pixels)"), required=False, min_value=0)
    box_w = forms.IntegerField(label=_("Width (pixels)"), required=False, min_value=1)
    box_h = forms.IntegerField(label=_("Height (pixels)"), required=False, min_value=1)

    #: Smaller regions hold too little of a face to compare.
    MIN_SIDE = 20

    def __init__(self, *args: Any, photo: Photo, detected: list[Any], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.photo = photo
        self.fields["face"].choices = [
            (face.pk, _("Face %(n)d") % {"n": number})
            for number, face in enumerate(detected, start=1)
        ]

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        box = [data.get(name) for name in ("box_x", "box_y", "box_w", "box_h")]
        has_box = any(value is not None for value in box)
        if data.get("face") is not None:
            return data
        if self.errors:
            return data
        if not has_box:
            raise forms.ValidationError(_("Choose one of the faces found, or draw a box."))
        if any(value is None for value in box):
            raise forms.ValidationError(_("Give all four numbers of the box."))
        x, y, w, h = box
        if w < self.MIN_SIDE or h < self.MIN_SIDE:
            raise forms.ValidationError(_("The box is too small: at least %(n)d pixels a side.")
                                        % {"n": self.MIN_SIDE})
        if x + w > self.photo.width or y + h > self.photo.height:
            raise forms.ValidationError(_(
                "The box goes outside the photo (%(w)d×%(h)d pixels)."
            ) % {"w": self.photo.width, "h": self.photo.height})
        return data


class AgeProgressionForm(forms.Form):
    """The age a family asks Reunion to age a childhood photo to."""

    target_age = forms.DecimalField(
        label=_("Age to show (years)"), max_digits=4, decimal_places=1,
        min_value=1, max_value=120,
        help_text=_("For example the age the child would be today."),
    )


class EstimateUseForm(forms.Form):
    """The family's decision on one age-progressed image (one of ``estimates``)."""

    estimate = forms.ModelChoiceField(
        queryset=Photo.objects.none(), widget=forms.HiddenInput,
        error_messages={
            "required": _("Choose one of the estimates on this page."),
            "invalid_choice": _("Choose one of the estimates on this page."),
        },
    )
    use_in_matching = forms.BooleanField(label=_("Use in matching"), required=False)
    use_on_poster = forms.BooleanField(
        label=_("Show on the public case page and the poster (labelled as an estimate)"),
        required=False,
    )

    def __init__(self, *args: Any, estimates: QuerySet[Photo], poster_changeable: bool = True,
                 **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # A number that is not one of this photo's estimates is a form error, never a 500.
        self.fields["estimate"].queryset = estimates
        if not poster_changeable:
            # The poster is the family's choice: a volunteer sees it, and can't change it.
            self.fields["use_on_poster"].disabled = True
            self.fields["use_on_poster"].help_text = _("The family's choice.")

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        if self.fields["use_on_poster"].disabled and data.get("estimate") is not None:
            data["use_on_poster"] = data["estimate"].use_on_poster
        return data


# --- Candidates people propose --------------------------------------------------------


class ProposalForm(forms.Form):
    """A seeker's "this might be me" or a family's "this might be our child"."""

    own = forms.ModelChoiceField(queryset=None, empty_label=None)  # set per person
    note = forms.CharField(
        label=_("Why do you think so?"), max_length=2000,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_("A few words for the volunteers: what you recognised, what you remember."),
    )

    def __init__(self, *args: Any, own: QuerySet, own_label: str, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["own"].queryset = own
        self.fields["own"].label = own_label


class VolunteerProposalForm(forms.Form):
    """Two postings a volunteer thinks may be one person (from a tip, or their own reading)."""

    case = forms.IntegerField(label=_("Case number"), min_value=1)
    seeker_posting = forms.IntegerField(label=_("Seeker posting number"), min_value=1)
    tip = forms.UUIDField(label=_("From tip (its reference, optional)"), required=False)
    note = forms.CharField(label=_("Why"), max_length=2000,
                           widget=forms.Textarea(attrs={"rows": 4}))
