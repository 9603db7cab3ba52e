"""What a confirmation opens to the family and the seeker, and the photos and faces of a
candidate (to volunteers, and to the two sides once granted)."""

from __future__ import annotations

import io
from uuid import UUID

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST
from PIL import Image

from families.audit import audit_record
from families.models import Photo
from matching.faces import Box, aligned_face_crop
from matching.models import Candidate, DnaTest, Face, Review
from matching.selectors.access import (
    candidate_photo_viewable_by,
    ended_match_side_of,
    match_shared_photos,
    match_side_of,
)
from matching.selectors.matches import (
    dna_guidance,
    match_messages,
    match_own_photos,
    match_status_word,
    message_threads_of,
)
from matching.services import ReviewRefused
from matching.services.messages import MESSAGE_MAX_LENGTH
from matching.services.messages import match_message_post as match_message_post_service
from matching.views.common import candidate_or_404, no_store


@login_required
@require_GET
def match_detail(request: HttpRequest, reference: UUID) -> HttpResponse:
    """What a confirmation lets the family and the seeker see of each other (docs/REVIEW.md)."""
    candidate = candidate_or_404(reference)
    side = match_side_of(user=request.user, candidate=candidate)
    if side is None:
        ended = ended_match_side_of(user=request.user, candidate=candidate)
        if ended is None:
            raise Http404
        return no_store(render(request, "matching/match_ended.html", {
            "side": ended,
            "own": candidate.case if ended == "family" else candidate.seeker_posting,
        }))
    audit_record(actor=request.user, action="match.viewed", obj=candidate,
                 detail={"side": side})
    confirmation = (
        candidate.reviews.filter(
            decision__in=(Review.Decision.CONFIRM, Review.Decision.SECOND_CONFIRM)
        ).select_related("reviewer").order_by("created_at").first()
    )
    dna_test = DnaTest.objects.filter(candidate=candidate).first()
    return no_store(render(request, "matching/match_detail.html", {
        "candidate": candidate,
        "side": side,
        "case": candidate.case,
        "posting": candidate.seeker_posting,
        "photos": match_shared_photos(candidate=candidate, side=side),
        "own_photos": match_own_photos(candidate=candidate, side=side),
        "volunteer": confirmation.reviewer if confirmation else None,
        "dna_test": dna_test,
        "status_word": match_status_word(candidate=candidate, dna_test=dna_test),
        "guidance": dna_guidance(),
        "thread": match_messages(candidate=candidate, thread=side),
        "message_max": MESSAGE_MAX_LENGTH,
    }))


def _photo_for(request: HttpRequest, candidate: Candidate, photo_pk: int) -> Photo:
    photo = get_object_or_404(Photo, pk=photo_pk)
    if not candidate_photo_viewable_by(
        user=request.user, candidate=candidate, photo=photo
    ):
        raise Http404
    return photo


def _jpeg(content: bytes) -> HttpResponse:
    response = HttpResponse(content, content_type="image/jpeg")
    response["X-Content-Type-Options"] = "nosniff"
    return no_store(response)


@login_required
@never_cache
@require_GET
def candidate_photo(request: HttpRequest, reference: UUID, photo_pk: int) -> HttpResponse:
    """A photo of either person of a candidate: to volunteers, and to whom a confirmation grants."""
    candidate = candidate_or_404(reference)
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
def candidate_face(request: HttpRequest, reference: UUID, face_pk: int) -> HttpResponse:
    """The face, turned so the eyes are level and cropped square: faces compared at one scale."""
    candidate = candidate_or_404(reference)
    face = get_object_or_404(Face.objects.select_related("photo"), pk=face_pk)
    photo = _photo_for(request, candidate, face.photo_id)
    audit_record(actor=request.user, action="candidate.face_viewed", obj=photo,
                 detail={"candidate": candidate.pk, "face": face.pk})
    try:
        with photo.image.open("rb") as handle, Image.open(handle) as image:
            crop = aligned_face_crop(image.convert("RGB"),
                                     Box(face.box_x, face.box_y, face.box_w, face.box_h),
                                     face.landmarks)
    except FileNotFoundError:
        raise Http404 from None
    out = io.BytesIO()
    crop.save(out, format="JPEG", quality=90)
    return _jpeg(out.getvalue())


@login_required
@require_POST
def match_message_post(request: HttpRequest, reference: UUID) -> HttpResponse:
    """Posts a message on a confirmed candidate's thread: the family or the seeker on their
    own, a volunteer on the thread named. 404 to anyone with no thread there (before a
    confirmation too), so nobody learns of a candidate they were not told of."""
    candidate = candidate_or_404(reference)
    threads = message_threads_of(user=request.user, candidate=candidate)
    thread = request.POST.get("thread") or (threads[0] if len(threads) == 1 else "")
    if thread not in threads:
        raise Http404
    side = match_side_of(user=request.user, candidate=candidate)
    back = (reverse("matching:match_detail", args=[candidate.reference]) if side is not None
            else reverse("matching:review", args=[candidate.reference]))
    try:
        match_message_post_service(actor=request.user, candidate=candidate, thread=thread,
                                   body=request.POST.get("body", ""))
    except ReviewRefused as refusal:
        messages.error(request, str(refusal))
        return redirect(f"{back}#messages-{thread}")
    messages.success(request, _("Your message is sent.") if side is not None
                     else _("Your answer is sent."))
    return redirect(f"{back}#messages-{thread}")
