"""The review queue and the review page: both people side by side, and the decision."""

from __future__ import annotations

from uuid import UUID

from django.conf import settings
from django.contrib import messages
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from families.audit import audit_record
from matching import forms, services, statistics
from matching.models import Candidate, DnaTest
from matching.selectors.access import candidate_confirmable_by
from matching.selectors.facts import candidate_facts
from matching.selectors.matches import match_messages, message_threads_of
from matching.selectors.review import candidate_photo_pairs, review_queue
from matching.services.messages import MESSAGE_MAX_LENGTH
from matching.views.common import reviewable_candidate, volunteer_required


@volunteer_required
@require_GET
def queue(request: HttpRequest) -> HttpResponse:
    """Candidates waiting for review, best score first, then the case that waited longest."""
    form = forms.QueueFilterForm(request.GET or None)
    filters = form.cleaned_data if form.is_valid() else {}
    candidates = review_queue(
        viewer=request.user,
        region=filters.get("region") or "",
        created_from=filters.get("created_from"),
        created_to=filters.get("created_to"),
        min_score=filters.get("min_score"),
        source=filters.get("source") or "",
    )
    page = Paginator(candidates, 50).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    return render(request, "matching/queue.html", {
        "form": form, "page": page, "query": query.urlencode(), "now": timezone.now(),
    })


@volunteer_required
@require_POST
def claim(request: HttpRequest, reference: UUID) -> HttpResponse:
    candidate = reviewable_candidate(request, reference)
    try:
        services.candidate_claim(actor=request.user, candidate=candidate)
    except services.ReviewRefused as refused:
        messages.error(request, str(refused))
        return redirect("matching:queue")
    return redirect("matching:review", reference=candidate.reference)


@volunteer_required
@require_POST
def release(request: HttpRequest, reference: UUID) -> HttpResponse:
    candidate = reviewable_candidate(request, reference)
    try:
        services.candidate_release(actor=request.user, candidate=candidate)
    except services.ReviewRefused as refused:
        messages.error(request, str(refused))
        return redirect("matching:review", reference=candidate.reference)
    messages.success(request, _("The candidate is back in the queue."))
    return redirect("matching:queue")


@volunteer_required
@require_http_methods(["GET", "POST"])
def review(request: HttpRequest, reference: UUID) -> HttpResponse:
    """Both people side by side: photos, aligned faces, every pair's distance, the facts."""
    candidate = reviewable_candidate(request, reference)
    awaiting_second = candidate.status == Candidate.Status.AWAITING_SECOND_REVIEW
    may_confirm = candidate_confirmable_by(user=request.user, candidate=candidate)
    form = forms.ReviewDecisionForm(request.POST or None, awaiting_second=awaiting_second,
                                    may_confirm=may_confirm)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            services.candidate_review(
                actor=request.user, candidate=candidate, decision=data["decision"],
                reason=data.get("reason") or "", note=data.get("note") or "",
            )
        except services.ReviewRefused as refused:
            messages.error(request, str(refused))
        else:
            messages.success(request, _("Your decision is recorded."))
            candidate.refresh_from_db()
            if candidate.status == Candidate.Status.CONFIRMED:
                return redirect("matching:dna_test", reference=candidate.reference)
            return redirect("matching:queue")
    audit_record(actor=request.user, action="candidate.viewed", obj=candidate)
    case, posting = candidate.case, candidate.seeker_posting
    claim_is_mine = candidate.claimed_by_id == request.user.pk
    return render(request, "matching/review.html", {
        "candidate": candidate,
        "case": case,
        "posting": posting,
        "case_photos": list(case.photos.order_by("uploaded_at", "pk")),
        "seeker_photos": list(posting.photos.order_by("uploaded_at", "pk")),
        "pairs": candidate_photo_pairs(candidate),
        "fusion": settings.MATCH_FUSION,
        "chance": statistics.candidate_chance(candidate, viewer=request.user),
        "facts": candidate_facts(candidate),
        "reviews": candidate.reviews.select_related("reviewer"),
        "dna_test": DnaTest.objects.filter(candidate=candidate).first(),
        "form": form,
        "is_open": candidate.status in services.OPEN_CANDIDATE_STATUSES,
        "claim_is_mine": claim_is_mine,
        "claimed_by_other": bool(candidate.claimed_by_id and not claim_is_mine),
        "may_confirm": may_confirm,
        # After a confirmation: each side's thread with the volunteers (never shown to the
        # other side).
        "threads": [
            (thread, match_messages(candidate=candidate, thread=thread))
            for thread in message_threads_of(user=request.user, candidate=candidate)
        ],
        "message_max": MESSAGE_MAX_LENGTH,
    })
