"""A photo's faces as people see and choose them: the face crop, the face picker, and
Reunion's age-progressed estimates of a childhood photo.

These pages live at the families' photo addresses (``families/urls.py``), since a
family reaches them from its photos; what they show and change is matching's.
"""

from __future__ import annotations

import io
import logging

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseBase
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods
from PIL import Image

from families.selectors import photo_poster_changeable_by
from families.views.common import (
    audit_private_look,
    image_response,
    no_store,
    person_name,
    photo_for,
    photo_return_url,
)
from matching import forms
from matching.faces import Box, face_crop
from matching.models import Face
from matching.services import face_pick, photo_estimate_age_progression, photo_set_estimate_use
from reunion.ratelimits import limit

logger = logging.getLogger(__name__)


@require_GET
def photo_face(request: HttpRequest, pk: int, face_pk: int) -> HttpResponseBase:
    """A square crop around one face of the photo, for the photo pages."""
    photo = photo_for(request, pk, manage=False)
    face = get_object_or_404(Face, pk=face_pk, photo=photo)
    try:
        with photo.image.open("rb") as handle, Image.open(handle) as image:
            crop = face_crop(image, Box(face.box_x, face.box_y, face.box_w, face.box_h))
    except OSError as error:  # the file is gone or unreadable: nothing to show
        logger.warning("face %s of photo %s not shown: %s", face.pk, photo.pk, error)
        raise Http404 from None
    out = io.BytesIO()
    crop.save(out, format="JPEG", quality=88)
    return image_response(photo, request, out.getvalue())


@login_required
@require_http_methods(["GET", "POST"])
def face_picker(request: HttpRequest, pk: int) -> HttpResponse:
    """Shows the detected boxes of a photo; the owner or a volunteer picks one or draws one."""
    photo = photo_for(request, pk, manage=True)
    detected = list(
        Face.objects.filter(photo=photo, embedding__isnull=True).order_by("box_x", "pk")
    )
    form = forms.FacePickForm(request.POST or None, photo=photo, detected=detected)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            if data.get("face") is not None:
                face_pick(actor=request.user, photo=photo, face_id=data["face"])
            else:
                face_pick(actor=request.user, photo=photo, box=Box(
                    data["box_x"], data["box_y"], data["box_w"], data["box_h"]))
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(request, _(
                "Thank you. The face you chose is being prepared for matching."
            ))
            return redirect(photo_return_url(photo))
    boxes = [
        {
            "face": face, "number": number,
            "left": 100 * face.box_x / photo.width, "top": 100 * face.box_y / photo.height,
            "width": 100 * face.box_w / photo.width, "height": 100 * face.box_h / photo.height,
        }
        for number, face in enumerate(detected, start=1)
    ] if photo.width and photo.height else []
    if request.method == "GET":
        audit_private_look(request, photo, action="photo.private_viewed")
    return no_store(render(request, "matching/face_picker.html", {
        "form": form, "photo": photo, "boxes": boxes, "back": photo_return_url(photo),
        "name": person_name(photo),
    }, status=400 if request.method == "POST" else 200))


@login_required
@limit("age_progression", key="user")
@require_http_methods(["GET", "POST"])
def photo_age_progression(request: HttpRequest, pk: int) -> HttpResponse:
    """A childhood photo beside Reunion's estimates of it at older ages, and the family's choices.

    POST ``target_age`` makes a new estimate; POST ``estimate`` with the two
    check boxes records whether that estimate is used in matching and on the poster.
    """
    photo = photo_for(request, pk, manage=True)
    if not photo.case_id or photo.is_estimate:
        raise Http404
    if request.method == "GET":
        audit_private_look(request, photo, action="photo.private_viewed")
    estimates = list(photo.estimates.order_by("age_in_photo", "pk"))
    poster_changeable = photo_poster_changeable_by(user=request.user, photo=photo)
    create_form = forms.AgeProgressionForm(
        request.POST if "target_age" in request.POST else None
    )
    status = 200
    use_form = None
    if request.method == "POST" and "estimate" in request.POST:
        use_form = forms.EstimateUseForm(request.POST, estimates=photo.estimates.all(),
                                         poster_changeable=poster_changeable)
        if use_form.is_valid():
            choice = dict(use_form.cleaned_data)
            estimate = choice.pop("estimate")
            photo_set_estimate_use(actor=request.user, photo=estimate, **choice)
            messages.success(request, _("Your choice for this estimate is saved."))
            return redirect(request.path)
        status = 400
    elif request.method == "POST":
        if create_form.is_valid():
            try:
                photo_estimate_age_progression(
                    actor=request.user, photo=photo,
                    target_age=float(create_form.cleaned_data["target_age"]),
                )
            except ValidationError as error:
                create_form.add_error("target_age", error)
            else:
                messages.success(request, _(
                    "The estimate is made. It is not used in matching or shown on the "
                    "poster until you choose so below."
                ))
                return redirect(request.path)
        status = 400
    rows = [
        {"photo": estimate, "form": forms.EstimateUseForm(
            initial={"use_in_matching": estimate.use_in_matching,
                     "use_on_poster": estimate.use_on_poster, "estimate": estimate.pk},
            auto_id=f"estimate-{estimate.pk}-%s", estimates=photo.estimates.all(),
            poster_changeable=poster_changeable,
        )}
        for estimate in estimates
    ]
    return no_store(render(request, "matching/age_progression.html", {
        "photo": photo, "case": photo.case, "form": create_form, "estimates": rows,
        "use_form": use_form, "back": photo_return_url(photo),
    }, status=status))
