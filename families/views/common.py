"""What the families' pages share: who may see a page, private answers, audited looks.

A page that can't be shown to the person asking answers 404, never 403, so
nobody learns which case drafts or seeker postings exist.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import (
    FileResponse,
    Http404,
    HttpRequest,
    HttpResponse,
    HttpResponseBase,
)
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _

from families import selectors
from families.audit import audit_record
from families.forms.common import DeleteConfirmForm
from families.models import CaseStatus, MissingChildCase, Photo, SeekerPosting

View = Callable[..., HttpResponseBase]


def confirmed_email_required(view: View) -> View:
    """Posting needs a confirmed email address (volunteers and admins are trusted)."""

    @wraps(view)
    @login_required
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        user = request.user
        if user.email_confirmed_at is None and not selectors.is_volunteer(user):
            messages.warning(request, _(
                "Please confirm your email address first: click the link we sent you."
            ))
            return redirect("families:dashboard")
        return view(request, *args, **kwargs)

    return wrapper


def local_next(request: HttpRequest, value: str | None) -> str:
    """``value`` if it is a page of this site (a path, never another host), else ""."""
    if not value or not value.startswith("/") or value.startswith(("//", "/\\")):
        return ""
    if not url_has_allowed_host_and_scheme(value, allowed_hosts={request.get_host()},
                                           require_https=request.is_secure()):
        return ""
    return value


def no_store(response: HttpResponseBase) -> HttpResponseBase:
    """The answer holds someone's private data: no browser or proxy keeps a copy (the one
    helper for it, in both apps' views)."""
    response["Cache-Control"] = "private, no-store"
    return response


def model_fields(form: Any) -> dict[str, Any]:
    return {name: form.cleaned_data[name] for name in form.Meta.fields}


def managed_case(request: HttpRequest, pk: int) -> MissingChildCase:
    case = get_object_or_404(MissingChildCase, pk=pk)
    if not selectors.case_manageable_by(user=request.user, case=case):
        raise Http404
    return case


def visible_posting(request: HttpRequest, pk: int) -> SeekerPosting:
    posting = get_object_or_404(SeekerPosting, pk=pk)
    if not selectors.seeker_posting_visible_to(user=request.user, posting=posting):
        raise Http404
    return posting


def audit_private_look(
    request: HttpRequest, obj: Photo | MissingChildCase | SeekerPosting, *, action: str
) -> None:
    """Records a volunteer's or admin's look at private data; the owner's own looks are not."""
    owner = obj.case if isinstance(obj, Photo) and obj.case_id else (
        obj.seeker_posting if isinstance(obj, Photo) else obj
    )
    owner_id = owner.family_id if isinstance(owner, MissingChildCase) else owner.owner_id
    if owner_id != request.user.pk:
        audit_record(actor=request.user, action=action, obj=obj)


def withdrawal_stops(obj: MissingChildCase | SeekerPosting) -> dict[str, bool]:
    """What withdrawing a case or posting (or a seeker's consent) stops besides matching,
    of what its owner was already told: a DNA test in progress (a confirmed possible
    match) and the public page. Never anything of an unconfirmed candidate."""
    return {"dna_test": obj.status == CaseStatus.DNA_PENDING, "public_page": obj.is_public}


def photo_for(request: HttpRequest, pk: int, *, manage: bool) -> Photo:
    photo = get_object_or_404(Photo.objects.select_related("case", "seeker_posting"), pk=pk)
    allowed = (selectors.photo_manageable_by if manage else selectors.photo_viewable_by)
    if not allowed(user=request.user, photo=photo):
        raise Http404
    return photo


def person_name(photo: Photo) -> str:
    """The name in a photo's alt text: the child's, or the seeker's name used now."""
    return str(photo.case) if photo.case_id else photo.seeker_posting.display_name


def photo_return_url(photo: Photo) -> str:
    if photo.case_id:
        return reverse("families:case_photos", args=[photo.case_id])
    return reverse("families:seeker_photos", args=[photo.seeker_posting_id])


def image_response(photo: Photo, request: HttpRequest, body: Any) -> HttpResponseBase:
    response = (FileResponse(body, content_type="image/jpeg") if not isinstance(body, bytes)
                else HttpResponse(body, content_type="image/jpeg"))
    if selectors.photo_is_public(photo):
        response["Cache-Control"] = "public, max-age=60"
    else:
        response["Cache-Control"] = "private, no-store"
        audit_private_look(request, photo, action="photo.private_viewed")
    response["X-Content-Type-Options"] = "nosniff"
    return response


def delete_page(
    request: HttpRequest,
    obj: MissingChildCase | SeekerPosting,
    *,
    owner_id: int,
    delete: Callable[[], object],
    done: str,
) -> HttpResponse:
    """Asks for confirmation, then deletes; only the owner or an admin, 404 for others."""
    if not selectors.deletable_by(user=request.user, owner_id=owner_id):
        raise Http404
    form = DeleteConfirmForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        delete()
        messages.success(request, done)
        return redirect("families:dashboard")
    context = {"form": form, "obj": obj, "is_case": isinstance(obj, MissingChildCase)}
    return render(request, "families/delete_confirm.html", context,
                  status=400 if request.method == "POST" else 200)
