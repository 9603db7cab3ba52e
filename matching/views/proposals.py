"""Candidates people propose: a seeker from a public case, a family from a public seeker
posting, a volunteer from two postings (or a tip).

The answer to the person proposing is the same whatever happens: a volunteer
looks at it, and they hear of it only if a volunteer confirms it.
"""

from __future__ import annotations

from collections.abc import Callable

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from families.models import MATCHABLE_STATUSES, MissingChildCase, SeekerPosting, Tip
from families.selectors import is_volunteer, tip_handleable_by
from matching import forms
from matching.models import Candidate
from matching.services.proposals import candidate_propose
from matching.views.common import no_store
from reunion.ratelimits import limit

THANKS = gettext_lazy(
    "Thank you. A volunteer will look at it carefully. You will hear from us only if a "
    "volunteer confirms it; most possible matches turn out to be other people."
)


def _proposal_page(
    request: HttpRequest, *, form: forms.ProposalForm, target: MissingChildCase | SeekerPosting,
    kind: str, propose: Callable[[object, str], Candidate],
) -> HttpResponse:
    if request.method == "POST" and form.is_valid():
        try:
            propose(form.cleaned_data["own"], form.cleaned_data["note"])
        except (ValidationError, PermissionDenied) as error:
            form.add_error(None, error if isinstance(error, ValidationError)
                           else _("You can't propose this."))
        else:
            messages.success(request, str(THANKS))
            return redirect(target.get_public_url() if kind == "family"
                            else target.get_absolute_url())
    return no_store(render(request, "matching/propose.html", {
        "form": form, "target": target, "kind": kind,
    }, status=400 if request.method == "POST" else 200))


@login_required
@never_cache
@limit("proposal", key="user")
@require_http_methods(["GET", "POST"])
def might_be_me(request: HttpRequest, pk: int) -> HttpResponse:
    """A signed-in seeker, reading a public case, says "this might be me"."""
    case = get_object_or_404(MissingChildCase, pk=pk)
    if not case.is_matchable:  # a reunited child is found: nobody proposes for them now
        raise Http404
    own = SeekerPosting.objects.filter(
        owner=request.user, consent_to_matching=True, status__in=MATCHABLE_STATUSES
    ).order_by("pk")
    form = forms.ProposalForm(request.POST or None, own=own, own_label=_("My seeker posting"))
    return _proposal_page(
        request, form=form, target=case, kind="seeker",
        propose=lambda posting, note: candidate_propose(
            actor=request.user, case=case, seeker_posting=posting,
            source=Candidate.Source.SEEKER, note=note),
    )


@login_required
@never_cache
@limit("proposal", key="user")
@require_http_methods(["GET", "POST"])
def might_be_our_child(request: HttpRequest, pk: int) -> HttpResponse:
    """A family, reading a published seeker posting, says "this might be our child"."""
    posting = get_object_or_404(SeekerPosting, pk=pk)
    if not posting.is_public:
        raise Http404
    own = MissingChildCase.objects.filter(
        family=request.user, status__in=MATCHABLE_STATUSES
    ).order_by("pk")
    form = forms.ProposalForm(request.POST or None, own=own, own_label=_("Our case"))
    return _proposal_page(
        request, form=form, target=posting, kind="family",
        propose=lambda case, note: candidate_propose(
            actor=request.user, case=case, seeker_posting=posting,
            source=Candidate.Source.FAMILY, note=note),
    )


@login_required
@never_cache
@require_http_methods(["GET", "POST"])
def volunteer_propose(request: HttpRequest) -> HttpResponse:
    """A volunteer proposes two postings as one person, from a tip or their own reading."""
    if not is_volunteer(request.user):
        raise Http404
    form = forms.VolunteerProposalForm(request.POST or None, initial=request.GET.dict())
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        case = MissingChildCase.objects.filter(pk=data["case"]).first()
        posting = SeekerPosting.objects.filter(pk=data["seeker_posting"]).first()
        tip = Tip.objects.select_related("case").filter(reference=data["tip"]).first() \
            if data.get("tip") else None
        if tip is not None and not tip_handleable_by(user=request.user, tip=tip):
            tip = None  # a tip the volunteer may not read is answered as one that doesn't exist
        try:
            if case is None or posting is None or (data.get("tip") and tip is None):
                raise ValidationError(_("No such case, posting or tip."))
            candidate_propose(
                actor=request.user, case=case, seeker_posting=posting, note=data["note"],
                source=Candidate.Source.TIP if tip else Candidate.Source.VOLUNTEER, tip=tip,
            )
        except ValidationError as error:
            form.add_error(None, error)
        except PermissionDenied:
            form.add_error(None, _("You can't propose a candidate about your own case or "
                                   "posting."))
        else:
            messages.success(request, _("The candidate is in the review queue."))
            return redirect("matching:queue")
    return no_store(render(request, "matching/propose.html", {
        "form": form, "target": None, "kind": "volunteer",
    }, status=400 if request.method == "POST" else 200))
