"""Partners' bulk imports: the upload, the live progress page, the refused rows to fix.

The imports of an organisation are its members' (any member, not only who
uploaded); an admin may look too, audited. Everyone else gets 404.
"""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import (
    Http404,
    HttpRequest,
    HttpResponse,
    HttpResponseBase,
    JsonResponse,
    StreamingHttpResponse,
)
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods

from families import selectors
from families.audit import audit_record
from families.models import PartnerImport, Photo
from families.partners import csv_reading
from families.partners import selectors as partner_selectors
from families.partners import services as partner_services
from families.partners.forms import PartnerImportForm
from families.views.common import no_store
from reunion.ratelimits import limit

#: Refused rows shown on the page; all of them are in the download.
REFUSALS_SHOWN = 200


@login_required
@never_cache
@limit("partner_import", key="user")
@require_http_methods(["GET", "POST"])
def partner_imports(request: HttpRequest) -> HttpResponse:
    """The organisation's imports, and the form that starts one."""
    # The form's choice field needs a queryset (a list has no ``.all()``); the page, the list.
    member_of = selectors.partner_organisations_of(request.user)
    organisations = list(member_of)
    if not organisations:
        raise Http404
    form = PartnerImportForm(request.POST or None, request.FILES or None,
                                   organisations=member_of)
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["csv_file"]
        try:
            started = partner_services.partner_import_start(
                actor=request.user, organisation=form.cleaned_data["organisation"],
                csv_data=upload.read(), csv_name=upload.name,
                photos_zip=form.cleaned_data["photos_zip"],
            )
        except PermissionDenied:
            raise Http404 from None
        except ValidationError as error:
            form.add_error(None, error)
        else:
            return redirect("partners:partner_import_detail", pk=started.pk)
    imports = partner_selectors.partner_imports_of(request.user)[:50]
    return no_store(render(request, "partners/partner_imports.html", {
        "form": form, "imports": imports, "organisations": organisations,
        "columns": csv_reading.COLUMNS,
    }, status=400 if request.method == "POST" else 200))


def _visible_import(request: HttpRequest, pk: int) -> PartnerImport:
    partner_import = get_object_or_404(PartnerImport.objects.select_related("organisation"),
                                       pk=pk)
    if not partner_selectors.partner_import_visible_to(user=request.user,
                                               partner_import=partner_import):
        raise Http404
    return partner_import


def _progress(partner_import: PartnerImport) -> dict[str, object]:
    return {
        "status": partner_import.status,
        "status_label": partner_import.status_words,
        "tone": partner_import.tone,
        "finished": partner_import.is_finished,
        "error": partner_import.error,
        **{name: getattr(partner_import, name) for name in (
            "rows_total", "rows_processed", "rows_created", "rows_updated", "rows_unchanged",
            "rows_refused", "photos_added")},
        "rows_done": partner_import.rows_processed - partner_import.rows_refused,
        "photos": partner_selectors.partner_import_photo_states(partner_import),
    }


@login_required
@never_cache
@require_GET
def partner_import_detail(request: HttpRequest, pk: int) -> HttpResponseBase:
    """Where an import has got to, live; the refused rows with their line, column and why."""
    partner_import = _visible_import(request, pk)
    refusals = list(partner_import.refusals.all()[:REFUSALS_SHOWN])
    audit_record(actor=request.user, action="partner_import.viewed", obj=partner_import)
    return no_store(render(request, "partners/partner_import_detail.html", {
        "partner_import": partner_import, "progress": _progress(partner_import),
        "refusals": refusals, "more_refusals": partner_import.rows_refused > len(refusals),
        "refusals_keep_days": settings.PARTNER_IMPORT_REFUSALS_KEEP_DAYS,
        "needs_pick": list(partner_import.photos.filter(
            face_state__in=Photo.NEEDS_PICK).select_related("seeker_posting").order_by(
            "pk")[:REFUSALS_SHOWN]),
        "people": partner_import.postings.count(),
    }))


@login_required
@never_cache
@require_GET
def partner_import_progress(request: HttpRequest, pk: int) -> HttpResponseBase:
    """The progress page's numbers, asked for every few seconds while the import runs."""
    return no_store(JsonResponse(_progress(_visible_import(request, pk))))


@login_required
@never_cache
@require_GET
def partner_import_refused(request: HttpRequest, pk: int) -> HttpResponseBase:
    """The refused rows as a CSV: line, column, why, then the row as sent, to fix and resend."""
    partner_import = _visible_import(request, pk)
    audit_record(actor=request.user, action="partner_import.refused_downloaded",
                 obj=partner_import, detail={"rows": partner_import.rows_refused})
    response = StreamingHttpResponse(
        csv_reading.refused_rows_csv(partner_import.csv_header,
                                     partner_import.refusals.iterator()),
        content_type="text/csv; charset=utf-8",
    )
    response["Content-Disposition"] = (
        f'attachment; filename="refused-rows-import-{partner_import.pk}.csv"')
    return no_store(response)


@login_required
@never_cache
@require_GET
def partner_postings(request: HttpRequest) -> HttpResponse:
    """The organisation's postings, for every member: searched by name or reference and
    filtered by import (a shelter's thousands, apart from the member's own postings)."""
    if not selectors.partner_organisations_of(request.user).exists():
        raise Http404
    imports = list(partner_selectors.partner_imports_of(request.user)[:200])
    query = request.GET.get("q", "").strip()[:100]
    chosen = request.GET.get("import", "")
    import_pk = int(chosen) if chosen.isdigit() and any(
        str(item.pk) == chosen for item in imports) else None
    postings = partner_selectors.partner_postings_of(request.user, query=query,
                                             partner_import=import_pk)
    page = Paginator(postings, 50).get_page(request.GET.get("page"))
    params = request.GET.copy()
    params.pop("page", None)
    return no_store(render(request, "partners/partner_postings.html", {
        "page": page, "imports": imports, "query": query, "import_pk": import_pk,
        "params": params.urlencode(),
    }))
