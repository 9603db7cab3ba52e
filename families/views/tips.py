"""Tips: the public form on a case's page, and the volunteers' tips queue and tip page.

Sending a tip is open to anyone, with a trap field for programs. Only tips that
go in count, per address and per case; one sent past either limit is kept,
held for review, never refused (a witness's words are never lost, and bots
can't close a case's form); reading one is for the case's volunteers only (404 to
everyone else), and every look is audited.
"""

from __future__ import annotations

from urllib.parse import urlencode
from uuid import UUID

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseBase
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods

from families import selectors, services
from families.audit import audit_record
from families.forms.tips import TipForm, TipHandleForm, TipPassOnForm
from families.models import CaseStatus, MissingChildCase, Tip
from families.views.common import no_store
from reunion.ratelimits import count_over, used_up


def _per_case(group: str, request: HttpRequest) -> str:
    """The rate-limit key that counts every tip about one case, from any address."""
    return f"case:{request.resolver_match.kwargs['pk']}"


def _held(request: HttpRequest) -> tuple[bool, bool]:
    """Whether the tips that went in used up their rate: per address, per case."""
    return used_up(request, "tip", key="ip"), used_up(request, "tip_case", key=_per_case)


def _count_tip(request: HttpRequest, *, held_per_address: bool) -> None:
    """Only a tip that went in counts: trapped or refused posts close nobody's form, and
    one address's flood (held already) does not use up the case's rate."""
    count_over(request, "tip", key="ip")
    if not held_per_address:
        count_over(request, "tip_case", key=_per_case)


@require_http_methods(["GET", "POST"])
def tip_create(request: HttpRequest, pk: int) -> HttpResponse:
    """A lead about a public case, from anyone; thanked the same whatever happens to it."""
    case = get_object_or_404(MissingChildCase, pk=pk)
    if not case.is_public:
        raise Http404
    if case.status == CaseStatus.REUNITED:
        # The child is found: nothing is stored, and the sender is thanked all the same.
        return render(request, "families/tip_closed.html", {"case": case},
                      status=409 if request.method == "POST" else 200)
    form = TipForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        if not form.is_from_a_program:
            upload = form.cleaned_data.get("photo")
            fields = {name: form.cleaned_data[name] for name in services.TIP_FIELDS}
            per_address, per_case = _held(request)
            try:
                services.tip_submit(actor=request.user, case=case, fields=fields,
                                    photo_data=upload.read() if upload else None,
                                    held_for_review=per_address or per_case)
            except ValidationError as error:
                form.add_error("photo" if upload else None, error)
            else:
                _count_tip(request, held_per_address=per_address)
        if not form.errors:
            messages.success(request, _(
                "Thank you. A volunteer will read your tip. For your safety and the "
                "family's, we don't share what comes of it."
            ))
            return redirect(case.get_absolute_url())
    return render(request, "families/tip_form.html", {"form": form, "case": case},
                  status=400 if request.method == "POST" else 200)


def _volunteer_only(request: HttpRequest) -> None:
    if not selectors.is_volunteer(request.user):
        raise Http404


@login_required
@never_cache
@require_GET
def tips_queue(request: HttpRequest) -> HttpResponse:
    """The tips of the provinces a volunteer reviews, new ones first."""
    _volunteer_only(request)
    status = request.GET.get("status", "")
    status = status if status in Tip.Status.values else ""
    tips = selectors.tips_for_volunteer(user=request.user, status=status)
    page = Paginator(tips, 30).get_page(request.GET.get("page"))
    audit_record(actor=request.user, action="tips.listed", obj=request.user,
                 detail={"tips": [tip.pk for tip in page.object_list]})
    return no_store(render(request, "families/tips_queue.html", {
        "page": page, "status": status, "statuses": Tip.Status.choices,
        "query": urlencode({"status": status}) if status else "",
    }))


@login_required
@never_cache
@require_http_methods(["GET", "POST"])
def tip_detail(request: HttpRequest, reference: UUID) -> HttpResponse:
    """One tip: what was said, where and when, the sender's contact; mark it, pass it on."""
    tip = get_object_or_404(Tip.objects.select_related("case", "handled_by"),
                            reference=reference)
    if not selectors.tip_handleable_by(user=request.user, tip=tip):
        raise Http404
    step = request.POST.get("step", "")
    handle_form = TipHandleForm(request.POST if step == "handle" else None,
                                      initial={"status": tip.status, "note": tip.volunteer_note})
    pass_on_form = TipPassOnForm(request.POST if step == "pass_on" else None)
    if step == "handle" and handle_form.is_valid():
        services.tip_handle(actor=request.user, tip=tip, **handle_form.cleaned_data)
        messages.success(request, _("The tip is marked."))
        return redirect("families:tip_detail", reference=tip.reference)
    if step == "pass_on" and pass_on_form.is_valid():
        services.tip_pass_to_family(actor=request.user, tip=tip,
                                    message=pass_on_form.cleaned_data["message"])
        messages.success(request, _("The family is told what you wrote."))
        return redirect("families:tip_detail", reference=tip.reference)
    audit_record(actor=request.user, action="tip.viewed", obj=tip)
    return no_store(render(request, "families/tip_detail.html", {
        "tip": tip, "handle_form": handle_form, "pass_on_form": pass_on_form,
    }, status=400 if request.method == "POST" else 200))


@login_required
@never_cache
@require_GET
def tip_photo(request: HttpRequest, reference: UUID) -> HttpResponseBase:
    """A tip's photo, to the case's volunteers only."""
    tip = get_object_or_404(Tip.objects.select_related("case"), reference=reference)
    if not tip.photo or not selectors.tip_handleable_by(user=request.user, tip=tip):
        raise Http404
    try:
        with tip.photo.open("rb") as handle:
            content = handle.read()
    except OSError:
        raise Http404 from None
    audit_record(actor=request.user, action="tip.photo_viewed", obj=tip)
    response = HttpResponse(content, content_type="image/jpeg")
    response["X-Content-Type-Options"] = "nosniff"
    return no_store(response)
