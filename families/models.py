"""Accounts, missing-child cases, seeker postings, photos, notifications, audit.

The words are those of DESIGN.md: a *case* is posted by a family, a *seeker*
posting by an adult (or a volunteer for a found person), and both carry
*photos*. Contact details are private: only the owner, volunteers and admins
read them, and every such read is written to the audit log.
"""

from __future__ import annotations

import secrets
import uuid
from datetime import date
from typing import Any

from django.conf import settings
from django.contrib.auth.models import AbstractUser, BaseUserManager
from django.contrib.postgres.indexes import GinIndex
from django.core.validators import RegexValidator
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext
from rest_framework_api_key.models import AbstractAPIKey

from families import ages, divisions, names
from families.places import is_china, place_label, province_codes_and_names, settle


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


class Sex(models.TextChoices):
    FEMALE = "F", _("female")
    MALE = "M", _("male")
    UNKNOWN = "U", _("unknown")


class Division(models.Model):
    """One of China's administrative divisions (GB/T 2260), loaded from ``families.divisions``.

    The code drops GB/T 2260's trailing zeros (51 Sichuan, 5101 Chengdu, 510107 Wuhou), so a
    place lies in a division when its code starts with the division's. Cases and postings
    hold a code, not a key to this table: the list is the package's, the table is for
    reading it in SQL and the admin.
    """

    class Level(models.IntegerChoices):
        PROVINCE = 1, _("province")
        CITY = 2, _("city")
        DISTRICT = 3, _("district")

    code = models.CharField(_("code"), max_length=6, primary_key=True)
    name = models.CharField(_("name"), max_length=50)
    short_name = models.CharField(_("short name"), max_length=50)
    pinyin = models.CharField(_("pinyin"), max_length=100, db_index=True)
    english = models.CharField(_("English name"), max_length=100)
    level = models.PositiveSmallIntegerField(_("level"), choices=Level.choices)
    parent = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.CASCADE, related_name="children",
        db_constraint=False,
    )

    class Meta:
        verbose_name = _("administrative division")
        verbose_name_plural = _("administrative divisions")
        ordering = ["code"]

    def __str__(self) -> str:
        return f"{self.code} {self.name}"


#: Where a place is written as free text: a country other than China.
CHINA = ""


def _settle_place(obj: models.Model, prefix: str) -> None:
    """Sets ``{prefix}_place_code`` from the place's fields; a place named by a code or as a
    whole in the province field is written out as its division's names.

    Parts not in the list leave the code at what was understood (the forms say so; the
    admin lists such places): what was written is kept either way.
    """
    province = getattr(obj, f"{prefix}_province")
    settled = settle(province=province, city=getattr(obj, f"{prefix}_city"),
                     district=getattr(obj, f"{prefix}_district"),
                     country=getattr(obj, f"{prefix}_country"), prefix=prefix)
    setattr(obj, f"{prefix}_place_code", settled.code)
    if is_china(getattr(obj, f"{prefix}_country")):
        setattr(obj, f"{prefix}_country", CHINA)
    city, district = getattr(obj, f"{prefix}_city"), getattr(obj, f"{prefix}_district")
    if settled.code and (province.strip().isdigit() or (
            len(settled.code) > 2 and not city.strip() and not district.strip())):
        chain = {d.level: d.name for d in divisions.ancestry(settled.code)}
        setattr(obj, f"{prefix}_province", chain.get(Division.Level.PROVINCE, ""))
        setattr(obj, f"{prefix}_city", chain.get(Division.Level.CITY, ""))
        setattr(obj, f"{prefix}_district", chain.get(Division.Level.DISTRICT, ""))


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


#: A partner's own reference for a person: what its records call them, safe in a URL.
partner_reference_validator = RegexValidator(
    r"^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$",
    _("A reference is 1 to 100 letters, digits, dots, hyphens or underscores, "
      "starting with a letter or a digit."),
)


class PartnerOrganisation(models.Model):
    """A partner: a shelter, a police unit or an NGO posting the found people it knows of.

    Set up by an admin, with its members. What it posts is a found person's seeker
    posting that belongs to it and is matched on its basis (``matching_basis``), which
    stands in for the personal consent the found person can't give through the portal.
    """

    class Kind(models.TextChoices):
        SHELTER = "shelter", _("shelter")
        POLICE = "police", _("police")
        NGO = "ngo", _("NGO")

    name = models.CharField(_("name"), max_length=200, unique=True)
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices)
    region = models.CharField(_("region"), max_length=200, blank=True)
    matching_basis = models.TextField(
        _("basis for posting found people"),
        help_text=_("On what basis the found people this organisation posts may be compared "
                    "(e.g. police case records, the shelter's intake records)."),
    )
    members = models.ManyToManyField(
        settings.AUTH_USER_MODEL, blank=True, related_name="partner_organisations",
        verbose_name=_("members"),
    )
    is_active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("partner organisation")
        verbose_name_plural = _("partner organisations")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


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
        PartnerOrganisation, null=True, blank=True, on_delete=models.PROTECT,
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


def photo_upload_to(instance: Photo, filename: str) -> str:
    """Unguessable names; the original file name is never kept."""
    folder = "cases" if instance.case_id else "seekers"
    return f"photos/{folder}/{uuid.uuid4().hex}.jpg"


class Photo(models.Model):
    """A photo of a child (case) or of an adult (seeker), normalised on upload."""

    class Kind(models.TextChoices):
        CHILDHOOD = "childhood", _("childhood photo")
        AGE_PROGRESSED = "age_progressed", _("age-progressed image (estimate)")
        RECENT = "recent", _("recent photo")

    class FaceState(models.TextChoices):
        WAITING = "waiting", _("waiting")
        PROCESSING = "processing", _("processing")
        FACE_FOUND = "face_found", _("face found")
        NO_FACE = "no_face", _("no face found")
        SEVERAL_FACES = "several_faces", _("several faces")
        FAILED = "failed", _("failed")

    #: States in which a person must pick the face by hand.
    NEEDS_PICK = (FaceState.NO_FACE, FaceState.SEVERAL_FACES)

    # Who uploaded it: the family or seeker, or a volunteer helping them. The photo
    # belongs to its case or posting, so it outlives a volunteer's account.
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
        related_name="photos",
    )
    case = models.ForeignKey(
        MissingChildCase, null=True, blank=True, on_delete=models.CASCADE, related_name="photos"
    )
    seeker_posting = models.ForeignKey(
        SeekerPosting, null=True, blank=True, on_delete=models.CASCADE, related_name="photos"
    )
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices)
    image = models.ImageField(upload_to=photo_upload_to)
    width = models.PositiveIntegerField(default=0)
    height = models.PositiveIntegerField(default=0)
    sha256 = models.CharField(max_length=64, db_index=True)
    age_in_photo = models.DecimalField(
        _("age in the photo (years)"), max_digits=4, decimal_places=1, null=True, blank=True
    )
    year_taken = models.PositiveSmallIntegerField(_("year taken"), null=True, blank=True)
    caption = models.CharField(_("caption"), max_length=200, blank=True)
    # Age-progressed images: made by an artist or by Reunion from ``source_photo``.
    is_estimate = models.BooleanField(default=False)
    source_photo = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.CASCADE, related_name="estimates"
    )
    use_in_matching = models.BooleanField(_("use in matching"), default=True)
    use_on_poster = models.BooleanField(_("show on the poster"), default=True)
    # Hidden by a volunteer (who may never delete a family's photo): kept, still seen by its
    # family, volunteers and admins, but never public and never matched until shown again.
    hidden_at = models.DateTimeField(_("hidden by a volunteer at"), null=True, blank=True)

    face_state = models.CharField(
        max_length=20, choices=FaceState.choices, default=FaceState.WAITING
    )
    face_state_detail = models.CharField(max_length=300, blank=True)
    # The partner's bulk import that brought the photo, for its progress page.
    partner_import = models.ForeignKey(
        "PartnerImport", null=True, blank=True, on_delete=models.SET_NULL, related_name="photos"
    )
    uploaded_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("photo")
        verbose_name_plural = _("photos")
        ordering = ["uploaded_at", "pk"]
        indexes = [models.Index(fields=["face_state"])]
        constraints = [
            models.CheckConstraint(
                condition=(
                    Q(case__isnull=False, seeker_posting__isnull=True)
                    | Q(case__isnull=True, seeker_posting__isnull=False)
                ),
                name="photo_belongs_to_case_or_seeker",
            )
        ]

    def __str__(self) -> str:
        return f"photo #{self.pk} ({self.get_kind_display()})"

    @property
    def is_hidden(self) -> bool:
        return self.hidden_at is not None

    @property
    def side(self) -> str:
        """``case`` (a child) or ``seeker`` (an adult): the two sides of matching."""
        return "case" if self.case_id else "seeker"

    def age_years(self) -> float | None:
        """The person's age in the photo, stated or derived from the year taken."""
        if self.age_in_photo is not None:
            return float(self.age_in_photo)
        if self.year_taken is None:
            return None
        if self.case_id:
            born = (self.case.birth_year_min + self.case.birth_year_max) / 2
        else:
            born = (self.seeker_posting.birth_year_min + self.seeker_posting.birth_year_max) / 2
        return max(0.0, self.year_taken - born)


class Notification(models.Model):
    """An in-app notice, also sent by email. ``dedupe_key`` makes sending idempotent."""

    # The inbox names a notice by this, never its id: ids count every recipient's notices.
    reference = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notifications"
    )
    kind = models.CharField(max_length=40)
    subject = models.CharField(max_length=200)
    body = models.TextField()
    link = models.CharField(max_length=300, blank=True)
    dedupe_key = models.CharField(max_length=200, unique=True)
    created_at = models.DateTimeField(default=timezone.now)
    read_at = models.DateTimeField(null=True, blank=True)
    emailed_at = models.DateTimeField(null=True, blank=True)
    # What the notice is about (``app_label.model`` and id), so that it goes
    # when that goes: a deleted case, an ended candidate.
    about_type = models.CharField(max_length=60, blank=True)
    about_id = models.CharField(max_length=40, blank=True)
    # A notice whose email keeps failing is given up after a bounded number of tries.
    email_attempts = models.PositiveSmallIntegerField(default=0)
    email_error = models.TextField(blank=True)
    email_given_up_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("notification")
        verbose_name_plural = _("notifications")
        ordering = ["-created_at"]
        indexes = [
            models.Index(fields=["recipient", "read_at"]),
            models.Index(fields=["about_type", "about_id"]),
        ]

    def __str__(self) -> str:
        return self.subject


class AuditEntry(models.Model):
    """Who did or saw what, and when. Written by services, never edited."""

    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
        related_name="+",
    )
    action = models.CharField(max_length=60, db_index=True)
    object_type = models.CharField(max_length=60)
    object_id = models.CharField(max_length=40)
    detail = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        verbose_name = _("audit entry")
        verbose_name_plural = _("audit log")
        ordering = ["-created_at", "-pk"]
        indexes = [models.Index(fields=["object_type", "object_id"])]

    def __str__(self) -> str:
        when = f"{self.created_at:%Y-%m-%d %H:%M}"
        return f"{when} {self.actor_id} {self.action} {self.object_type}#{self.object_id}"


def tip_photo_upload_to(instance: Tip, filename: str) -> str:
    """Outside ``photos/``: a tip's photo is evidence for volunteers, never matched or shown."""
    return f"tips/{uuid.uuid4().hex}.jpg"


class Tip(models.Model):
    """A lead about a public case from anyone, signed in or not, for the case's volunteers.

    Private: only volunteers (never about their own case) and admins read it; the
    family hears only what a volunteer chooses to pass on.
    """

    class Status(models.TextChoices):
        NEW = "new", _("new")
        USEFUL = "useful", _("useful")
        NOT_USEFUL = "not_useful", _("not useful")
        PASSED_TO_POLICE = "passed_to_police", _("passed to the police")

    # Pages and forms name a tip by this, never its id: ids count tips about every case.
    reference = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    case = models.ForeignKey(MissingChildCase, on_delete=models.CASCADE, related_name="tips")
    sender = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
        related_name="+",
    )
    text = models.TextField(_("what you saw or know"), max_length=4000)
    place = models.CharField(_("where"), max_length=200, blank=True)
    when = models.CharField(_("when"), max_length=100, blank=True)
    contact = models.CharField(
        _("how to reach you (optional)"), max_length=200, blank=True,
        help_text=_("Only the volunteers see it."),
    )
    photo = models.ImageField(upload_to=tip_photo_upload_to, blank=True)
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.NEW)
    # Sent past a rate limit (many tips from one address, or about one case): kept all
    # the same, never refused, and listed after the other new tips.
    held_for_review = models.BooleanField(_("held: sent past a limit"), default=False)
    volunteer_note = models.TextField(blank=True, max_length=4000)
    handled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
        related_name="+",
    )
    handled_at = models.DateTimeField(null=True, blank=True)
    passed_to_family_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("tip")
        verbose_name_plural = _("tips")
        ordering = ["-created_at", "-pk"]
        indexes = [models.Index(fields=["status", "created_at"])]

    def __str__(self) -> str:
        return f"tip #{self.pk} on case #{self.case_id}"

    @property
    def short_reference(self) -> str:
        """The reference's first eight characters: what pages show volunteers."""
        return str(self.reference)[:8]


class PartnerAPIKey(AbstractAPIKey):
    """A partner organisation's key to the REST API: stored hashed, shown once, revocable.

    Each key acts for one member of the organisation, who is recorded as the actor of
    every call made with it and owns the postings it creates.
    """

    organisation = models.ForeignKey(
        PartnerOrganisation, on_delete=models.CASCADE, related_name="api_keys",
        verbose_name=_("partner organisation"),
    )
    member = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="partner_api_keys",
        verbose_name=_("acts for member"),
    )

    class Meta(AbstractAPIKey.Meta):
        verbose_name = _("partner API key")
        verbose_name_plural = _("partner API keys")

    def usable(self) -> bool:
        """Not revoked or expired, its organisation active, its member still one of it."""
        return bool(
            not self.revoked
            and not self.has_expired
            and self.organisation.is_active
            and self.member.is_active
            and self.organisation.members.filter(pk=self.member_id).exists()
        )


def partner_import_upload_to(instance: PartnerImport, filename: str) -> str:
    """Random names: the uploaded file's own name is kept in the row, not on disk."""
    suffix = ".zip" if filename.lower().endswith(".zip") else ".csv"
    return f"partner-imports/{uuid.uuid4().hex}{suffix}"


class PartnerImport(models.Model):
    """A partner's bulk import: a CSV of found people and a zip (or folder) of their photos.

    Rows are taken in order, each in its own transaction with ``rows_processed``, so
    a stopped import resumes at the first row it had not finished. The uploaded files
    are deleted once the import is done; the counts and the refused rows stay.
    """

    class Status(models.TextChoices):
        QUEUED = "queued", _("waiting to start")
        RUNNING = "running", _("running")
        DONE = "done", _("done")
        FAILED = "failed", _("stopped")

    organisation = models.ForeignKey(
        PartnerOrganisation, on_delete=models.CASCADE, related_name="imports",
        verbose_name=_("organisation"),
    )
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
        related_name="partner_imports",
    )
    csv_file = models.FileField(upload_to=partner_import_upload_to, blank=True)
    csv_name = models.CharField(_("CSV file"), max_length=255)
    csv_sha256 = models.CharField(max_length=64, db_index=True)
    # The columns as the file names them: the refused rows are given back under them.
    csv_header = models.JSONField(default=list)
    photos_zip = models.FileField(upload_to=partner_import_upload_to, blank=True)
    photos_zip_name = models.CharField(_("photos"), max_length=255, blank=True)
    # A folder on the server (``manage.py partner_import``) instead of a zip.
    photo_folder = models.CharField(max_length=1000, blank=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.QUEUED)
    rows_total = models.PositiveIntegerField(default=0)
    rows_processed = models.PositiveIntegerField(default=0)
    rows_created = models.PositiveIntegerField(default=0)
    rows_updated = models.PositiveIntegerField(default=0)
    rows_unchanged = models.PositiveIntegerField(default=0)
    rows_refused = models.PositiveIntegerField(default=0)
    photos_added = models.PositiveIntegerField(default=0)
    error = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    # The people its rows created, updated or found up to date (the organisation's list
    # filters by import).
    postings = models.ManyToManyField(
        SeekerPosting, blank=True, related_name="partner_imports", verbose_name=_("postings"))
    # The refused rows hold people's details: they go ``PARTNER_IMPORT_REFUSALS_KEEP_DAYS``
    # after the import ends.
    refusals_deleted_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("partner import")
        verbose_name_plural = _("partner imports")
        ordering = ["-created_at", "-pk"]

    def __str__(self) -> str:
        return f"import #{self.pk} of {self.organisation}: {self.csv_name}"

    @property
    def is_finished(self) -> bool:
        return self.status in (self.Status.DONE, self.Status.FAILED)

    @property
    def status_words(self) -> str:
        """The status as the member reads it: a finished import with refused rows says so."""
        if self.status == self.Status.DONE and self.rows_refused:
            return ngettext("finished with %(n)d row refused", "finished with %(n)d rows refused",
                            self.rows_refused) % {"n": self.rows_refused}
        return str(self.get_status_display())

    @property
    def tone(self) -> str:
        """The bar's colour: ``ok`` (running or all in), ``warning`` (rows refused),
        ``error`` (stopped)."""
        if self.status == self.Status.FAILED:
            return "error"
        return "warning" if self.rows_refused else "ok"


class PartnerImportRefusal(models.Model):
    """A row an import refused: where (line, column), why, and the row as it was sent."""

    partner_import = models.ForeignKey(
        PartnerImport, on_delete=models.CASCADE, related_name="refusals"
    )
    line = models.PositiveIntegerField()
    column = models.CharField(max_length=200, blank=True)
    message = models.TextField()
    cells = models.JSONField(default=dict)

    class Meta:
        ordering = ["line", "pk"]
        constraints = [models.UniqueConstraint(
            fields=["partner_import", "line"], name="one_refusal_per_import_line"
        )]

    def __str__(self) -> str:
        return f"line {self.line}: {self.message}"
