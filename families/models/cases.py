"""Missing-child cases, the statuses they share with seeker postings, and the hotline."""

from __future__ import annotations

import secrets
from datetime import date
from typing import Any

from django.conf import settings
from django.contrib.postgres.indexes import GinIndex
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from families import ages, names
from families.models.places import CHINA, _settle_place
from families.places import place_label


class Sex(models.TextChoices):
    FEMALE = "F", _("female")
    MALE = "M", _("male")
    UNKNOWN = "U", _("unknown")


class CaseStatus(models.TextChoices):
    DRAFT = "draft", _("draft")
    PUBLISHED = "published", _("published")
    DNA_PENDING = "dna_pending", _("DNA test pending")
    REUNITED = "reunited", _("reunited")
    WITHDRAWN = "withdrawn", _("withdrawn")


#: Statuses in which a case or seeker posting takes part in matching.
MATCHABLE_STATUSES = (CaseStatus.PUBLISHED, CaseStatus.DNA_PENDING)


#: The letters of a public case number: no 0/O, 1/I/L or U, so it is read out and typed back
#: without mistakes (Crockford's base 32 without its digits 0 and 1).
PUBLIC_NUMBER_ALPHABET = "23456789ABCDEFGHJKMNPQRSTVWXYZ"


def new_public_number() -> str:
    """A random case number such as ``GXA6-HXZD``: stable once given, and telling nothing of
    how many cases there are or when it was posted (30**8 ≈ 6.6e11 possible numbers)."""
    code = "".join(secrets.choice(PUBLIC_NUMBER_ALPHABET) for _ in range(8))
    return f"{code[:4]}-{code[4:]}"


class PublicContactChoice(models.TextChoices):
    """Which number the public page and the poster give to call."""

    HOTLINE = "hotline", _("the organisation's hotline")
    CONTACT_PHONE = "contact_phone", _("my contact phone (it becomes public)")


class MissingChildCase(models.Model):
    """A missing child, posted by a family."""

    family = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="cases"
    )
    # Public poster fields. The name as the family writes it, in its two parts; shown as
    # ``full_name`` (李小梅; Anna Smith).
    family_name = models.CharField(_("family name"), max_length=100, blank=True)
    given_name = models.CharField(_("given name"), max_length=100)
    nicknames = models.CharField(_("nicknames"), max_length=200, blank=True)
    sex = models.CharField(_("sex"), max_length=1, choices=Sex.choices)
    birth_date = models.DateField(_("date of birth"), null=True, blank=True)
    birth_year_min = models.PositiveSmallIntegerField(_("born no earlier than (year)"))
    birth_year_max = models.PositiveSmallIntegerField(_("born no later than (year)"))
    missing_date = models.DateField(_("date missing"))
    missing_province = models.CharField(_("province missing from"), max_length=100)
    missing_city = models.CharField(_("city"), max_length=100, blank=True)
    missing_district = models.CharField(_("district"), max_length=100, blank=True)
    # China's places are chosen from the divisions (the most precise one known); the three
    # names above are then its names. Elsewhere they stay free text, with the country.
    missing_place_code = models.CharField(
        _("place code (GB/T 2260)"), max_length=6, blank=True, db_index=True
    )
    missing_country = models.CharField(
        _("country, if not China"), max_length=100, blank=True, default=CHINA
    )
    missing_latitude = models.DecimalField(
        _("latitude"), max_digits=8, decimal_places=5, null=True, blank=True
    )
    missing_longitude = models.DecimalField(
        _("longitude"), max_digits=8, decimal_places=5, null=True, blank=True
    )
    height_cm = models.PositiveSmallIntegerField(_("height then (cm)"), null=True, blank=True)
    build = models.CharField(_("build then"), max_length=100, blank=True)
    distinguishing_marks = models.TextField(_("distinguishing marks"), blank=True)
    dialect = models.CharField(_("dialect"), max_length=100, blank=True)
    circumstances = models.TextField(_("circumstances"), blank=True)
    # Private fields: the family, volunteers and admins only.
    police_report_number = models.CharField(_("police report number"), max_length=100, blank=True)
    police_station = models.CharField(_("police station"), max_length=200, blank=True)
    contact_name = models.CharField(_("contact name"), max_length=150)
    contact_phone = models.CharField(_("contact phone"), max_length=40, blank=True)
    contact_email = models.EmailField(_("contact email"), blank=True)
    # What the public page and poster give to call: the hotline unless the family chooses.
    public_contact = models.CharField(
        _("number to call on the public page and poster"), max_length=20,
        choices=PublicContactChoice.choices, default=PublicContactChoice.HOTLINE,
    )
    public_number = models.CharField(
        _("case number"), max_length=9, unique=True, default=new_public_number, editable=False
    )

    status = models.CharField(
        _("status"), max_length=20, choices=CaseStatus.choices, default=CaseStatus.DRAFT
    )
    # Every name in hanzi and plain pinyin (families/names.py), kept by ``save``: what the
    # public search matches, exactly or by trigrams (typos).
    search_terms = models.TextField(editable=False, default="")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    published_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("missing-child case")
        verbose_name_plural = _("missing-child cases")
        ordering = ["-published_at", "-created_at"]
        indexes = [
            models.Index(fields=["status", "missing_date"]),
            GinIndex(fields=["search_terms"], name="case_search_terms_trgm",
                     opclasses=["gin_trgm_ops"]),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(birth_year_min__lte=models.F("birth_year_max")),
                name="case_birth_years_ordered",
            )
        ]

    def __str__(self) -> str:
        return self.full_name

    def save(self, *args: Any, **kwargs: Any) -> None:
        self.search_terms = names.search_terms(
            family=self.family_name, given=self.given_name, others=[self.nicknames]
        )
        update_fields = kwargs.get("update_fields")
        if update_fields is not None:
            kwargs["update_fields"] = {*update_fields, "search_terms"}
        super().save(*args, **kwargs)

    def get_absolute_url(self) -> str:
        return reverse("families:case_detail", args=[self.pk])

    def clean(self) -> None:
        """Ties the place written to its division's code (``families.places.settle``)."""
        super().clean()
        _settle_place(self, "missing")

    @property
    def missing_place(self) -> str:
        """Where the child went missing, in the reader's language."""
        return place_label(code=self.missing_place_code, province=self.missing_province,
                           city=self.missing_city, district=self.missing_district,
                           country=self.missing_country)

    @property
    def full_name(self) -> str:
        """The name in the one form of its script: 李小梅; Anna Smith."""
        return names.full_name(self.family_name, self.given_name)

    @property
    def is_public(self) -> bool:
        return self.status in (
            CaseStatus.PUBLISHED,
            CaseStatus.DNA_PENDING,
            CaseStatus.REUNITED,
        )

    @property
    def is_matchable(self) -> bool:
        return self.status in MATCHABLE_STATUSES

    def age_at(self, when: date) -> float:
        """The child's age in years on ``when`` (midpoint of the birth-year range if no date)."""
        born = self.birth_date or date((self.birth_year_min + self.birth_year_max) // 2, 7, 1)
        return round((when - born).days / 365.25, 1)

    @property
    def age_missing_text(self) -> str:
        """"4 years old", "about 18 months old": whole years, months under two."""
        return ages.age_text(ages.age_on(self, self.missing_date))

    @property
    def age_now_text(self) -> str:
        """"Now about 38 years old" (现年约 38 岁)."""
        return ages.age_now_text(self, timezone.localdate())

    def public_phone(self, hotline: PublicContact | None) -> str:
        """The number the public may call about this case: the family's own phone only when
        the family chose it, else the organisation's hotline ("" when there is none)."""
        if self.public_contact == PublicContactChoice.CONTACT_PHONE and self.contact_phone:
            return self.contact_phone
        return hotline.phone if hotline is not None else ""


class PublicContact(models.Model):
    """The organisation's hotline, set in the admin: the number a case page and poster give
    when the family keeps its own number private. The newest row is the one in use."""

    name = models.CharField(
        _("name"), max_length=150, help_text=_("Who answers, e.g. the volunteers' hotline."),
    )
    phone = models.CharField(_("phone"), max_length=40)
    hours = models.CharField(
        _("hours"), max_length=100, blank=True, help_text=_("When someone answers, optional."),
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("public contact (hotline)")
        verbose_name_plural = _("public contacts (hotline)")
        ordering = ["-updated_at", "-pk"]

    def __str__(self) -> str:
        return f"{self.name}: {self.phone}"
