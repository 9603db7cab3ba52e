"""``/api/v1/``: the partners' endpoints, the OpenAPI schema and its docs page."""

from __future__ import annotations

from django.urls import path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView
from rest_framework.permissions import AllowAny

from families.partners.api import views

app_name = "api"

#: The schema and its page are public (they describe the API, they hold no data).
PUBLIC = {"authentication_classes": [], "permission_classes": [AllowAny],
          "throttle_classes": []}

urlpatterns = [
    path("postings/", views.PostingListCreate.as_view(), name="postings"),
    path("postings/<str:reference>/", views.PostingDetail.as_view(), name="posting"),
    path("postings/<str:reference>/photos/", views.PostingPhotos.as_view(),
         name="posting_photos"),
    path("candidates/", views.ConfirmedCandidates.as_view(), name="candidates"),
    path("schema/", SpectacularAPIView.as_view(**PUBLIC), name="schema"),
    # The split view serves the page's script from its own URL (docs/?script): the
    # Content-Security-Policy runs no inline script.
    path("docs/", SpectacularSwaggerSplitView.as_view(url_name="api:schema", **PUBLIC),
         name="docs"),
    path("<path:unknown>", views.NotAnEndpoint.as_view(), name="not_found"),
]
