"""Seeker postings: an adult looking for a birth family, or a found person."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib.postgres.indexes import GinIndex
from django.core.validators import RegexValidator
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from families import names
from families.models.cases import MATCHABLE_STATUSES, CaseStatus, Sex
from families.models.places import CHINA, _settle_place
from families.places import place_label

#: A partner's own reference for a person: what its records call them, safe in a URL.
partner_reference_validator = RegexValidator(
    r"^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$",
    _("A reference is 1 to 100 letters, digits, dots, hyphens or underscores, "
      "starting with a letter or a digit."),
)


class SeekerPosting(models.Model):
    """An adult looking for a birth family, or a found person posted by a volunteer."""

    class PostedFor(models.TextChoices):
        SELF = "self", _("myself")
        FOUND_PERSON = "found", _("a found person (volunteer or police)")

    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="seeker_postings"
    )
    posted_for = models.CharField(
        _("posted for"), max_length=10, choices=PostedFor.choices, default=PostedFor.SELF
    )
    display_name = models.CharField(_("name used now"), max_length=150)
    sex = models.CharField(_("sex"), max_length=1, choices=Sex.choices)
    birth_year_min = models.PositiveSmallIntegerField(_("born no earlier than (year)"))
    birth_year_max = models.PositiveSmallIntegerField(_("born no later than (year)"))
    grew_up_province = models.CharField(_("province grown up in"), max_length=100, blank=True)
    grew_up_city = models.CharField(_("city"), max_length=100, blank=True)
    grew_up_district = models.CharField(_("district"), max_length=100, blank=True)
    grew_up_place_code = models.CharField(
        _("place code (GB/T 2260)"), max_length=6, blank=True, db_index=True
    )
    grew_up_country = models.CharField(
        _("country, if not China"), max_length=100, blank=True, default=CHINA
    )
    memories = models.TextField(_("earliest memories"), blank=True)
    dialect = models.CharField(_("dialect"), max_length=100, blank=True)
    # Facts a volunteer sets beside the case's nicknames, marks and height.
    remembered_names = models.CharField(
        _("names you remember being called"), max_length=200, blank=True)
    distinguishing_marks = models.TextField(_("distinguishing marks"), blank=True)
    height_cm = models.PositiveSmallIntegerField(_("height now (cm)"), null=True, blank=True)
    arrived_year = models.PositiveSmallIntegerField(
        _("year they came to the family that raised them"), null=True, blank=True
    )
    contact_phone = models.CharField(_("contact phone"), max_length=40, blank=True)
    contact_email = models.EmailField(_("contact email"), blank=True)
    consent_to_matching = models.BooleanField(
        _("I consent to my photos being compared and to being contacted about a possible match"),
        default=False,
    )
    consented_at = models.DateTimeField(null=True, blank=True)
    # A found person can't consent through the portal: who posts them records the
    # basis on which they may be matched (a police record, a shelter's records...).
    matching_basis = models.TextField(
        _("basis for matching a found person"), blank=True,
        help_text=_("For a found person: on what basis their photos may be compared "
                    "(e.g. police case, shelter records, the person's own consent on paper)."),
    )
    status = models.CharField(
        _("status"), max_length=20, choices=CaseStatus.choices, default=CaseStatus.PUBLISHED
    )
    # Public only by the owner's choice: the photos they pick, their memories if they say so,
    # never contacts. Withdrawing consent or the posting takes it down at once.
    published_at = models.DateTimeField(null=True, blank=True)
    show_memories = models.BooleanField(_("show my earliest memories"), default=False)
    # A found person posted by a partner: the organisation, and its own reference for them
    # (unique per organisation, so posting the same reference again updates the posting).
    organisation = models.ForeignKey(
        "PartnerOrganisation", null=True, blank=True, on_delete=models.PROTECT,
        related_name="postings", verbose_name=_("partner organisation"),
    )
    partner_reference = models.CharField(
        _("partner's reference"), max_length=100, blank=True,
        validators=[partner_reference_validator],
    )
    # The name used now in hanzi and plain pinyin (families/names.py), kept by ``save``.
    search_terms = models.TextField(editable=False, default="")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("seeker posting")
        verbose_name_plural = _("seeker postings")
        ordering = ["-created_at"]
        indexes = [
            GinIndex(fields=["search_terms"], name="seeker_search_terms_trgm",
                     opclasses=["gin_trgm_ops"]),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(birth_year_min__lte=models.F("birth_year_max")),
                name="seeker_birth_years_ordered",
            ),
            models.UniqueConstraint(
                fields=["organisation", "partner_reference"],
                condition=Q(organisation__isnull=False) & ~Q(partner_reference=""),
                name="one_posting_per_partner_reference",
            ),
            # Only a person can publish themself: nobody can consent for a found person.
            models.CheckConstraint(
                condition=Q(published_at__isnull=True)
                | Q(posted_for="self", organisation__isnull=True),
                name="found_person_never_public",
                violation_error_message=_(
                    "A found person's posting is never public: only a person can publish "
                    "themself."
                ),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.display_name} (#{self.pk})"

    def save(self, *args: Any, **kwargs: Any) -> None:
        self.search_terms = names.search_terms(family="", given=self.display_name)
        update_fields = kwargs.get("update_fields")
        if update_fields is not None:
            kwargs["update_fields"] = {*update_fields, "search_terms"}
        super().save(*args, **kwargs)

    def get_absolute_url(self) -> str:
        return reverse("families:seeker_detail", args=[self.pk])

    def clean(self) -> None:
        """Ties the place written to its division's code (``families.places.settle``)."""
        super().clean()
        _settle_place(self, "grew_up")

    @property
    def grew_up_place(self) -> str:
        """Where the seeker grew up, in the reader's language."""
        return place_label(code=self.grew_up_place_code, province=self.grew_up_province,
                           city=self.grew_up_city, district=self.grew_up_district,
                           country=self.grew_up_country)

    @property
    def is_matchable(self) -> bool:
        return self.consent_to_matching and self.status in MATCHABLE_STATUSES

    @property
    def is_found_person(self) -> bool:
        """Posted by a volunteer, the police or a partner for someone else, who can't consent
        through the portal: such a posting is matched on its basis, never made public."""
        return self.posted_for == self.PostedFor.FOUND_PERSON or self.organisation_id is not None

    @property
    def is_public(self) -> bool:
        """Published by its owner, and still consenting and in matching."""
        return self.published_at is not None and self.is_matchable

    @property
    def status_word(self) -> str:
        """The status its owner reads: "published" means in matching, which for a
        posting is not the same as public, so a private posting never reads "published"."""
        if self.status == CaseStatus.PUBLISHED:
            if self.is_public:
                return str(_("public, in matching"))
            if self.consent_to_matching:
                return str(_("private, in matching"))
            return str(_("private, not matched"))
        return str(self.get_status_display())

    def get_public_url(self) -> str:
        return reverse("families:public_seeker_detail", args=[self.pk])
