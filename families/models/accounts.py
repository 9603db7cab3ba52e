"""Accounts: log-in by email address, and the volunteers' group."""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.models import AbstractUser, BaseUserManager
from django.db import models
from django.utils.translation import gettext_lazy as _

from families.places import province_codes_and_names


class UserManager(BaseUserManager["User"]):
    """Users log in with their email address; there is no username."""

    use_in_migrations = True

    def _create_user(self, email: str, password: str | None, **extra: object) -> User:
        if not email:
            raise ValueError("An email address is required.")
        user = self.model(email=self.normalize_email(email).lower(), **extra)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_user(self, email: str, password: str | None = None, **extra: object) -> User:
        extra.setdefault("is_staff", False)
        extra.setdefault("is_superuser", False)
        return self._create_user(email, password, **extra)

    def create_superuser(self, email: str, password: str | None = None, **extra: object) -> User:
        extra.setdefault("is_staff", True)
        extra.setdefault("is_superuser", True)
        return self._create_user(email, password, **extra)


class User(AbstractUser):
    """An account. Roles: family and seeker by what they post, volunteer by group."""

    username = None
    first_name = None
    last_name = None
    email = models.EmailField(_("email address"), unique=True)
    full_name = models.CharField(_("full name"), max_length=150, blank=True)
    phone = models.CharField(_("phone"), max_length=40, blank=True)
    address = models.TextField(_("postal address"), blank=True)
    preferred_language = models.CharField(
        _("preferred language"), max_length=10, choices=settings.LANGUAGES, default="en"
    )
    email_confirmed_at = models.DateTimeField(_("email confirmed at"), null=True, blank=True)
    # A new address is used only once its owner confirms it from a link mailed to it.
    pending_email = models.EmailField(_("new email address, waiting for confirmation"), blank=True)
    review_provinces = models.CharField(
        _("provinces reviewed (volunteers)"), max_length=500, blank=True,
        help_text=_(
            "Comma-separated provinces whose new candidates this volunteer hears about; "
            "empty: every province."
        ),
    )

    USERNAME_FIELD = "email"
    REQUIRED_FIELDS: list[str] = []

    objects = UserManager()

    class Meta:
        verbose_name = _("user")
        verbose_name_plural = _("users")

    def __str__(self) -> str:
        return self.full_name or self.email

    @property
    def is_volunteer(self) -> bool:
        """Who is a volunteer: admins and the volunteer group. Code asks through
        ``families.selectors.is_volunteer`` (also for anonymous visitors); templates here."""
        return self.is_superuser or self.groups.filter(name=VOLUNTEER_GROUP).exists()

    def reviews_province(self, province: str, code: str = "") -> bool:
        """Whether this volunteer hears about candidates from a place (all when unset).

        A province they review is matched by its code whatever name they wrote it by
        (Sichuan, 四川省, 51); a name that is no division's by its text.
        """
        codes, names = province_codes_and_names(self.review_provinces)
        if not codes and not names:
            return True
        return bool(code and code[:2] in codes) or province.strip().casefold() in names


VOLUNTEER_GROUP = "volunteer"
