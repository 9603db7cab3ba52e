"""Forms for accounts: signing up, the profile, deleting the account."""

from __future__ import annotations

from typing import Any

from django import forms
from django.conf import settings
from django.contrib.auth import password_validation
from django.utils.translation import gettext_lazy as _

from families.forms.common import DeleteConfirmForm
from families.models import User
from families.selectors import partner_organisations_left_alone

# --- Accounts -----------------------------------------------------------------


class SignUpForm(forms.Form):
    email = forms.EmailField(
        label=_("Email address"),
        widget=forms.EmailInput(attrs={"autocomplete": "email"}),
        help_text=_("We send a link to this address; click it to confirm your account."),
    )
    full_name = forms.CharField(
        label=_("Your name"), max_length=150, required=False,
        widget=forms.TextInput(attrs={"autocomplete": "name"}),
    )
    password1 = forms.CharField(
        label=_("Password"), strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        help_text=password_validation.password_validators_help_text_html(),
    )
    password2 = forms.CharField(
        label=_("Password again"), strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )
    preferred_language = forms.ChoiceField(
        label=_("Language for emails"), choices=settings.LANGUAGES, initial="en"
    )

    def clean_email(self) -> str:
        # Whether the address has an account is never said here (see user_sign_up).
        return User.objects.normalize_email(self.cleaned_data["email"]).lower()

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        first, second = data.get("password1"), data.get("password2")
        if first and second and first != second:
            self.add_error("password2", _("The two passwords differ."))
        elif first:
            candidate = User(email=data.get("email", ""), full_name=data.get("full_name", ""))
            try:
                password_validation.validate_password(first, candidate)
            except forms.ValidationError as error:
                self.add_error("password1", error)
        return data


class ProfileForm(forms.ModelForm):
    """Contact details. The email address is not a model field here: a new one waits for
    confirmation (``profile_update``), and the form never says whether it is taken."""

    email = forms.EmailField(
        label=User._meta.get_field("email").verbose_name,
        widget=forms.EmailInput(attrs={"autocomplete": "email"}),
        help_text=_("If you change it, we send a link to the new address; your account "
                    "keeps its current address until you open it."),
    )
    field_order = ["full_name", "email", "phone", "address", "preferred_language"]

    class Meta:
        model = User
        fields = ["full_name", "phone", "address", "preferred_language"]
        help_texts = {
            "phone": _("Private: only volunteers who review a possible match see it."),
            "address": _("Private: only volunteers who review a possible match see it."),
        }
        widgets = {
            "address": forms.Textarea(attrs={"rows": 3}),
            "phone": forms.TextInput(attrs={
                "type": "tel", "inputmode": "tel", "autocomplete": "tel"}),
        }

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # An address waiting for confirmation shows as typed, so saving again keeps it.
        self.fields["email"].initial = self.instance.pending_email or self.instance.email

    def clean_email(self) -> str:
        return User.objects.normalize_email(self.cleaned_data["email"]).lower()

    def profile_fields(self) -> dict[str, Any]:
        """What ``profile_update`` takes: the model fields and the email address typed."""
        return {name: self.cleaned_data[name] for name in [*self.Meta.fields, "email"]}

    def asks_new_address(self) -> bool:
        """Whether the address typed is new: neither the account's nor the one waiting."""
        email = self.cleaned_data["email"]
        return email not in (self.instance.email.lower(), self.instance.pending_email)


class ResendConfirmationForm(forms.Form):
    """Only a button: the address is the logged-in user's."""


class AccountDeleteForm(DeleteConfirmForm):
    password = forms.CharField(
        label=_("Your password"), strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
    )

    def __init__(self, *args: Any, user: User, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.user = user

    def clean_password(self) -> str:
        password = self.cleaned_data["password"]
        if not self.user.check_password(password):
            raise forms.ValidationError(_("That is not your password."))
        return password

    def clean(self) -> dict[str, Any]:
        alone = partner_organisations_left_alone(self.user)
        if alone:
            raise forms.ValidationError(_(
                "%(names)s would be left with no member to look after the found people you "
                "posted for it. Ask an admin to add another member first."
            ) % {"names": ", ".join(organisation.name for organisation in alone)})
        return super().clean()
