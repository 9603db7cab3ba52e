"""Pages for families, seekers and the public. Thin: ask a selector, call one service.

A page that can't be shown to the person asking answers 404, never 403, so
nobody learns which case drafts or seeker postings exist.
"""

from __future__ import annotations

import io
import logging
from collections.abc import Callable
from functools import wraps
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import (
    FileResponse,
    Http404,
    HttpRequest,
    HttpResponse,
    HttpResponseBase,
    JsonResponse,
)
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from PIL import Image

from families import forms, selectors, services
from families.models import MissingChildCase, Photo, SeekerPosting
from families.poster import case_poster_pdf
from families.tokens import user_for_confirmation_token, user_for_email_change_token
from reunion.ratelimits import enforce, limit, posted_account

View = Callable[..., HttpResponseBase]

logger = logging.getLogger(__name__)


def confirmed_email_required(view: View) -> View:
    """Posting needs a confirmed email address (volunteers and admins are trusted)."""

    @wraps(view)
    @login_required
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        user = request.user
        if user.email_confirmed_at is None and not selectors.is_staff_reader(user):
            messages.warning(request, _(
                "Please confirm your email address first: click the link we sent you."
            ))
            return redirect("families:dashboard")
        return view(request, *args, **kwargs)

    return wrapper


def _no_store(response: HttpResponseBase) -> HttpResponseBase:
    response["Cache-Control"] = "private, no-store"
    return response


# --- Accounts -----------------------------------------------------------------


@limit("signup")
@limit("signup_account", key=posted_account)
@require_http_methods(["GET", "POST"])
def signup(request: HttpRequest) -> HttpResponse:
    """The same answer whether the address has an account or not (nobody logs in here):
    a new account gets its confirmation link, an existing one's owner a warning."""
    if request.user.is_authenticated:
        return redirect("families:dashboard")
    form = forms.SignUpForm(
        request.POST or None, initial={"preferred_language": request.LANGUAGE_CODE}
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        services.user_sign_up(
            email=data["email"], password=data["password1"], full_name=data["full_name"],
            preferred_language=data["preferred_language"],
        )
        # For the next page, whichever way it went (so the session cookie tells nothing).
        request.session["signup_email"] = data["email"]
        return redirect("families:signup_done")
    return render(request, "families/signup.html", {"form": form})


@require_GET
def signup_done(request: HttpRequest) -> HttpResponse:
    return render(request, "families/signup_done.html",
                  {"email": request.session.get("signup_email", "")})


@require_GET
def confirm_email(request: HttpRequest, token: str) -> HttpResponse:
    """Confirms the address. It never logs anyone in: a forwarded link must not open the account."""
    user = user_for_confirmation_token(token)
    if user is None:
        return render(request, "families/confirm_email.html", status=400)
    if user.email_confirmed_at is None:
        services.user_confirm_email(user=user)
        messages.success(request, _("Thank you: your email address is confirmed."))
    else:
        messages.info(request, _("Your email address was already confirmed."))
    if request.user.is_authenticated and request.user.pk == user.pk:
        return redirect("families:dashboard")
    return redirect("login")


@require_GET
def confirm_email_change(request: HttpRequest, token: str) -> HttpResponse:
    """Makes the new address the account's. Like ``confirm_email``, it logs nobody in."""
    user = user_for_email_change_token(token)
    if user is not None:
        user = services.user_confirm_email_change(user=user)
    if user is None:
        return render(request, "families/confirm_email.html", status=400)
    messages.success(request, _("Thank you: %(email)s is now your account's email address.") % {
        "email": user.email})
    if request.user.is_authenticated and request.user.pk == user.pk:
        return redirect("families:profile")
    return redirect("login")


@login_required
@limit("confirmation_email", key="user")
@require_POST
def resend_confirmation(request: HttpRequest) -> HttpResponse:
    """Sends the link again: for the account's address, or for the new one waiting."""
    user = request.user
    if user.pending_email:
        services.user_send_email_change(user=user)
        messages.info(request, _("We sent an email to %(email)s again.") % {
            "email": user.pending_email})
        return redirect("families:profile")
    if user.email_confirmed_at is None:
        services.user_send_confirmation(user=user)
        messages.info(request, _("We sent a new confirmation link to %(email)s.") % {
            "email": user.email})
    return redirect("families:dashboard")


@login_required
@never_cache
def dashboard(request: HttpRequest) -> HttpResponse:
    user = request.user
    return render(request, "families/dashboard.html", {
        "cases": selectors.cases_of(user),
        "postings": selectors.seeker_postings_of(user),
        "needs_confirmation": user.email_confirmed_at is None,
    })


@login_required
@never_cache
@require_http_methods(["GET", "POST"])
def profile(request: HttpRequest) -> HttpResponse:
    user = request.user
    form = forms.ProfileForm(request.POST or None, instance=user)
    if request.method == "POST" and form.is_valid():
        new_address = form.asks_new_address()
        if new_address:
            enforce(request, "email_change", key="user")
        fields = form.profile_fields()
        # The form has already copied the values onto the instance; reload before the service.
        user.refresh_from_db()
        services.profile_update(actor=user, user=user, fields=fields)
        messages.success(request, _("Your details are saved."))
        if new_address:
            # The same words whether or not another account uses the address.
            messages.info(request, _(
                "We sent an email to %(email)s. Your account keeps its current address "
                "until you open the link in it."
            ) % {"email": user.pending_email})
        return redirect("families:profile")
    return render(request, "families/profile.html", {"form": form})


# --- Public pages -------------------------------------------------------------


@require_GET
def case_list(request: HttpRequest) -> HttpResponse:
    form = forms.CaseSearchForm(request.GET or None)
    cases = selectors.public_cases(**form.filters())
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
        services.audit_record(actor=user, action="case.private_viewed", obj=case)
    photos = list(selectors.photos_of_case(case)) if manage else selectors.public_photos(case)
    response = render(request, "families/case_detail.html", {
        "case": case, "manage": manage, "is_owner": case.family_id == user.pk,
        "photos": photos,
    })
    return _no_store(response) if manage else response


@limit("poster", methods=("GET",))
@require_GET
def case_poster(request: HttpRequest, pk: int) -> HttpResponse:
    case = get_object_or_404(MissingChildCase, pk=pk)
    if not case.is_public:
        raise Http404
    response = HttpResponse(case_poster_pdf(case), content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="reunion-case-{case.pk}.pdf"'
    return response


# --- Cases --------------------------------------------------------------------


def _managed_case(request: HttpRequest, pk: int) -> MissingChildCase:
    case = get_object_or_404(MissingChildCase, pk=pk)
    if not selectors.case_manageable_by(user=request.user, case=case):
        raise Http404
    return case


def _model_fields(form: Any) -> dict[str, Any]:
    return {name: form.cleaned_data[name] for name in form.Meta.fields}


@confirmed_email_required
@require_http_methods(["GET", "POST"])
def case_create(request: HttpRequest) -> HttpResponse:
    form = forms.CaseForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        case = services.case_create(actor=request.user, fields=_model_fields(form))
        messages.success(request, _(
            "The case is saved as a draft. Add photos, then publish it."
        ))
        return redirect("families:case_photos", pk=case.pk)
    return render(request, "families/case_form.html", {"form": form, "case": None})


@login_required
@never_cache
@require_http_methods(["GET", "POST"])
def case_edit(request: HttpRequest, pk: int) -> HttpResponse:
    case = _managed_case(request, pk)
    form = forms.CaseForm(request.POST or None, instance=case)
    if request.method == "POST" and form.is_valid():
        fields = _model_fields(form)
        case.refresh_from_db()
        services.case_update(actor=request.user, case=case, fields=fields)
        messages.success(request, _("The case is saved."))
        return redirect("families:case_detail", pk=case.pk)
    if request.method == "GET" and case.family_id != request.user.pk:
        # The form shows the private fields: a volunteer's look is recorded.
        services.audit_record(actor=request.user, action="case.private_viewed", obj=case)
    return render(request, "families/case_form.html", {"form": form, "case": case})


@login_required
@require_POST
def case_publish(request: HttpRequest, pk: int) -> HttpResponse:
    case = _managed_case(request, pk)
    if not selectors.case_publishable_by(user=request.user, case=case):
        raise Http404
    services.case_publish(actor=request.user, case=case)
    messages.success(request, _("The case is published: anyone can find it and print its poster."))
    return redirect("families:case_detail", pk=case.pk)


@login_required
@require_http_methods(["GET", "POST"])
def case_withdraw(request: HttpRequest, pk: int) -> HttpResponse:
    case = _managed_case(request, pk)
    form = forms.WithdrawForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        services.case_withdraw(actor=request.user, case=case, reason=form.cleaned_data["reason"])
        messages.success(request, _(
            "The case is withdrawn: it is no longer public and no longer matched."
        ))
        return redirect("families:dashboard")
    return render(request, "families/withdraw.html", {"form": form, "obj": case, "is_case": True})


# --- Seeker postings ------------------------------------------------------------


def _visible_posting(request: HttpRequest, pk: int) -> SeekerPosting:
    posting = get_object_or_404(SeekerPosting, pk=pk)
    if not selectors.seeker_posting_visible_to(user=request.user, posting=posting):
        raise Http404
    return posting


@confirmed_email_required
@require_http_methods(["GET", "POST"])
def seeker_create(request: HttpRequest) -> HttpResponse:
    form = forms.SeekerPostingForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        posting = services.seeker_posting_create(actor=request.user, fields=_model_fields(form))
        messages.success(request, _("Your posting is saved. Now add photos."))
        return redirect("families:seeker_photos", pk=posting.pk)
    return render(request, "families/seeker_form.html", {"form": form, "posting": None})


@login_required
@never_cache
@require_GET
def seeker_detail(request: HttpRequest, pk: int) -> HttpResponse:
    posting = _visible_posting(request, pk)
    if posting.owner_id != request.user.pk:
        services.audit_record(actor=request.user, action="seeker_posting.viewed", obj=posting)
    return _no_store(render(request, "families/seeker_detail.html", {
        "posting": posting, "photos": selectors.photos_of_posting(posting),
        "is_owner": posting.owner_id == request.user.pk,
    }))


@login_required
@never_cache
@require_http_methods(["GET", "POST"])
def seeker_edit(request: HttpRequest, pk: int) -> HttpResponse:
    posting = _visible_posting(request, pk)
    form = forms.SeekerPostingForm(
        request.POST or None, instance=posting,
        consent_editable=selectors.consent_changeable_by(user=request.user, posting=posting),
    )
    if request.method == "POST" and form.is_valid():
        fields = _model_fields(form)
        posting.refresh_from_db()
        services.seeker_posting_update(actor=request.user, posting=posting, fields=fields)
        messages.success(request, _("Your posting is saved."))
        return redirect("families:seeker_detail", pk=posting.pk)
    if request.method == "GET" and posting.owner_id != request.user.pk:
        services.audit_record(actor=request.user, action="seeker_posting.viewed", obj=posting)
    return render(request, "families/seeker_form.html", {"form": form, "posting": posting})


@login_required
@require_http_methods(["GET", "POST"])
def seeker_withdraw(request: HttpRequest, pk: int) -> HttpResponse:
    posting = _visible_posting(request, pk)
    form = forms.WithdrawForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        services.seeker_posting_withdraw(
            actor=request.user, posting=posting, reason=form.cleaned_data["reason"]
        )
        messages.success(request, _("Your posting is withdrawn: it is no longer matched."))
        return redirect("families:dashboard")
    return render(request, "families/withdraw.html",
                  {"form": form, "obj": posting, "is_case": False})


# --- Photos -------------------------------------------------------------------


def _photos_page(
    request: HttpRequest, *, owner_obj: MissingChildCase | SeekerPosting
) -> HttpResponse:
    """Lists the photos of a case or posting with their face states, and takes uploads."""
    is_case = isinstance(owner_obj, MissingChildCase)
    form = forms.PhotoUploadForm(request.POST or None, request.FILES or None, owner_obj=owner_obj)
    if request.method == "POST":
        if request.user.email_confirmed_at is None and not selectors.is_staff_reader(request.user):
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
    photos = (selectors.photos_of_case(owner_obj) if is_case
              else selectors.photos_of_posting(owner_obj))
    status = 400 if request.method == "POST" else 200
    return _no_store(render(request, "families/photos.html", {
        "form": form, "obj": owner_obj, "is_case": is_case, "photos": photos,
    }, status=status))


@login_required
@limit("upload", key="user_or_ip")
@require_http_methods(["GET", "POST"])
def case_photos(request: HttpRequest, pk: int) -> HttpResponse:
    case = _managed_case(request, pk)
    if request.method == "GET":
        _audit_private_look(request, case, action="case.private_viewed")
    return _photos_page(request, owner_obj=case)


@login_required
@limit("upload", key="user_or_ip")
@require_http_methods(["GET", "POST"])
def seeker_photos(request: HttpRequest, pk: int) -> HttpResponse:
    posting = _visible_posting(request, pk)
    if request.method == "GET":
        _audit_private_look(request, posting, action="seeker_posting.viewed")
    return _photos_page(request, owner_obj=posting)


def _audit_private_look(
    request: HttpRequest, obj: Photo | MissingChildCase | SeekerPosting, *, action: str
) -> None:
    """Records a volunteer's or admin's look at private data; the owner's own looks are not."""
    owner = obj.case if isinstance(obj, Photo) and obj.case_id else (
        obj.seeker_posting if isinstance(obj, Photo) else obj
    )
    owner_id = owner.family_id if isinstance(owner, MissingChildCase) else owner.owner_id
    if owner_id != request.user.pk:
        services.audit_record(actor=request.user, action=action, obj=obj)


def _photo_for(request: HttpRequest, pk: int, *, manage: bool) -> Photo:
    photo = get_object_or_404(Photo.objects.select_related("case", "seeker_posting"), pk=pk)
    allowed = (selectors.photo_manageable_by if manage else selectors.photo_viewable_by)
    if not allowed(user=request.user, photo=photo):
        raise Http404
    return photo


def _person_name(photo: Photo) -> str:
    """The name in a photo's alt text: the child's, or the seeker's name used now."""
    return str(photo.case) if photo.case_id else photo.seeker_posting.display_name


def _photo_return_url(photo: Photo) -> str:
    if photo.case_id:
        return reverse("families:case_photos", args=[photo.case_id])
    return reverse("families:seeker_photos", args=[photo.seeker_posting_id])


def _image_response(photo: Photo, request: HttpRequest, body: Any) -> HttpResponseBase:
    response = (FileResponse(body, content_type="image/jpeg") if not isinstance(body, bytes)
                else HttpResponse(body, content_type="image/jpeg"))
    if selectors.photo_is_public(photo):
        response["Cache-Control"] = "public, max-age=60"
    else:
        response["Cache-Control"] = "private, no-store"
        _audit_private_look(request, photo, action="photo.private_viewed")
    response["X-Content-Type-Options"] = "nosniff"
    return response


@require_GET
def photo_image(request: HttpRequest, pk: int) -> HttpResponseBase:
    """The stored photo, to whoever may see it; 404 to everyone else."""
    photo = _photo_for(request, pk, manage=False)
    try:
        handle = photo.image.open("rb")
    except FileNotFoundError:
        raise Http404 from None
    return _image_response(photo, request, handle)


@require_GET
def photo_face(request: HttpRequest, pk: int, face_pk: int) -> HttpResponseBase:
    """A square crop around one face of the photo, for review pages."""
    from matching.models import Face

    photo = _photo_for(request, pk, manage=False)
    face = get_object_or_404(Face, pk=face_pk, photo=photo)
    try:
        with photo.image.open("rb") as handle, Image.open(handle) as image:
            margin = max(face.box_w, face.box_h) // 4
            crop = image.convert("RGB").crop((
                max(face.box_x - margin, 0), max(face.box_y - margin, 0),
                min(face.box_x + face.box_w + margin, image.width),
                min(face.box_y + face.box_h + margin, image.height),
            ))
    except OSError as error:  # the file is gone or unreadable: nothing to show
        logger.warning("face %s of photo %s not shown: %s", face.pk, photo.pk, error)
        raise Http404 from None
    crop.thumbnail((256, 256))
    out = io.BytesIO()
    crop.save(out, format="JPEG", quality=88)
    return _image_response(photo, request, out.getvalue())


@login_required
@never_cache
@require_GET
def photo_states(request: HttpRequest) -> JsonResponse:
    """Face states of the photos on a page, polled by static/js/photo-states.js."""
    ids = [int(part) for part in request.GET.get("ids", "").split(",") if part.isdigit()]
    response = JsonResponse({"photos": selectors.photo_states(user=request.user, ids=ids)})
    return _no_store(response)


@login_required
@require_http_methods(["GET", "POST"])
def photo_edit(request: HttpRequest, pk: int) -> HttpResponse:
    photo = _photo_for(request, pk, manage=True)
    form = forms.PhotoEditForm(request.POST or None, instance=photo)
    if request.method == "POST" and form.is_valid():
        fields = {name: form.cleaned_data[name] for name in form.fields}
        photo.refresh_from_db()
        services.photo_update(actor=request.user, photo=photo, fields=fields)
        messages.success(request, _("The photo's details are saved."))
        return redirect(_photo_return_url(photo))
    if request.method == "GET":
        _audit_private_look(request, photo, action="photo.private_viewed")
    return _no_store(render(request, "families/photo_edit.html", {
        "form": form, "photo": photo, "back": _photo_return_url(photo),
        "name": _person_name(photo),
    }))


@login_required
@require_http_methods(["GET", "POST"])
def photo_delete(request: HttpRequest, pk: int) -> HttpResponse:
    photo = _photo_for(request, pk, manage=True)
    back = _photo_return_url(photo)
    if request.method == "POST":
        services.photo_delete(actor=request.user, photo=photo)
        messages.success(request, _("The photo is deleted."))
        return redirect(back)
    return _no_store(render(request, "families/photo_delete.html",
                            {"photo": photo, "back": back, "name": _person_name(photo)}))


@login_required
@require_http_methods(["GET", "POST"])
def face_picker(request: HttpRequest, pk: int) -> HttpResponse:
    """Shows the detected boxes of a photo; the owner or a volunteer picks one or draws one."""
    from matching.faces import Box
    from matching.models import Face
    from matching.services import face_pick

    photo = _photo_for(request, pk, manage=True)
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
            return redirect(_photo_return_url(photo))
    boxes = [
        {
            "face": face, "number": number,
            "left": 100 * face.box_x / photo.width, "top": 100 * face.box_y / photo.height,
            "width": 100 * face.box_w / photo.width, "height": 100 * face.box_h / photo.height,
        }
        for number, face in enumerate(detected, start=1)
    ] if photo.width and photo.height else []
    if request.method == "GET":
        _audit_private_look(request, photo, action="photo.private_viewed")
    return _no_store(render(request, "families/face_picker.html", {
        "form": form, "photo": photo, "boxes": boxes, "back": _photo_return_url(photo),
        "name": _person_name(photo),
    }, status=400 if request.method == "POST" else 200))


# --- Inbox --------------------------------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
def inbox(request: HttpRequest) -> HttpResponseBase:
    """The user's notifications, newest first; unread ones stand out until marked read."""
    notifications = request.user.notifications.all()
    if request.method == "POST":
        services.notification_mark_read(actor=request.user, notifications=notifications)
        return redirect("families:inbox")
    page = Paginator(notifications, 30).get_page(request.GET.get("page"))
    return _no_store(render(request, "families/inbox.html", {
        "page": page, "unread": notifications.filter(read_at__isnull=True).count(),
    }))


@login_required
@require_POST
def notification_open(request: HttpRequest, pk: int) -> HttpResponseBase:
    """Marks one notification read and goes to the page it is about."""
    notification = get_object_or_404(request.user.notifications, pk=pk)
    services.notification_mark_read(
        actor=request.user, notifications=request.user.notifications.filter(pk=pk)
    )
    return redirect(notification.link or "families:inbox")


# --- Age-progressed images ------------------------------------------------------


@login_required
@limit("age_progression", key="user")
@require_http_methods(["GET", "POST"])
def photo_age_progression(request: HttpRequest, pk: int) -> HttpResponse:
    """A childhood photo beside Reunion's estimates of it at older ages, and the family's choices.

    POST ``target_age`` makes a new estimate; POST ``estimate`` with the two
    check boxes records whether that estimate is used in matching and on the poster.
    """
    from matching.services import photo_estimate_age_progression, photo_set_estimate_use

    photo = _photo_for(request, pk, manage=True)
    if not photo.case_id or photo.is_estimate:
        raise Http404
    estimates = list(photo.estimates.order_by("age_in_photo", "pk"))
    create_form = forms.AgeProgressionForm(
        request.POST if "target_age" in request.POST else None
    )
    status = 200
    use_form = None
    if request.method == "POST" and "estimate" in request.POST:
        use_form = forms.EstimateUseForm(request.POST, estimates=photo.estimates.all())
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
        )}
        for estimate in estimates
    ]
    return _no_store(render(request, "families/age_progression.html", {
        "photo": photo, "case": photo.case, "form": create_form, "estimates": rows,
        "use_form": use_form, "back": _photo_return_url(photo),
    }, status=status))


# --- Deleting and exporting -------------------------------------------------------


@login_required
@never_cache
@require_http_methods(["GET", "POST"])
def case_delete(request: HttpRequest, pk: int) -> HttpResponse:
    case = get_object_or_404(MissingChildCase, pk=pk)
    return _delete_page(
        request, case, owner_id=case.family_id,
        delete=lambda: services.case_delete(actor=request.user, case=case),
        done=_("The case, its photos and everything found from them are deleted."),
    )


@login_required
@never_cache
@require_http_methods(["GET", "POST"])
def seeker_delete(request: HttpRequest, pk: int) -> HttpResponse:
    posting = get_object_or_404(SeekerPosting, pk=pk)
    return _delete_page(
        request, posting, owner_id=posting.owner_id,
        delete=lambda: services.seeker_posting_delete(actor=request.user, posting=posting),
        done=_("The posting, its photos and everything found from them are deleted."),
    )


def _delete_page(
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
    form = forms.DeleteConfirmForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        delete()
        messages.success(request, done)
        return redirect("families:dashboard")
    context = {"form": form, "obj": obj, "is_case": isinstance(obj, MissingChildCase)}
    return render(request, "families/delete_confirm.html", context,
                  status=400 if request.method == "POST" else 200)


@login_required
@never_cache
@require_http_methods(["GET", "POST"])
def account_delete(request: HttpRequest) -> HttpResponse:
    from django.contrib.auth import logout

    form = forms.AccountDeleteForm(request.POST or None, user=request.user)
    if request.method == "POST" and form.is_valid():
        user = request.user
        logout(request)
        services.account_delete(actor=user, user=user)
        messages.success(request, _("Your account and everything you posted are deleted."))
        return redirect("home")
    return render(request, "families/account_delete.html", {"form": form},
                  status=400 if request.method == "POST" else 200)


@login_required
@never_cache
@limit("export", key="user", methods=("GET",))
@require_GET
def account_export(request: HttpRequest) -> HttpResponseBase:
    content = services.account_export(actor=request.user)
    response = FileResponse(
        io.BytesIO(content), as_attachment=True, content_type="application/zip",
        filename=f"reunion-my-data-{request.user.pk}.zip",
    )
    return _no_store(response)
