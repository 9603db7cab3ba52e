"""Seeker postings: never public; the seeker's own pages, and volunteers' (audited) looks."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import (
    HttpRequest,
    HttpResponse,
)
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods

from families import forms, selectors, services
from families.audit import audit_record
from families.models import SeekerPosting
from families.views.common import (
    audit_private_look,
    confirmed_email_required,
    delete_page,
    model_fields,
    no_store,
    visible_posting,
)
from families.views.photos import photos_page
from reunion.ratelimits import limit


@confirmed_email_required
@require_http_methods(["GET", "POST"])
def seeker_create(request: HttpRequest) -> HttpResponse:
    form = forms.SeekerPostingForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        posting = services.seeker_posting_create(actor=request.user, fields=model_fields(form))
        messages.success(request, _("Your posting is saved. Now add photos."))
        return redirect("families:seeker_photos", pk=posting.pk)
    return render(request, "families/seeker_form.html", {"form": form, "posting": None})


@login_required
@never_cache
@require_GET
def seeker_detail(request: HttpRequest, pk: int) -> HttpResponse:
    posting = visible_posting(request, pk)
    if posting.owner_id != request.user.pk:
        audit_record(actor=request.user, action="seeker_posting.viewed", obj=posting)
    return no_store(render(request, "families/seeker_detail.html", {
        "posting": posting, "photos": selectors.photos_of_posting(posting),
        "is_owner": posting.owner_id == request.user.pk,
    }))


@login_required
@never_cache
@require_http_methods(["GET", "POST"])
def seeker_edit(request: HttpRequest, pk: int) -> HttpResponse:
    posting = visible_posting(request, pk)
    form = forms.SeekerPostingForm(
        request.POST or None, instance=posting,
        consent_editable=selectors.consent_changeable_by(user=request.user, posting=posting),
    )
    if request.method == "POST" and form.is_valid():
        fields = model_fields(form)
        posting.refresh_from_db()
        services.seeker_posting_update(actor=request.user, posting=posting, fields=fields)
        messages.success(request, _("Your posting is saved."))
        return redirect("families:seeker_detail", pk=posting.pk)
    if request.method == "GET" and posting.owner_id != request.user.pk:
        audit_record(actor=request.user, action="seeker_posting.viewed", obj=posting)
    return render(request, "families/seeker_form.html", {"form": form, "posting": posting})


@login_required
@require_http_methods(["GET", "POST"])
def seeker_withdraw(request: HttpRequest, pk: int) -> HttpResponse:
    posting = visible_posting(request, pk)
    form = forms.WithdrawForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        services.seeker_posting_withdraw(
            actor=request.user, posting=posting, reason=form.cleaned_data["reason"]
        )
        messages.success(request, _("Your posting is withdrawn: it is no longer matched."))
        return redirect("families:dashboard")
    return render(request, "families/withdraw.html",
                  {"form": form, "obj": posting, "is_case": False})


@login_required
@limit("upload", key="user_or_ip")
@require_http_methods(["GET", "POST"])
def seeker_photos(request: HttpRequest, pk: int) -> HttpResponse:
    posting = visible_posting(request, pk)
    if request.method == "GET":
        audit_private_look(request, posting, action="seeker_posting.viewed")
    return photos_page(request, owner_obj=posting)


@login_required
@never_cache
@require_http_methods(["GET", "POST"])
def seeker_delete(request: HttpRequest, pk: int) -> HttpResponse:
    posting = get_object_or_404(SeekerPosting, pk=pk)
    return delete_page(
        request, posting, owner_id=posting.owner_id,
        delete=lambda: services.seeker_posting_delete(actor=request.user, posting=posting),
        done=_("The posting, its photos and everything found from them are deleted."),
    )
