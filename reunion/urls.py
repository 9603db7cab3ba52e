from django.conf.urls.i18n import i18n_patterns
from django.contrib import admin
from django.urls import include, path
from django.views.generic import TemplateView

from reunion.health import healthz
from reunion.metrics import metrics
from reunion.ratelimits import auth_urlpatterns

urlpatterns = [
    path("healthz", healthz, name="healthz"),
    path("metrics", metrics, name="metrics"),
    path("i18n/", include("django.conf.urls.i18n")),
    # The partners' REST API (docs/PARTNERS.md): no language prefix, keys not cookies.
    path("api/v1/", include("families.partners.api.urls")),
]

urlpatterns += i18n_patterns(
    path("", TemplateView.as_view(template_name="home.html"), name="home"),
    path("admin/django-rq/", include("django_rq.urls")),
    path("admin/", admin.site.urls),
    path("matching/", include("matching.urls")),
    path("accounts/", include(auth_urlpatterns())),
    path("", include("families.urls")),
    path("", include("families.partners.urls")),
    prefix_default_language=False,
)

# A database outage outside a view still answers 503 with a message (reunion/middleware.py).
handler500 = "reunion.middleware.server_error"
# The portal's own pages, in the visitor's language, and the API's error shape for a route
# under /api/ that is not one (reunion/errors.py).
handler404 = "reunion.errors.page_not_found"
handler403 = "reunion.errors.permission_denied"
