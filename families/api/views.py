"""The partners' endpoints. Thin: each reads through a selector or calls one service.

Every call made with a known key is written to the audit log (``api.called``: the
key, method, path and answer), refused ones included.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db.models import QuerySet
from django.shortcuts import get_object_or_404
from django.urls import reverse
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import generics, status
from rest_framework.exceptions import NotFound, UnsupportedMediaType, ValidationError
from rest_framework.parsers import JSONParser, MultiPartParser
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from families import services
from families.api.errors import activate_language, api_error_response, audited_path
from families.api.serializers import (
    ConfirmedCandidateSerializer,
    PhotoSerializer,
    PhotoUploadSerializer,
    PostingSerializer,
    PostingUpdateSerializer,
)
from families.audit import audit_record
from families.models import CaseStatus, PartnerAPIKey, PartnerOrganisation, SeekerPosting
from families.selectors import partner_postings, photos_of_posting
from families.uploads import normalise_photo
from matching.models import Candidate, DnaTest, Review
from matching.selectors.access import GRANTED_STATUSES, match_shared_photos, match_side_of

STATUS_FILTER = OpenApiParameter(
    "status", str, enum=[value for value, _label in CaseStatus.choices],
    description="Only postings with this status.",
)
REFERENCE_FILTER = OpenApiParameter("reference", str, description="Only this reference.")


class PartnerEndpoint:
    """What every endpoint shares: the organisation of the key, and the audit of the call."""

    audit_name = ""
    #: Whether a GET answers a list in pages (``?page=``, ``?page_size=``).
    pages = False

    @property
    def organisation(self) -> PartnerOrganisation:
        key: PartnerAPIKey = self.request.auth
        return key.organisation

    def initial(self, request: Request, *args: Any, **kwargs: Any) -> None:
        """After the key is checked: a filter or a reference holding a NUL byte is no
        reference of anyone's (the database would refuse it outright)."""
        activate_language(request)
        super().initial(request, *args, **kwargs)
        if any("\x00" in str(value) for value in kwargs.values()):
            raise NotFound
        refused = {name: [_("A NUL character is not allowed here.")]
                   for name, value in request.query_params.items() if "\x00" in value}
        known = set(self.filters()) | self.paging()
        refused.update({name: [_("Not a parameter of this endpoint.")]
                        for name in request.query_params if name not in known})
        for name, allowed in self.filters().items():
            value = request.query_params.get(name)
            if value and allowed and value not in allowed and name not in refused:
                refused[name] = [_("One of: %(values)s.") % {"values": ", ".join(allowed)}]
        if refused:
            raise ValidationError(refused)
        has_body = int(request.META.get("CONTENT_LENGTH") or 0) > 0
        if request.method in ("POST", "PUT", "PATCH") and has_body:
            # Only the media types the endpoint reads (a body the site's middleware parsed
            # as a form would otherwise read as empty).
            wanted = {parser.media_type for parser in self.get_parsers()}
            media_type = request.content_type.split(";", 1)[0].strip().lower()
            if media_type not in wanted:
                raise UnsupportedMediaType(media_type or "-")

    def filters(self) -> dict[str, tuple[str, ...]]:
        """The query's filters on a list, each with the values it takes (none: any)."""
        return {}

    def paging(self) -> set[str]:
        paginator = getattr(self, "paginator", None) if self.pages else None
        if self.request.method != "GET" or paginator is None:
            return set()
        return {paginator.page_query_param, paginator.page_size_query_param}

    def finalize_response(
        self, request: Request, response: Response, *args: Any, **kwargs: Any
    ) -> Response:
        response = super().finalize_response(request, response, *args, **kwargs)
        key: PartnerAPIKey | None = getattr(request, "partner_key_seen", None)
        if key is not None:
            audit_record(
                actor=key.member, action="api.called", obj=key.organisation,
                detail={"key": key.prefix, "endpoint": self.audit_name,
                        "method": request.method, "path": audited_path(request),
                        "status": response.status_code},
            )
        return response

    def posting_or_404(self, reference: str) -> SeekerPosting:
        return get_object_or_404(partner_postings(organisation=self.organisation),
                                 partner_reference=reference)


class PostingListCreate(PartnerEndpoint, generics.ListCreateAPIView):
    """The organisation's found-person postings; posting a reference again updates it."""

    serializer_class = PostingSerializer
    parser_classes = [JSONParser]
    audit_name = "postings"
    pages = True

    def filters(self) -> dict[str, tuple[str, ...]]:
        if self.request.method != "GET":
            return {}
        return {"status": tuple(value for value, _label in CaseStatus.choices),
                "reference": ()}

    def get_queryset(self) -> QuerySet[SeekerPosting]:
        return partner_postings(
            organisation=self.organisation,
            status=self.request.query_params.get("status", ""),
            reference=self.request.query_params.get("reference", ""),
        )

    @extend_schema(parameters=[STATUS_FILTER, REFERENCE_FILTER])
    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().get(request, *args, **kwargs)

    @extend_schema(responses={200: PostingSerializer, 201: PostingSerializer})
    def post(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        fields = dict(serializer.validated_data)
        reference = fields.pop("partner_reference")
        posting, outcome = services.partner_posting_save(
            actor=request.user, organisation=self.organisation, reference=reference,
            fields=fields, via="api",
        )
        posting = self.posting_or_404(posting.partner_reference)
        return Response(PostingSerializer(posting).data,
                        status=status.HTTP_201_CREATED if outcome == services.CREATED
                        else status.HTTP_200_OK)


class PostingDetail(PartnerEndpoint, generics.GenericAPIView):
    """One posting by its reference: its fields, status and the face state of its photos."""

    serializer_class = PostingSerializer
    parser_classes = [JSONParser]
    audit_name = "posting"

    def get(self, request: Request, reference: str) -> Response:
        return Response(PostingSerializer(self.posting_or_404(reference)).data)

    @extend_schema(request=PostingUpdateSerializer, responses=PostingSerializer)
    def patch(self, request: Request, reference: str) -> Response:
        posting = self.posting_or_404(reference)
        serializer = PostingUpdateSerializer(posting, data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        services.partner_posting_save(
            actor=request.user, organisation=self.organisation, reference=reference,
            fields=dict(serializer.validated_data), via="api",
        )
        return Response(PostingSerializer(self.posting_or_404(reference)).data)


class PostingPhotos(PartnerEndpoint, generics.GenericAPIView):
    """A posting's photos with the state of their faces; a new photo is sent as multipart."""

    serializer_class = PhotoSerializer
    parser_classes = [MultiPartParser]
    audit_name = "posting_photos"
    pagination_class = None

    @extend_schema(responses=PhotoSerializer(many=True))
    def get(self, request: Request, reference: str) -> Response:
        posting = self.posting_or_404(reference)
        return Response(PhotoSerializer(photos_of_posting(posting), many=True).data)

    @extend_schema(request={"multipart/form-data": PhotoUploadSerializer},
                   responses={201: PhotoSerializer,
                              200: OpenApiResponse(PhotoSerializer, description=(
                                  "The same photo sent again: the one the posting holds."))})
    def post(self, request: Request, reference: str) -> Response:
        posting = self.posting_or_404(reference)
        serializer = PhotoUploadSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        upload = data.pop("image")
        try:
            image = normalise_photo(upload.read())
        except DjangoValidationError as refused:
            raise ValidationError({"image": refused.messages}) from refused
        held = photos_of_posting(posting).filter(sha256=image.sha256).first()
        if held is not None:
            # Sent again (a retry after a lost answer): the photo it already is, not a copy.
            return Response(PhotoSerializer(held).data, status=status.HTTP_200_OK)
        try:
            photo = services.photo_add(
                actor=request.user, data=image, seeker_posting=posting,
                kind=data["kind"], age_in_photo=data.get("age_in_photo"),
                year_taken=data.get("year_taken"), caption=data.get("caption", ""),
            )
        except DjangoValidationError as refused:
            raise ValidationError({"image": refused.messages}) from refused
        return Response(PhotoSerializer(photo).data, status=status.HTTP_201_CREATED)


class ConfirmedCandidates(PartnerEndpoint, generics.ListAPIView):
    """The candidates a volunteer confirmed for the organisation's postings, and nothing
    earlier: what the confirmation grants the posting's side (docs/REVIEW.md)."""

    serializer_class = ConfirmedCandidateSerializer
    audit_name = "candidates"
    pages = True

    def filters(self) -> dict[str, tuple[str, ...]]:
        return {"status": tuple(GRANTED_STATUSES), "reference": ()}

    def get_queryset(self) -> QuerySet[Candidate]:
        candidates = Candidate.objects.filter(
            seeker_posting__organisation=self.organisation,
            status__in=GRANTED_STATUSES,
        ).select_related("case", "seeker_posting__owner").order_by("-updated_at", "-pk")
        wanted = self.request.query_params.get("status", "")
        if wanted:
            candidates = candidates.filter(status=wanted)
        reference = self.request.query_params.get("reference", "")
        if reference:
            candidates = candidates.filter(seeker_posting__partner_reference=reference)
        return candidates

    @extend_schema(parameters=[
        OpenApiParameter("status", str, enum=list(GRANTED_STATUSES),
                         description="Only candidates with this status."),
        REFERENCE_FILTER,
    ])
    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        page = self.paginate_queryset(self.get_queryset())
        rows = [self._granted(candidate) for candidate in page]
        return self.get_paginated_response(
            ConfirmedCandidateSerializer([row for row in rows if row], many=True).data
        )

    def _granted(self, candidate: Candidate) -> dict[str, Any] | None:
        """What the posting's side sees of a candidate, by the match page's own rule."""
        posting = candidate.seeker_posting
        side = match_side_of(user=posting.owner, candidate=candidate)
        if side != "seeker":
            return None
        audit_record(actor=self.request.user, action="match.viewed", obj=candidate,
                     detail={"side": side, "via": "api"})
        confirmation = (
            candidate.reviews.filter(
                decision__in=(Review.Decision.CONFIRM, Review.Decision.SECOND_CONFIRM)
            ).select_related("reviewer").order_by("created_at").first()
        )
        reviewer = confirmation.reviewer if confirmation else None
        dna_test = DnaTest.objects.filter(candidate=candidate).first()
        return {
            "id": candidate.reference,
            "status": candidate.status,
            "reference": posting.partner_reference,
            "case": candidate.case,
            "case_photos_shared": len(match_shared_photos(candidate=candidate, side=side)),
            "match_page": settings.SITE_URL.rstrip("/")
            + reverse("matching:match_detail", args=[candidate.reference]),
            "volunteer": {"name": reviewer.full_name or reviewer.email, "email": reviewer.email}
            if reviewer else None,
            "dna_test": {"status": dna_test.status, "result": dna_test.result}
            if dna_test else None,
        }


class NotAnEndpoint(APIView):
    """Any other path under the API: a 404 in the one error shape."""

    authentication_classes: list = []
    permission_classes = [AllowAny]
    throttle_classes: list = []

    @extend_schema(exclude=True)
    def get(self, request: Request, unknown: str) -> Response:
        return api_error_response(request, 404, "not_found", lambda: _(
            "There is no such endpoint. The endpoints are listed at /api/v1/docs/."))

    post = put = patch = delete = get
