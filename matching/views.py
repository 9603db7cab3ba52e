"""Review pages for volunteers, and the match page a confirmation opens to both sides.

Volunteers see everything a review needs; anyone else gets 404 (never 403, so
nobody learns which candidates exist). Every view of a candidate page, a
match page or a photo of either side writes an audit entry. Views are thin:
they read through ``matching.selectors`` and change state through one service.
"""

from __future__ import annotations

import io
import math
from collections.abc import Callable
from datetime import date, datetime, time
from functools import wraps
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseBase
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from PIL import Image

from families.models import Photo
from families.services import audit_record
from matching import forms, selectors, services
from matching.models import Candidate, DnaTest, Face, Review

View = Callable[..., HttpResponseBase]

#: Side of the aligned face crops shown on the review page, in pixels.
CROP_SIDE = 224


def _private(response: HttpResponseBase) -> HttpResponseBase:
    response["Cache-Control"] = "private, no-store"
    return response


def volunteer_required(view: View) -> View:
    """Signed-in volunteers (and admins) only; 404 for everyone else."""

    @wraps(view)
    @login_required
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        if not request.user.is_volunteer:
            raise Http404
        return _private(view(request, *args, **kwargs))

    return wrapper


def _candidate(pk: int) -> Candidate:
    return get_object_or_404(
        Candidate.objects.select_related("case", "seeker_posting", "claimed_by"), pk=pk
    )


def _reviewable(request: HttpRequest, pk: int) -> Candidate:
    """The candidate, if the volunteer may review it: never their own, never an ended one."""
    candidate = _candidate(pk)
    if not selectors.candidate_reviewable_by(user=request.user, candidate=candidate):
        raise Http404
    return candidate


def _on_date(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, time(12, 0)))


@volunteer_required
@require_GET
def queue(request: HttpRequest) -> HttpResponse:
    """Candidates waiting for review, best score first, then the case that waited longest."""
    form = forms.QueueFilterForm(request.GET or None)
    filters = form.cleaned_data if form.is_valid() else {}
    candidates = selectors.review_queue(
        viewer=request.user,
        region=filters.get("region") or "",
        created_from=filters.get("created_from"),
        created_to=filters.get("created_to"),
        min_score=filters.get("min_score"),
    )
    page = Paginator(candidates, 50).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    return render(request, "matching/queue.html", {
        "form": form, "page": page, "query": query.urlencode(), "now": timezone.now(),
    })


@volunteer_required
@require_POST
def claim(request: HttpRequest, pk: int) -> HttpResponse:
    candidate = _reviewable(request, pk)
    try:
        services.candidate_claim(actor=request.user, candidate=candidate)
    except services.ReviewRefused as refused:
        messages.error(request, str(refused))
        return redirect("matching:queue")
    return redirect("matching:review", pk=candidate.pk)


@volunteer_required
@require_POST
def release(request: HttpRequest, pk: int) -> HttpResponse:
    candidate = _reviewable(request, pk)
    try:
        services.candidate_release(actor=request.user, candidate=candidate)
    except services.ReviewRefused as refused:
        messages.error(request, str(refused))
        return redirect("matching:review", pk=candidate.pk)
    messages.success(request, _("The candidate is back in the queue."))
    return redirect("matching:queue")


@volunteer_required
@require_http_methods(["GET", "POST"])
def review(request: HttpRequest, pk: int) -> HttpResponse:
    """Both people side by side: photos, aligned faces, every pair's distance, the facts."""
    candidate = _reviewable(request, pk)
    awaiting_second = candidate.status == Candidate.Status.AWAITING_SECOND_REVIEW
    form = forms.ReviewDecisionForm(request.POST or None, awaiting_second=awaiting_second)
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
                return redirect("matching:dna_test", pk=candidate.pk)
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
        "pairs": selectors.candidate_photo_pairs(candidate),
        "facts": selectors.candidate_facts(candidate),
        "reviews": candidate.reviews.select_related("reviewer"),
        "dna_test": DnaTest.objects.filter(candidate=candidate).first(),
        "form": form,
        "is_open": candidate.status in services.OPEN_CANDIDATE_STATUSES,
        "claim_is_mine": claim_is_mine,
        "claimed_by_other": bool(candidate.claimed_by_id and not claim_is_mine),
    })


@volunteer_required
@require_http_methods(["GET", "POST"])
def dna_test(request: HttpRequest, pk: int) -> HttpResponse:
    """The DNA test of a confirmed candidate: requested, samples collected, result."""
    candidate = _reviewable(request, pk)
    test = DnaTest.objects.filter(candidate=candidate).first()
    step = request.POST.get("step", "")
    request_form = forms.DnaRequestForm(request.POST if step == "request" else None)
    samples_form = forms.DnaSamplesForm(
        request.POST if step == "samples" else None,
        initial={"collected_on": timezone.localdate()},
    )
    result_form = forms.DnaResultForm(
        request.POST if step == "result" else None,
        initial={"result_on": timezone.localdate()},
    )
    if request.method == "POST":
        try:
            done = _dna_step(request, candidate, test, step,
                             request_form, samples_form, result_form)
        except services.ReviewRefused as refused:
            messages.error(request, str(refused))
            done = False
        if done:
            messages.success(request, _("The DNA test is updated."))
            return redirect("matching:dna_test", pk=candidate.pk)
    # The volunteer arranging the test needs both sides' contacts, and only then.
    show_contacts = candidate.status in (Candidate.Status.CONFIRMED, Candidate.Status.REUNITED)
    audit_record(actor=request.user, action="dna_test.viewed", obj=candidate,
                 detail={"contacts_shown": show_contacts})
    return render(request, "matching/dna_test.html", {
        "candidate": candidate, "test": test, "show_contacts": show_contacts,
        "request_form": request_form,
        "samples_form": samples_form, "result_form": result_form,
        "can_request": candidate.status == Candidate.Status.CONFIRMED and (
            test is None or test.result == DnaTest.Result.INCONCLUSIVE),
    })


def _dna_step(
    request: HttpRequest, candidate: Candidate, test: DnaTest | None, step: str,
    request_form: forms.DnaRequestForm, samples_form: forms.DnaSamplesForm,
    result_form: forms.DnaResultForm,
) -> bool:
    actor = request.user
    if step == "request" and request_form.is_valid():
        services.dna_test_request(actor=actor, candidate=candidate,
                                  lab_reference=request_form.cleaned_data["lab_reference"])
        return True
    if test is None:
        return False
    if step == "samples" and samples_form.is_valid():
        data = samples_form.cleaned_data
        services.dna_test_record_samples(
            actor=actor, dna_test=test, collected_at=_on_date(data["collected_on"]),
            lab_reference=data["lab_reference"],
        )
        return True
    if step == "result" and result_form.is_valid():
        data = result_form.cleaned_data
        services.dna_test_record_result(
            actor=actor, dna_test=test, result=data["result"],
            result_at=_on_date(data["result_on"]), lab_reference=data["lab_reference"],
            note=data["note"],
        )
        return True
    return False


@login_required
@require_GET
def match_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """What a confirmation lets the family and the seeker see of each other (docs/REVIEW.md)."""
    candidate = _candidate(pk)
    side = selectors.match_side_of(user=request.user, candidate=candidate)
    if side is None:
        raise Http404
    audit_record(actor=request.user, action="match.viewed", obj=candidate,
                 detail={"side": side})
    confirmation = (
        candidate.reviews.filter(
            decision__in=(Review.Decision.CONFIRM, Review.Decision.SECOND_CONFIRM)
        ).select_related("reviewer").order_by("created_at").first()
    )
    return _private(render(request, "matching/match_detail.html", {
        "candidate": candidate,
        "side": side,
        "case": candidate.case,
        "posting": candidate.seeker_posting,
        "photos": selectors.match_shared_photos(candidate=candidate, side=side),
        "volunteer": confirmation.reviewer if confirmation else None,
        "dna_test": DnaTest.objects.filter(candidate=candidate).first(),
    }))


def _photo_for(request: HttpRequest, candidate: Candidate, photo_pk: int) -> Photo:
    photo = get_object_or_404(Photo, pk=photo_pk)
    if not selectors.candidate_photo_viewable_by(
        user=request.user, candidate=candidate, photo=photo
    ):
        raise Http404
    return photo


def _jpeg(content: bytes) -> HttpResponse:
    response = HttpResponse(content, content_type="image/jpeg")
    response["X-Content-Type-Options"] = "nosniff"
    return _private(response)


@login_required
@never_cache
@require_GET
def candidate_photo(request: HttpRequest, pk: int, photo_pk: int) -> HttpResponse:
    """A photo of either person of a candidate: to volunteers, and to whom a confirmation grants."""
    candidate = _candidate(pk)
    photo = _photo_for(request, candidate, photo_pk)
    audit_record(actor=request.user, action="candidate.photo_viewed", obj=photo,
                 detail={"candidate": candidate.pk})
    try:
        with photo.image.open("rb") as handle:
            return _jpeg(handle.read())
    except FileNotFoundError:
        raise Http404 from None


@login_required
@never_cache
@require_GET
def candidate_face(request: HttpRequest, pk: int, face_pk: int) -> HttpResponse:
    """The face, turned so the eyes are level and cropped square: faces compared at one scale."""
    candidate = _candidate(pk)
    face = get_object_or_404(Face.objects.select_related("photo"), pk=face_pk)
    photo = _photo_for(request, candidate, face.photo_id)
    audit_record(actor=request.user, action="candidate.face_viewed", obj=photo,
                 detail={"candidate": candidate.pk, "face": face.pk})
    try:
        with photo.image.open("rb") as handle, Image.open(handle) as image:
            crop = aligned_face_crop(image.convert("RGB"), face)
    except FileNotFoundError:
        raise Http404 from None
    out = io.BytesIO()
    crop.save(out, format="JPEG", quality=90)
    return _jpeg(out.getvalue())


def aligned_face_crop(image: Image.Image, face: Face, side: int = CROP_SIDE) -> Image.Image:
    """A square crop of the face, turned so the eyes are level and scaled by their distance.

    With the eyes known, every crop puts them at the same place and size, so
    faces photographed decades apart are compared at one scale; without them
    (a hand-drawn box) the crop is the box with a margin.
    """
    centre_x = face.box_x + face.box_w / 2
    centre_y = face.box_y + face.box_h / 2
    half = max(face.box_w, face.box_h) * 0.8
    angle = 0.0
    eyes = [face.landmarks.get(name) for name in ("left_eye", "right_eye")]
    if all(eye and len(eye) == 2 for eye in eyes):
        (x1, y1), (x2, y2) = sorted((tuple(eyes[0]), tuple(eyes[1])))
        distance = math.hypot(x2 - x1, y2 - y1)
        if distance > 2:
            turn = math.atan2(y2 - y1, x2 - x1)
            angle = math.degrees(turn)
            half = distance * 1.6
            # The face's centre lies below the middle of the eyes, across the eye line.
            centre_x = (x1 + x2) / 2 - math.sin(turn) * distance * 0.45
            centre_y = (y1 + y2) / 2 + math.cos(turn) * distance * 0.45
    # Cut a region large enough that turning it leaves no empty corners in the result.
    reach = half * 1.5
    region = image.crop((
        round(centre_x - reach), round(centre_y - reach),
        round(centre_x + reach), round(centre_y + reach),
    ))
    if angle:
        region = region.rotate(angle, resample=Image.BICUBIC)
    middle = region.width / 2
    square = region.crop((
        round(middle - half), round(middle - half), round(middle + half), round(middle + half)
    ))
    return square.resize((side, side), Image.LANCZOS)
