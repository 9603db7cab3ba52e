"""What the partners' API reads and writes: found-person postings, their photos, and the
candidates a volunteer confirmed for them (only what the confirmation grants)."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from families.models import MissingChildCase, Photo, SeekerPosting, partner_reference_validator

#: The posting fields a partner writes (``families.services.PARTNER_POSTING_FIELDS``).
POSTING_WRITE_FIELDS = [
    "display_name", "sex", "birth_year_min", "birth_year_max", "grew_up_province",
    "grew_up_city", "grew_up_district", "memories", "dialect", "arrived_year",
    "contact_phone", "contact_email",
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


class PostingSerializer(serializers.ModelSerializer):
    """A found person the organisation posted, keyed by the organisation's reference."""

    reference = serializers.CharField(
        source="partner_reference", max_length=100, validators=[partner_reference_validator],
        help_text=_("Your own reference for this person: posting it again updates them."),
    )
    photos = PhotoSerializer(many=True, read_only=True)

    class Meta:
        model = SeekerPosting
        fields = ["reference", "id", "status", *POSTING_WRITE_FIELDS, "photos",
                  "created_at", "updated_at"]
        read_only_fields = ["id", "status", "photos", "created_at", "updated_at"]


class PostingUpdateSerializer(PostingSerializer):
    """A change to a posting: any of the fields, the reference excepted."""

    reference = serializers.CharField(source="partner_reference", read_only=True)

    class Meta(PostingSerializer.Meta):
        extra_kwargs = {name: {"required": False} for name in POSTING_WRITE_FIELDS}


class PhotoUploadSerializer(serializers.Serializer):
    """A photo sent as ``multipart/form-data``: checked and re-encoded like every upload."""

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
    year_taken = serializers.IntegerField(required=False, min_value=1900, max_value=2100)
    caption = serializers.CharField(required=False, max_length=200, default="")


class ConfirmedCaseSerializer(serializers.ModelSerializer):
    """What a confirmation shows a seeker of the case (docs/REVIEW.md, "Who sees what")."""

    class Meta:
        model = MissingChildCase
        fields = ["given_name", "family_name", "nicknames", "sex", "birth_date",
                  "birth_year_min", "birth_year_max", "missing_date", "missing_city",
                  "missing_province"]
        read_only_fields = fields


class DnaTestStateSerializer(serializers.Serializer):
    status = serializers.CharField()
    result = serializers.CharField()


class VolunteerSerializer(serializers.Serializer):
    name = serializers.CharField()
    email = serializers.EmailField()


class ConfirmedCandidateSerializer(serializers.Serializer):
    """A candidate a volunteer confirmed for one of the organisation's postings."""

    id = serializers.IntegerField()
    status = serializers.CharField()
    reference = serializers.CharField()
    case = ConfirmedCaseSerializer()
    case_photos_shared = serializers.IntegerField(
        help_text=_("How many of the case's photos the match page shows the posting's member.")
    )
    match_page = serializers.URLField()
    volunteer = VolunteerSerializer(allow_null=True)
    dna_test = DnaTestStateSerializer(allow_null=True)
