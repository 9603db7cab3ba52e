"""What a confirmation opens to the family and the seeker, and the photos and faces of a
candidate (to volunteers, and to the two sides once granted)."""

from __future__ import annotations

import io

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET
from PIL import Image

from families.audit import audit_record
from families.models import Photo
from matching import selectors
from matching.faces import Box, aligned_face_crop
from matching.models import Candidate, DnaTest, Face, Review
from matching.views.common import candidate_or_404, no_store


@login_required
@require_GET
def match_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """What a confirmation lets the family and the seeker see of each other (docs/REVIEW.md)."""
    candidate = candidate_or_404(pk)
    side = selectors.match_side_of(user=request.user, candidate=candidate)
    if side is None:
        ended = selectors.ended_match_side_of(user=request.user, candidate=candidate)
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
        "photos": selectors.match_shared_photos(candidate=candidate, side=side),
        "own_photos": selectors.match_own_photos(candidate=candidate, side=side),
        "volunteer": confirmation.reviewer if confirmation else None,
        "dna_test": dna_test,
        "status_word": selectors.match_status_word(candidate=candidate, dna_test=dna_test),
        "guidance": selectors.dna_guidance(),
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
    return no_store(response)


@login_required
@never_cache
@require_GET
def candidate_photo(request: HttpRequest, pk: int, photo_pk: int) -> HttpResponse:
    """A photo of either person of a candidate: to volunteers, and to whom a confirmation grants."""
    candidate = candidate_or_404(pk)
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
    candidate = candidate_or_404(pk)
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
