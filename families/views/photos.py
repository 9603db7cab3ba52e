"""Photos: the upload page of a case or posting, the photo itself (access-checked), its
details, hiding it (volunteers), its deletion (the family, admins), and the live face states."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import (
    Http404,
    HttpRequest,
    HttpResponse,
    HttpResponseBase,
    JsonResponse,
)
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods

from families import forms, selectors, services
from families.models import MissingChildCase, SeekerPosting
from families.views.common import (
    audit_private_look,
    image_response,
    no_store,
    person_name,
    photo_for,
    photo_return_url,
)
from matching.selectors.matches import photo_states as photo_states_of


def photos_page(
    request: HttpRequest, *, owner_obj: MissingChildCase | SeekerPosting
) -> HttpResponse:
    """Lists the photos of a case or posting with their face states, and takes uploads."""
    is_case = isinstance(owner_obj, MissingChildCase)
    form = forms.PhotoUploadForm(request.POST or None, request.FILES or None, owner_obj=owner_obj)
    if request.method == "POST":
        if request.user.email_confirmed_at is None and not selectors.is_volunteer(request.user):
            messages.warning(request, _("Please confirm your email address first."))
            return redirect("families:dashboard")
        if form.is_valid():
            upload = form.cleaned_data["image"]
            try:
                services.photo_add(
                    actor=request.user, data=upload.read(),
                    case=owner_obj if is_case else None,
                    seeker_posting=None if is_case else owner_obj,
                    **form.photo_fields(),
                )
            except ValidationError as error:
                form.add_error("image", error)
            else:
                messages.success(request, _(
                    "The photo is stored. We are looking for the face in it."
                ))
                return redirect(request.path)
        form.ask_for_the_file_again()
    photos = (selectors.photos_of_case(owner_obj) if is_case
              else selectors.photos_of_posting(owner_obj))
    status = 400 if request.method == "POST" else 200
    owner_id = owner_obj.family_id if is_case else owner_obj.owner_id
    return no_store(render(request, "families/photos.html", {
        "form": form, "obj": owner_obj, "is_case": is_case, "photos": photos,
        "can_delete": selectors.deletable_by(user=request.user, owner_id=owner_id),
        "can_hide": selectors.is_volunteer(request.user),
    }, status=status))


@require_GET
def photo_image(request: HttpRequest, pk: int) -> HttpResponseBase:
    """The stored photo, to whoever may see it; 404 to everyone else."""
    photo = photo_for(request, pk, manage=False)
    try:
        handle = photo.image.open("rb")
    except FileNotFoundError:
        raise Http404 from None
    return image_response(photo, request, handle)


@login_required
@never_cache
@require_GET
def photo_states(request: HttpRequest) -> JsonResponse:
    """Face states of the photos on a page, polled by static/js/photo-states.js."""
    ids = [int(part) for part in request.GET.get("ids", "").split(",") if part.isdigit()]
    response = JsonResponse({"photos": photo_states_of(user=request.user, ids=ids)})
    return no_store(response)


@login_required
@require_http_methods(["GET", "POST"])
def photo_edit(request: HttpRequest, pk: int) -> HttpResponse:
    photo = photo_for(request, pk, manage=True)
    form = forms.PhotoEditForm(
        request.POST or None, instance=photo,
        poster_changeable=selectors.photo_poster_changeable_by(user=request.user, photo=photo),
    )
    if request.method == "POST" and form.is_valid():
        fields = {name: form.cleaned_data[name] for name in form.fields}
        photo.refresh_from_db()
        services.photo_update(actor=request.user, photo=photo, fields=fields)
        messages.success(request, _("The photo's details are saved."))
        return redirect(photo_return_url(photo))
    if request.method == "GET":
        audit_private_look(request, photo, action="photo.private_viewed")
    return no_store(render(request, "families/photo_edit.html", {
        "form": form, "photo": photo, "back": photo_return_url(photo),
        "name": person_name(photo),
    }))


@login_required
@require_http_methods(["GET", "POST"])
def photo_delete(request: HttpRequest, pk: int) -> HttpResponse:
    """The family (or the posting's owner) and admins delete; anyone else gets 404."""
    photo = photo_for(request, pk, manage=True)
    if not selectors.photo_deletable_by(user=request.user, photo=photo):
        raise Http404
    back = photo_return_url(photo)
    if request.method == "POST":
        services.photo_delete(actor=request.user, photo=photo)
        messages.success(request, _("The photo is deleted."))
        return redirect(back)
    return no_store(render(request, "families/photo_delete.html",
                            {"photo": photo, "back": back, "name": person_name(photo)}))


@login_required
@never_cache
@require_http_methods(["GET", "POST"])
def photo_hide(request: HttpRequest, pk: int) -> HttpResponse:
    """A volunteer hides a photo (kept, never public, not matched) or shows it again."""
    photo = photo_for(request, pk, manage=True)
    if not selectors.photo_hideable_by(user=request.user, photo=photo):
        raise Http404
    back = photo_return_url(photo)
    form = forms.PhotoHideForm(request.POST or None)
    if request.method == "POST" and request.POST.get("step") == "show":
        services.photo_show(actor=request.user, photo=photo)
        messages.success(request, _("The photo is shown again."))
        return redirect(back)
    if request.method == "POST" and form.is_valid():
        services.photo_hide(actor=request.user, photo=photo,
                            reason=form.cleaned_data["reason"])
        messages.success(request, _(
            "The photo is hidden: it is kept, but not public and not compared."))
        return redirect(back)
    if request.method == "GET":
        audit_private_look(request, photo, action="photo.private_viewed")
    return no_store(render(request, "families/photo_hide.html", {
        "form": form, "photo": photo, "back": back, "name": person_name(photo),
    }, status=400 if request.method == "POST" else 200))
