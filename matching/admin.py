"""Django admin for faces, match jobs, candidates, reviews and DNA tests.

Raw embeddings are never shown: a face shows its dimensions and model version.
Failed match jobs show their error, so admins see and retry them. A deletion here
is audited and takes the path of every deletion (``families.admin.common.DeletionMixin``):
a deleted candidate's notices go with it.
"""

from __future__ import annotations

from django.contrib import admin, messages
from django.db.models import IntegerField, QuerySet
from django.db.models.expressions import RawSQL
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from families.admin.common import AuditedViewMixin, DeletionMixin
from families.models import Photo
from matching.models import (
    Candidate,
    Centring,
    DnaGuidance,
    DnaTest,
    Face,
    MatchJob,
    MatchMessage,
    OutcomeCalibration,
    Review,
)
from matching.services import (
    dna_guidance_save,
    face_schedule_matching,
    photo_schedule_processing,
)


@admin.action(description=_("Reindex the photos of the selected faces"))
def reindex_face_photos(
    modeladmin: admin.ModelAdmin, request: HttpRequest, queryset: QuerySet
) -> None:

    photos = Photo.objects.filter(pk__in=queryset.values("photo_id"))
    for photo in photos:
        photo_schedule_processing(actor=request.user, photo=photo)
    modeladmin.message_user(request, ngettext(
        "%(count)d photo queued.", "%(count)d photos queued.", len(photos)
    ) % {"count": len(photos)}, messages.SUCCESS)


@admin.register(Face)
class FaceAdmin(AuditedViewMixin, DeletionMixin, admin.ModelAdmin):
    deletion_action = "face.deleted"
    list_display = ("pk", "photo", "side", "sex", "birth_year_min", "birth_year_max",
                    "age_in_photo", "searchable", "embedding_dimensions", "model_version",
                    "picked_by", "created_at")
    list_filter = ("side", "searchable", "sex", "model_name", "model_version")
    search_fields = ("photo__pk", "model_version")
    exclude = ("embedding", "embedding_dlib", "embedding_raw", "embedding_dlib_raw")
    readonly_fields = ("embedding_dimensions", "model_name", "model_version",
                       "centring_version", "csls_r", "csls_kth", "csls_model_version",
                       "csls_centring_version", "created_at")
    raw_id_fields = ("photo", "picked_by")
    actions = [reindex_face_photos]

    def get_queryset(self, request: HttpRequest) -> QuerySet:
        # Load no vectors in the list; the dimensions are counted by the database.
        return super().get_queryset(request).defer(
            "embedding", "embedding_dlib", "embedding_raw", "embedding_dlib_raw"
        ).annotate(
            dimensions=RawSQL(
                "vector_dims(matching_face.embedding)", [], output_field=IntegerField()
            )
        )

    @admin.display(description=_("embedding"))
    def embedding_dimensions(self, face: Face) -> str:
        dimensions = getattr(face, "dimensions", None)
        if dimensions is None:
            return str(_("none"))
        return _("%(count)d numbers") % {"count": dimensions}


@admin.action(description=_("Retry the selected jobs"))
def retry_jobs(modeladmin: admin.ModelAdmin, request: HttpRequest, queryset: QuerySet) -> None:

    count = 0
    for job in queryset.select_related("photo", "face"):
        if job.kind == MatchJob.Kind.MATCH_FACE and job.face is not None:
            count += face_schedule_matching(actor=request.user, face=job.face) is not None
        elif job.photo is not None:
            photo_schedule_processing(actor=request.user, photo=job.photo)
            count += 1
    modeladmin.message_user(request, ngettext(
        "%(count)d job queued again.", "%(count)d jobs queued again.", count
    ) % {"count": count}, messages.SUCCESS)


@admin.register(MatchJob)
class MatchJobAdmin(DeletionMixin, admin.ModelAdmin):
    deletion_action = "match_job.deleted"
    list_display = ("pk", "kind", "status", "photo", "face", "attempts", "short_error",
                    "created_at", "started_at", "finished_at")
    list_filter = ("status", "kind")
    search_fields = ("rq_job_id", "error", "photo__pk", "face__pk")
    readonly_fields = ("kind", "photo", "face", "status", "rq_job_id", "attempts", "error",
                       "created_at", "started_at", "finished_at")
    actions = [retry_jobs]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    @admin.display(description=_("error"))
    def short_error(self, job: MatchJob) -> str:
        """The last line of the traceback: what went wrong, at a glance."""
        lines = [line for line in job.error.strip().splitlines() if line.strip()]
        return lines[-1][:160] if lines else ""


class ReviewInline(admin.TabularInline):
    model = Review
    extra = 0
    fields = ("created_at", "reviewer", "decision", "reason", "note")
    readonly_fields = fields
    can_delete = False

    def has_add_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


@admin.register(Candidate)
class CandidateAdmin(AuditedViewMixin, DeletionMixin, admin.ModelAdmin):
    deletion_action = "candidate.deleted"
    list_display = ("pk", "case", "seeker_posting", "score", "best_distance", "age_gap_years",
                    "status", "claimed_by", "model_version", "created_at")
    list_filter = ("status", "model_version", "case__missing_province")
    search_fields = ("case__search_terms", "case__given_name", "case__family_name",
                     "seeker_posting__display_name", "case__missing_province")
    raw_id_fields = ("case", "seeker_posting", "case_face", "seeker_face", "claimed_by")
    readonly_fields = ("best_distance", "score", "age_gap_years", "model_version",
                       "centring_version", "created_at", "updated_at")
    inlines = [ReviewInline]


@admin.register(Review)
class ReviewAdmin(AuditedViewMixin, DeletionMixin, admin.ModelAdmin):
    deletion_action = "review.deleted"
    list_display = ("candidate", "decision", "reason", "reviewer", "created_at")
    list_filter = ("decision", "reason")
    search_fields = ("note", "reviewer__email", "candidate__pk")
    readonly_fields = ("candidate", "reviewer", "decision", "reason", "note", "created_at")

    def has_add_permission(self, request: HttpRequest) -> bool:
        # Decisions are made on the review page, where they take effect and are audited.
        return False


@admin.register(DnaTest)
class DnaTestAdmin(AuditedViewMixin, DeletionMixin, admin.ModelAdmin):
    deletion_action = "dna_test.deleted"
    list_display = ("candidate", "status", "result", "lab_reference", "requested_at",
                    "samples_collected_at", "result_at", "requested_by")
    list_filter = ("status", "result")
    search_fields = ("lab_reference", "candidate__pk")
    readonly_fields = ("candidate", "status", "result", "requested_by", "requested_at",
                       "samples_collected_at", "result_at")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False


@admin.register(MatchMessage)
class MatchMessageAdmin(AuditedViewMixin, DeletionMixin, admin.ModelAdmin):
    """Read-only: a message is written on the match page by its side or its volunteers.

    An admin reads a thread when a side asks for help or reports abuse (each opened message
    is audited), and may delete a message (a demand for money, say), audited like every
    deletion; nobody edits what another wrote.
    """

    deletion_action = "match_message.deleted"
    list_display = ("created_at", "candidate_reference", "thread", "from_volunteer", "author")
    list_filter = ("thread", "from_volunteer")
    search_fields = ("candidate__reference",)
    list_select_related = ("candidate", "author")
    readonly_fields = ("candidate", "thread", "author", "from_volunteer", "body", "created_at")

    @admin.display(description=_("candidate"))
    def candidate_reference(self, message: MatchMessage) -> str:
        return str(message.candidate.reference)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


@admin.register(Centring)
class CentringAdmin(admin.ModelAdmin):
    """Read-only: a centring is taken from the faces by the workers' upkeep (or ``manage.py
    reindex --recentre --apply``); its means stay out of the page."""

    list_display = ("pk", "model_version", "created_at", "counts")
    list_filter = ("model_version",)
    exclude = ("means",)
    readonly_fields = ("model_version", "created_at", "counts")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


@admin.register(OutcomeCalibration)
class OutcomeCalibrationAdmin(admin.ModelAdmin):
    """Read-only: a calibration is fitted from the outcomes (``manage.py calibrate_outcomes``)."""

    list_display = ("model_version", "centring_version", "fitted_at", "labels", "positives")
    list_filter = ("model_version", "centring_version")
    readonly_fields = ("model_version", "centring_version", "fitted_at", "labels",
                       "positives", "bands", "fingerprint")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


@admin.register(DnaGuidance)
class DnaGuidanceAdmin(admin.ModelAdmin):
    """Where a sample is given, what it costs and how long it takes, in both languages:
    shown to both sides on the match page and in the notices after a confirmation."""

    list_display = ("__str__", "updated_at")
    fieldsets = (
        (_("Where a sample is given"), {"fields": ("where_en", "where_zh")}),
        (_("What it costs and who pays"), {"fields": ("cost_en", "cost_zh")}),
        (_("How long it takes"), {"fields": ("time_en", "time_zh")}),
    )

    def has_add_permission(self, request: HttpRequest) -> bool:
        return super().has_add_permission(request) and not DnaGuidance.objects.exists()

    def save_model(self, request: HttpRequest, obj: DnaGuidance, form, change: bool) -> None:
        dna_guidance_save(actor=request.user, guidance=obj)
