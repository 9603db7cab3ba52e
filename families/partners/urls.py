"""A partner organisation's pages (inside i18n_patterns): its bulk imports and its postings.

The partners' REST API has its own URLs (``families/partners/api/urls.py``, under
``/api/v1/``, with no language prefix).
"""

from django.urls import path

from families.partners import views

app_name = "partners"

urlpatterns = [
    path("partners/imports/", views.partner_imports, name="partner_imports"),
    path("partners/postings/", views.partner_postings, name="partner_postings"),
    path("partners/imports/<int:pk>/", views.partner_import_detail,
         name="partner_import_detail"),
    path("partners/imports/<int:pk>/progress/", views.partner_import_progress,
         name="partner_import_progress"),
    path("partners/imports/<int:pk>/refused.csv", views.partner_import_refused,
         name="partner_import_refused"),
]
