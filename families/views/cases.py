"""Missing-child cases: the public list, page and poster; posting, editing, publishing,
withdrawing and deleting a case."""

from __future__ import annotations

import logging

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import (
    Http404,
    HttpRequest,
    HttpResponse,
)
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from families import selectors, services
from families.audit import audit_record
from families.forms.cases import CaseForm, CaseSearchForm
from families.forms.common import WithdrawForm
from families.models import CaseStatus, MissingChildCase
from families.poster import case_poster_pdf, case_poster_png
from families.views.common import (
    audit_private_look,
    confirmed_email_required,
    delete_page,
    managed_case,
    model_fields,
    no_store,
    withdrawal_stops,
)
from families.views.photos import photos_page
from matching.services import case_report_found
from reunion.ratelimits import limit

logger = logging.getLogger(__name__)


@require_GET
def case_list(request: HttpRequest) -> HttpResponse:
    # A case number read from a poster or given on the phone opens its case at once.
    numbered = selectors.public_case_by_number(request.GET.get("name", ""))
    if numbered is not None:
        return redirect(numbered)
    form = CaseSearchForm(request.GET or None)
    if not form.is_bound:
        cases = selectors.public_cases()
    elif form.is_valid():
        cases = selectors.public_cases(**form.filters())
    else:  # a reversed year range, a year in the future...: said, not listing everything
        cases = selectors.public_cases().none()
    page = Paginator(cases, 24).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    return render(request, "families/case_list.html", {
        "form": form, "page": page, "query": query.urlencode(),
    })


@require_GET
def case_detail(request: HttpRequest, pk: int) -> HttpResponse:
    case = get_object_or_404(MissingChildCase.objects.select_related("family"), pk=pk)
    user = request.user
    if not selectors.case_visible_to(user=user, case=case):
        raise Http404
    manage = selectors.case_manageable_by(user=user, case=case)
    if manage and case.family_id != user.pk:
        audit_record(actor=user, action="case.private_viewed", obj=case)
    photos = list(selectors.photos_of_case(case)) if manage else selectors.public_photos(case)
    hotline = selectors.public_hotline()
    response = render(request, "families/case_detail.html", {
        "case": case, "manage": manage, "is_owner": case.family_id == user.pk,
        "photos": photos, "public_phone": case.public_phone(hotline), "hotline": hotline,
    })
    return no_store(response) if manage else response


@limit("poster", methods=("GET",))
@require_GET
def case_poster(request: HttpRequest, pk: int) -> HttpResponse:
    case = get_object_or_404(MissingChildCase, pk=pk)
    if not case.is_matchable:  # no "missing" poster of a child who has been found
        raise Http404
    response = HttpResponse(case_poster_pdf(case), content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="reunion-case-{case.pk}.pdf"'
    return response


@limit("poster", methods=("GET",))
@require_GET
def case_poster_image(request: HttpRequest, pk: int) -> HttpResponse:
    """The poster as an image for phones, to share in chats and on social media."""
    case = get_object_or_404(MissingChildCase, pk=pk)
    if not case.is_matchable:
        raise Http404
    response = HttpResponse(case_poster_png(case), content_type="image/png")
    response["Content-Disposition"] = (
        f'inline; filename="reunion-case-{case.public_number}.png"')
    return response


@confirmed_email_required
@require_http_methods(["GET", "POST"])
def case_create(request: HttpRequest) -> HttpResponse:
    form = CaseForm(request.POST or None, account=request.user)
    if request.method == "POST" and form.is_valid():
        case = services.case_create(actor=request.user, fields=model_fields(form))
        messages.success(request, _(
            "The case is saved as a draft. Add photos, then publish it."
        ))
        return redirect("families:case_photos", pk=case.pk)
    return render(request, "families/case_form.html", {"form": form, "case": None})


@login_required
@never_cache
@require_http_methods(["GET", "POST"])
def case_edit(request: HttpRequest, pk: int) -> HttpResponse:
    case = managed_case(request, pk)
    form = CaseForm(request.POST or None, instance=case)
    if request.method == "POST" and form.is_valid():
        fields = model_fields(form)
        case.refresh_from_db()
        services.case_update(actor=request.user, case=case, fields=fields)
        messages.success(request, _("The case is saved."))
        return redirect("families:case_detail", pk=case.pk)
    if request.method == "GET" and case.family_id != request.user.pk:
        # The form shows the private fields: a volunteer's look is recorded.
        audit_record(actor=request.user, action="case.private_viewed", obj=case)
    return render(request, "families/case_form.html", {"form": form, "case": case})


@login_required
@require_POST
def case_publish(request: HttpRequest, pk: int) -> HttpResponse:
    case = managed_case(request, pk)
    if not selectors.case_publishable_by(user=request.user, case=case):
        raise Http404
    services.case_publish(actor=request.user, case=case)
    messages.success(request, _("The case is published: anyone can find it and print its poster."))
    return redirect("families:case_detail", pk=case.pk)


@login_required
@require_http_methods(["GET", "POST"])
def case_withdraw(request: HttpRequest, pk: int) -> HttpResponse:
    case = managed_case(request, pk)
    form = WithdrawForm(request.POST or None, is_case=True,
                              found_offered=case.is_matchable and case.family_id == request.user.pk)
    if request.method == "POST" and form.is_valid() and form.found:
        case_report_found(actor=request.user, case=case, note=form.cleaned_data["reason"])
        messages.success(request, _(
            "We are so glad. The case now shows that %(name)s was found: the tip form and the "
            "poster are gone, and matching has stopped."
        ) % {"name": case})
        return redirect("families:case_detail", pk=case.pk)
    if request.method == "POST" and form.is_valid():
        was_reunited = case.status == CaseStatus.REUNITED
        services.case_withdraw(actor=request.user, case=case, reason=form.cleaned_data["reason"])
        messages.success(request, _(
            "The page is taken down: it is no longer public. Everything else is kept."
        ) if was_reunited else _(
            "The case is withdrawn: it is no longer public and no longer matched."
        ))
        return redirect("families:dashboard")
    return render(request, "families/withdraw.html", {
        "form": form, "obj": case, "is_case": True, "stops": withdrawal_stops(case),
    })


@login_required
@limit("upload", key="user_or_ip")
@require_http_methods(["GET", "POST"])
def case_photos(request: HttpRequest, pk: int) -> HttpResponse:
    case = managed_case(request, pk)
    if request.method == "GET":
        audit_private_look(request, case, action="case.private_viewed")
    return photos_page(request, owner_obj=case)


@login_required
@never_cache
@require_http_methods(["GET", "POST"])
def case_delete(request: HttpRequest, pk: int) -> HttpResponse:
    case = get_object_or_404(MissingChildCase, pk=pk)
    return delete_page(
        request, case, owner_id=case.family_id,
        delete=lambda: services.case_delete(actor=request.user, case=case),
        done=_("The case, its photos and everything found from them are deleted."),
    )
