"""Accounts: signing up, confirming an address, the dashboard and profile, the
person's own data (download it, delete the account), and the inbox."""

from __future__ import annotations

import io
from uuid import UUID

from django.contrib import messages
from django.contrib.auth import logout
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import (
    FileResponse,
    HttpRequest,
    HttpResponse,
    HttpResponseBase,
)
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from families import selectors, services
from families.forms.accounts import AccountDeleteForm, ProfileForm, SignUpForm
from families.tokens import (
    next_url_of_confirmation_token,
    user_for_confirmation_token,
    user_for_email_change_token,
)
from families.views.common import local_next, no_store
from reunion.ratelimits import count_over, enforce, limit, posted_account


@limit("signup")
@require_http_methods(["GET", "POST"])
def signup(request: HttpRequest) -> HttpResponse:
    """The same answer whether the address has an account or not (nobody logs in here):
    a new account gets its confirmation link, an existing one's owner a warning.

    Only sign-ups that would mail someone count per address named
    (``signup_account``); past that limit the sign-up still goes through, without
    the email, so nobody can keep an address's owner from signing up.
    """
    next_url = local_next(request, request.POST.get("next") or request.GET.get("next"))
    if request.user.is_authenticated:
        return redirect(next_url or "families:dashboard")
    form = SignUpForm(
        request.POST or None, initial={"preferred_language": request.LANGUAGE_CODE}
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        services.user_sign_up(
            email=data["email"], password=data["password1"], full_name=data["full_name"],
            preferred_language=data["preferred_language"],
            send_email=not count_over(request, "signup_account", key=posted_account),
            next_url=next_url,
        )
        # For the next page, whichever way it went (so the session cookie tells nothing).
        request.session["signup_email"] = data["email"]
        return redirect("families:signup_done")
    return render(request, "families/signup.html", {"form": form, "next": next_url})


@require_GET
def signup_done(request: HttpRequest) -> HttpResponse:
    return render(request, "families/signup_done.html",
                  {"email": request.session.get("signup_email", "")})


@require_GET
def confirm_email(request: HttpRequest, token: str) -> HttpResponse:
    """Confirms the address. It never logs anyone in: a forwarded link must not open the account.
    Then on to the page where the person started (through the log-in when not logged in)."""
    user = user_for_confirmation_token(token)
    if user is None:
        return render(request, "families/confirm_email.html", status=400)
    if user.email_confirmed_at is None:
        services.user_confirm_email(user=user)
        messages.success(request, _("Thank you: your email address is confirmed."))
    else:
        messages.info(request, _("Your email address was already confirmed."))
    next_url = local_next(request, next_url_of_confirmation_token(token))
    if request.user.is_authenticated and request.user.pk == user.pk:
        return redirect(next_url or "families:dashboard")
    if next_url:
        return redirect(f"{reverse('login')}?{urlencode({'next': next_url})}")
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
    form = ProfileForm(request.POST or None, instance=user)
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


@login_required
@require_http_methods(["GET", "POST"])
def inbox(request: HttpRequest) -> HttpResponseBase:
    """The user's notifications, newest first; unread ones stand out until marked read."""
    notifications = request.user.notifications.all()
    if request.method == "POST":
        services.notification_mark_read(actor=request.user, notifications=notifications)
        return redirect("families:inbox")
    page = Paginator(notifications, 30).get_page(request.GET.get("page"))
    return no_store(render(request, "families/inbox.html", {
        "page": page, "unread": notifications.filter(read_at__isnull=True).count(),
    }))


@login_required
@require_POST
def notification_open(request: HttpRequest, reference: UUID) -> HttpResponseBase:
    """Marks one notification read and goes to the page it is about."""
    notification = get_object_or_404(request.user.notifications, reference=reference)
    services.notification_mark_read(
        actor=request.user, notifications=request.user.notifications.filter(pk=notification.pk)
    )
    return redirect(notification.link or "families:inbox")


@login_required
@never_cache
@require_http_methods(["GET", "POST"])
def account_delete(request: HttpRequest) -> HttpResponse:
    form = AccountDeleteForm(request.POST or None, user=request.user)
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
    return no_store(response)
