"""What the partners' API reads and writes: found-person postings, their photos, and the
candidates a volunteer confirmed for them (only what the confirmation grants)."""

from __future__ import annotations

from typing import Any

from django.core.validators import (
    MaxLengthValidator,
    MaxValueValidator,
    MinValueValidator,
    RegexValidator,
)
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from families.models import MissingChildCase, Photo, SeekerPosting, partner_reference_validator
from families.partners.csv_reading import (
    FIRST_YEAR,
    MEMORIES_MAX_LENGTH,
    MULTILINE_COLUMNS,
    text_problem,
    year_problem,
)

#: The year fields: from 1900 to this year, as an import's rows.
YEAR_FIELDS = ("birth_year_min", "birth_year_max", "arrived_year")
#: No control characters: the schema says so (``pattern``), and ``text_problem`` checks.
ONE_LINE = RegexValidator(r"^[^\x00-\x1f\x7f-\x9f]*$",
                          _("The text holds a control character: remove it."))
MULTI_LINE = RegexValidator(r"^[^\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]*$",
                            _("The text holds a control character: remove it."))


def bound_years(fields: dict[str, serializers.Field], names: tuple[str, ...]) -> None:
    """Years from 1900 to this year (read at each call: the bound moves on 1 January)."""
    last = timezone.now().year
    for name in names:
        field = fields.get(name)
        if field is None or field.read_only:
            continue
        field.min_value, field.max_value = FIRST_YEAR, last
        field.validators = [
            v for v in field.validators
            if not isinstance(v, (MinValueValidator, MaxValueValidator))
        ] + [MinValueValidator(FIRST_YEAR), MaxValueValidator(last)]


class CheckedText:
    """The same checks as an import's rows (``families.partners.csv_reading``): no control
    characters, memories bounded, years from 1900 to this year."""

    def get_fields(self) -> dict[str, serializers.Field]:
        fields = super().get_fields()
        bound_years(fields, (*YEAR_FIELDS, "year_taken"))
        for name, field in fields.items():
            if isinstance(field, serializers.CharField) and not field.read_only \
                    and not isinstance(field, (serializers.ChoiceField, serializers.EmailField)) \
                    and name != "reference":
                field.validators.append(MULTI_LINE if name in MULTILINE_COLUMNS else ONE_LINE)
                if name == "memories":
                    field.max_length = MEMORIES_MAX_LENGTH
                    field.validators.append(MaxLengthValidator(MEMORIES_MAX_LENGTH))
        return fields

    #: Values of JSON's own types only: "1990" is not a year, 1990 is not a name.
    strict_types = True

    def to_internal_value(self, data: Any) -> dict[str, Any]:
        if self.strict_types and isinstance(data, dict):
            wrong: dict[str, list[str]] = {}
            for name, field in self.fields.items():
                value = data.get(field.field_name)
                if field.read_only or value is None:
                    continue
                if isinstance(field, serializers.CharField) and not isinstance(value, str):
                    wrong[name] = [_("Give text, in quotes.")]
                elif isinstance(field, serializers.IntegerField) and (
                    isinstance(value, bool) or not isinstance(value, int)
                ):
                    wrong[name] = [_("Give a whole number, without quotes.")]
            if wrong:
                raise serializers.ValidationError(wrong)
        return super().to_internal_value(data)

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        problems: dict[str, list[str]] = {}
        for name, value in attrs.items():
            problem = None
            if isinstance(value, str):
                problem = text_problem(value, multiline=name in MULTILINE_COLUMNS)
            elif isinstance(value, int) and name in (*YEAR_FIELDS, "year_taken"):
                problem = year_problem(value)
            if problem:
                problems[name] = [problem]
        instance = getattr(self, "instance", None)
        earliest = attrs.get("birth_year_min", getattr(instance, "birth_year_min", None))
        latest = attrs.get("birth_year_max", getattr(instance, "birth_year_max", None))
        if earliest is not None and latest is not None and earliest > latest:
            problems.setdefault("birth_year_max", []).append(
                _("The latest year of birth is before the earliest."))
        if problems:
            raise serializers.ValidationError(problems)
        return super().validate(attrs)

#: The posting fields a partner writes (``families.partners.services.PARTNER_POSTING_FIELDS``).
POSTING_WRITE_FIELDS = [
    "display_name", "sex", "birth_year_min", "birth_year_max", "grew_up_province",
    "grew_up_city", "grew_up_district", "grew_up_country", "memories", "dialect",
    "arrived_year", "contact_phone", "contact_email",
]


class PhotoSerializer(serializers.ModelSerializer):
    """A photo of the posting and the state of its face (``needs_face_pick``: no face or
    several were found, and a member picks the face in the browser)."""

    needs_face_pick = serializers.SerializerMethodField()

    class Meta:
        model = Photo
        fields = ["id", "kind", "age_in_photo", "year_taken", "caption", "face_state",
                  "needs_face_pick", "uploaded_at"]
        read_only_fields = fields

    def get_needs_face_pick(self, photo: Photo) -> bool:
        return photo.face_state in Photo.NEEDS_PICK


class PostingSerializer(CheckedText, serializers.ModelSerializer):
    """A found person the organisation posted, keyed by the organisation's reference."""

    reference = serializers.CharField(
        source="partner_reference", max_length=100, validators=[partner_reference_validator],
        help_text=_("Your own reference for this person: posting it again updates them."),
    )
    photos = PhotoSerializer(many=True, read_only=True)

    class Meta:
        model = SeekerPosting
        fields = ["reference", "id", "status", *POSTING_WRITE_FIELDS, "grew_up_place_code",
                  "photos", "created_at", "updated_at"]
        read_only_fields = ["id", "status", "grew_up_place_code", "photos", "created_at",
                            "updated_at"]


class PostingUpdateSerializer(PostingSerializer):
    """A change to a posting: any of the fields, the reference excepted."""

    reference = serializers.CharField(source="partner_reference", read_only=True)

    class Meta(PostingSerializer.Meta):
        extra_kwargs = {name: {"required": False} for name in POSTING_WRITE_FIELDS}


class PhotoUploadSerializer(CheckedText, serializers.Serializer):
    """A photo sent as ``multipart/form-data``: checked and re-encoded like every upload."""

    strict_types = False  # a form's fields are all text

    image = serializers.FileField(help_text=_(
        "A photo (JPEG, PNG, WebP, HEIC and other common formats), checked on arrival."
    ))
    kind = serializers.ChoiceField(
        choices=[(Photo.Kind.RECENT, Photo.Kind.RECENT.label),
                 (Photo.Kind.CHILDHOOD, Photo.Kind.CHILDHOOD.label)],
        default=Photo.Kind.RECENT,
    )
    age_in_photo = serializers.DecimalField(max_digits=4, decimal_places=1, required=False,
                                            min_value=0, max_value=120)
    year_taken = serializers.IntegerField(required=False, min_value=FIRST_YEAR)
    caption = serializers.CharField(required=False, max_length=200, allow_blank=True)


class ConfirmedCaseSerializer(serializers.ModelSerializer):
    """What a confirmation shows a seeker of the case (docs/REVIEW.md, "Who sees what")."""

    #: The name in the one form of its script (李小梅; Anna Smith), as the pages show it.
    name = serializers.CharField(source="full_name", read_only=True)

    class Meta:
        model = MissingChildCase
        fields = ["name", "family_name", "given_name", "nicknames", "sex", "birth_date",
                  "birth_year_min", "birth_year_max", "missing_date", "missing_city",
                  "missing_province", "missing_place_code"]
        read_only_fields = fields


class DnaTestStateSerializer(serializers.Serializer):
    status = serializers.CharField()
    result = serializers.CharField()


class VolunteerSerializer(serializers.Serializer):
    name = serializers.CharField()
    email = serializers.EmailField()


class ConfirmedCandidateSerializer(serializers.Serializer):
    """A candidate a volunteer confirmed for one of the organisation's postings."""

    id = serializers.UUIDField(help_text=_("The candidate's opaque reference."))
    status = serializers.CharField()
    reference = serializers.CharField()
    case = ConfirmedCaseSerializer()
    case_photos_shared = serializers.IntegerField(
        help_text=_("How many of the case's photos the match page shows the posting's member.")
    )
    match_page = serializers.URLField()
    volunteer = VolunteerSerializer(allow_null=True)
    dna_test = DnaTestStateSerializer(allow_null=True)
