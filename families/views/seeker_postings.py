"""Seeker postings: never public; the seeker's own pages, and volunteers' (audited) looks."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import (
    Http404,
    HttpRequest,
    HttpResponse,
)
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods

from families import selectors, services
from families.audit import audit_record
from families.forms.common import WithdrawForm
from families.forms.seekers import SeekerPostingForm, SeekerPublishForm, SeekerSearchForm
from families.models import SeekerPosting
from families.poster import seeker_posting_poster_pdf
from families.views.common import (
    audit_private_look,
    confirmed_email_required,
    delete_page,
    model_fields,
    no_store,
    visible_posting,
    withdrawal_stops,
)
from families.views.photos import photos_page
from matching.services import seeker_posting_report_found
from reunion.ratelimits import limit


@confirmed_email_required
@require_http_methods(["GET", "POST"])
def seeker_create(request: HttpRequest) -> HttpResponse:
    form = SeekerPostingForm(request.POST or None)
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
    form = SeekerPostingForm(
        request.POST or None, instance=posting,
        consent_editable=selectors.consent_changeable_by(user=request.user, posting=posting),
    )
    confirm_withdrawal = False
    if request.method == "POST" and form.is_valid():
        fields = model_fields(form)
        posting.refresh_from_db()
        stops = withdrawal_stops(posting)
        withdrawing = posting.consent_to_matching and not fields["consent_to_matching"]
        # Told before saving: a DNA test in progress or the public page stops with consent.
        confirm_withdrawal = (withdrawing and any(stops.values())
                              and request.POST.get("withdrawal_confirmed") != "yes")
        if not confirm_withdrawal:
            services.seeker_posting_update(actor=request.user, posting=posting, fields=fields)
            messages.success(request, _("Your posting is saved."))
            return redirect("families:seeker_detail", pk=posting.pk)
    if request.method == "GET" and posting.owner_id != request.user.pk:
        audit_record(actor=request.user, action="seeker_posting.viewed", obj=posting)
    return render(request, "families/seeker_form.html", {
        "form": form, "posting": posting, "confirm_withdrawal": confirm_withdrawal,
        "stops": withdrawal_stops(posting) if confirm_withdrawal else {},
    })


@login_required
@require_http_methods(["GET", "POST"])
def seeker_withdraw(request: HttpRequest, pk: int) -> HttpResponse:
    posting = visible_posting(request, pk)
    form = WithdrawForm(
        request.POST or None, is_case=False,
        found_offered=posting.is_matchable and posting.owner_id == request.user.pk
        and not posting.is_found_person,
    )
    if request.method == "POST" and form.is_valid() and form.found:
        seeker_posting_report_found(actor=request.user, posting=posting,
                                    note=form.cleaned_data["reason"])
        messages.success(request, _(
            "We are so glad you found your family. Your posting now reads reunited: it is no "
            "longer matched or public."))
        return redirect("families:seeker_detail", pk=posting.pk)
    if request.method == "POST" and form.is_valid():
        services.seeker_posting_withdraw(
            actor=request.user, posting=posting, reason=form.cleaned_data["reason"]
        )
        messages.success(request, _("Your posting is withdrawn: it is no longer matched."))
        return redirect("families:dashboard")
    return render(request, "families/withdraw.html", {
        "form": form, "obj": posting, "is_case": False, "stops": withdrawal_stops(posting),
    })


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


@login_required
@never_cache
@require_http_methods(["GET", "POST"])
def seeker_publish(request: HttpRequest, pk: int) -> HttpResponse:
    """The owner publishes the posting (the photos and memories they choose) or takes it down."""
    posting = visible_posting(request, pk)
    if not selectors.seeker_posting_publishable_by(user=request.user, posting=posting):
        raise Http404  # only a person publishes themself: never a found person's posting
    form = SeekerPublishForm(
        request.POST if request.POST.get("step") == "publish" else None, posting=posting,
        initial={"photos": [p.pk for p in posting.photos.filter(use_on_poster=True)],
                 "show_memories": posting.show_memories},
    )
    if request.method == "POST" and request.POST.get("step") == "unpublish":
        services.seeker_posting_unpublish(actor=request.user, posting=posting)
        messages.success(request, _("Your posting is no longer public."))
        return redirect("families:seeker_detail", pk=posting.pk)
    if request.method == "POST" and form.is_valid():
        try:
            services.seeker_posting_publish(
                actor=request.user, posting=posting, photos=form.cleaned_data["photos"],
                show_memories=form.cleaned_data["show_memories"],
            )
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(request, _("Your posting is public. You can take it down at any "
                                        "time from this page."))
            return redirect(posting.get_public_url())
    return no_store(render(request, "families/seeker_publish.html", {
        "form": form, "posting": posting,
    }, status=400 if request.method == "POST" else 200))


@require_GET
def public_seeker_list(request: HttpRequest) -> HttpResponse:
    """Adults looking for their family, who chose to be found: searchable by anyone."""
    form = SeekerSearchForm(request.GET or None)
    postings = selectors.public_seeker_postings(**form.filters())
    page = Paginator(postings, 24).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    return render(request, "families/public_seeker_list.html", {
        "form": form, "page": page, "query": query.urlencode(),
    })


def _public_posting(pk: int) -> SeekerPosting:
    posting = get_object_or_404(SeekerPosting, pk=pk)
    if not posting.is_public:
        raise Http404
    return posting


@require_GET
def public_seeker_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """What the seeker chose to show: never contacts, the district or the year of arrival."""
    posting = _public_posting(pk)
    return render(request, "families/public_seeker_detail.html", {
        "posting": posting, "photos": selectors.public_posting_photos(posting),
    })


@limit("poster", methods=("GET",))
@require_GET
def public_seeker_poster(request: HttpRequest, pk: int) -> HttpResponse:
    posting = _public_posting(pk)
    response = HttpResponse(seeker_posting_poster_pdf(posting), content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="reunion-seeker-{posting.pk}.pdf"'
    return response
