"""Faces and their embeddings, match jobs, candidates, reviews and DNA tests.

A *face* is a detected (or hand-picked) face in a photo with its 128-number
SFace embedding in the searched pgvector column and its Dlib embedding beside
it. The facts matching filters on (side,
sex, birth years, consent) are copied onto the face so the vector search can
filter without joins; services keep them in step with the case or posting.
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.db.models.functions import Cast
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _
from pgvector.django import HalfVectorField, HnswIndex, VectorField

from families.models import MissingChildCase, Photo, SeekerPosting, Sex

EMBEDDING_DIMENSIONS = 128
#: Birth-year range widths (birth_year_max - birth_year_min) with a search index each: a
#: face of width in [low, high] can be born in the searched years [Y, X] only if its
#: birth_year_min is in [Y - high, X], a short range of its index. Wider faces have one
#: index of their own. docs/BENCHMARKS.md, "Exact search in 20 ms".
SEARCH_WIDTH_CLASSES = ((0, 2), (3, 5), (6, 10))


class Side(models.TextChoices):
    CASE = "case", _("missing child")
    SEEKER = "seeker", _("seeker")


class Face(models.Model):
    photo = models.ForeignKey(Photo, on_delete=models.CASCADE, related_name="faces")
    # Box in the stored photo's pixels.
    box_x = models.PositiveIntegerField()
    box_y = models.PositiveIntegerField()
    box_w = models.PositiveIntegerField()
    box_h = models.PositiveIntegerField()
    landmarks = models.JSONField(default=dict, blank=True)
    rotation = models.PositiveSmallIntegerField(
        default=0, choices=[(0, "0°"), (90, "90°"), (180, "180°"), (270, "270°")],
        help_text=_("Degrees the stored photo turns counter-clockwise to show this face "
                    "upright (an old print scanned sideways); the face is embedded so."),
    )
    detector_confidence = models.FloatField(null=True, blank=True)
    picked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
        related_name="+", help_text=_("Set when a person picked or drew this face."),
    )
    embedding = VectorField(dimensions=EMBEDDING_DIMENSIONS, null=True, blank=True)
    # The embedding in half precision, kept by PostgreSQL: the search ranks by it first
    # (half the bytes to read), then re-ranks the best in full precision.
    embedding_half = models.GeneratedField(
        expression=Cast("embedding", HalfVectorField(dimensions=EMBEDDING_DIMENSIONS)),
        output_field=HalfVectorField(dimensions=EMBEDDING_DIMENSIONS, null=True),
        db_persist=True,
    )
    # The second model's vector (Dlib on dlib's own chip), of the same model version: read
    # only to re-rank what the SFace search found (fusion, docs/MATCHING.md), never searched.
    embedding_dlib = VectorField(dimensions=EMBEDDING_DIMENSIONS, null=True, blank=True)
    # What the models gave, unit length: ``embedding`` and ``embedding_dlib`` are these
    # centred on the face's age group (``Centring``), so re-centring needs no model.
    embedding_raw = VectorField(dimensions=EMBEDDING_DIMENSIONS, null=True, blank=True)
    embedding_dlib_raw = VectorField(dimensions=EMBEDDING_DIMENSIONS, null=True, blank=True)
    # The ``Centring`` (its id) the searched vectors were centred with; 0 before any centring.
    # Part of the embedding's version: faces of two centrings are never compared.
    centring_version = models.PositiveIntegerField(default=0)
    # Hubness reduction (CSLS, ``matching.csls``): the face's mean cosine similarity to its
    # ``MATCH_CSLS_K`` nearest searchable faces of the other side, taken by its match job's
    # search (or the upkeep's) with the model version and centring named beside it; used
    # only while those are the face's own (a re-centred face's r is stale until taken again).
    csls_r = models.FloatField(null=True, blank=True)
    # The distance of the k-th of those faces (null: fewer than k): a new face nearer than
    # it changes this face's r, so that face's match job clears it for the upkeep.
    csls_kth = models.FloatField(null=True, blank=True)
    csls_model_version = models.CharField(max_length=80, blank=True)
    csls_centring_version = models.PositiveIntegerField(null=True, blank=True)
    model_name = models.CharField(max_length=40, blank=True)
    # The pipeline that made the embedding (library, model, detector, how the vector is
    # made, revision): matching compares only faces of the current version.
    model_version = models.CharField(max_length=80, blank=True)
    age_in_photo = models.FloatField(null=True, blank=True)
    # Copied from the photo's case or posting, for filtered vector search.
    side = models.CharField(max_length=6, choices=Side.choices)
    sex = models.CharField(max_length=1, choices=Sex.choices)
    birth_year_min = models.PositiveSmallIntegerField()
    birth_year_max = models.PositiveSmallIntegerField()
    searchable = models.BooleanField(
        default=False,
        help_text=_("Embedded, and its case or posting is matchable (consent, status)."),
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("face")
        verbose_name_plural = _("faces")
        indexes = [
            HnswIndex(
                name="face_embedding_hnsw",
                fields=["embedding"],
                m=16,
                ef_construction=64,
                opclasses=["vector_cosine_ops"],
            ),
            # Matching's search reads every searchable face the facts allow through this
            # index and compares them exactly (docs/BENCHMARKS.md: at 1,000,000 faces it
            # was as fast as HNSW with filters and never missed a face).
            models.Index(
                fields=["side", "sex", "birth_year_min", "birth_year_max"],
                name="face_search_facts",
                condition=models.Q(searchable=True),
            ),
            # The exact search reads these alone (index-only scans): the faces the facts
            # allow lie next to each other, with what the search needs beside them.
            *[
                models.Index(
                    fields=["side", "sex", "model_version", "centring_version",
                            "birth_year_min"],
                    include=["birth_year_max", "id", "embedding_half"],
                    name=f"face_search_w{low}_{high}",
                    condition=models.Q(searchable=True)
                    & models.Q(birth_year_max__gte=models.F("birth_year_min") + low)
                    & models.Q(birth_year_max__lte=models.F("birth_year_min") + high),
                )
                for low, high in SEARCH_WIDTH_CLASSES
            ],
            # The few faces whose hubness r was taken over fewer than k faces: every new face
            # that could be the same person clears theirs (matching/services/csls.py).
            models.Index(
                fields=["side", "birth_year_min"], name="face_csls_few",
                condition=models.Q(searchable=True, csls_r__isnull=False,
                                   csls_kth__isnull=True),
            ),
            models.Index(
                fields=["side", "sex", "model_version", "centring_version", "birth_year_min"],
                include=["birth_year_max", "id", "embedding_half"],
                name="face_search_wide",
                condition=models.Q(searchable=True)
                & models.Q(birth_year_max__gt=models.F("birth_year_min")
                           + SEARCH_WIDTH_CLASSES[-1][1]),
            ),
        ]

    def __str__(self) -> str:
        return f"face #{self.pk} of photo #{self.photo_id}"


class Centring(models.Model):
    """The age groups' mean embeddings the searched vectors are centred with: one version.

    Written by ``matching.services.centring`` from the portal's own faces of one model
    version; a group with fewer than 30 faces of 30 people has no mean (its faces stay
    plain). A face carries the id of the centring its vectors were made with
    (``Face.centring_version``); the newest row of the current model version is current.
    """

    model_version = models.CharField(max_length=80)
    #: {"sface": {"young": [128 numbers] or null, "adult": ...}, "dlib": {...}}
    means = models.JSONField(default=dict)
    #: {"young": {"faces": n, "people": m}, "adult": {...}}: what the means were taken over.
    counts = models.JSONField(default=dict)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("centring")
        verbose_name_plural = _("centrings")
        ordering = ["-pk"]
        indexes = [models.Index(fields=["model_version", "-id"], name="centring_current")]

    def __str__(self) -> str:
        return f"centring {self.pk} of {self.model_version}"

    def centres(self, group: str) -> bool:
        """Whether this centring has a mean for ``group`` (else that group stays plain)."""
        return (self.means.get("sface") or {}).get(group) is not None

    @property
    def centres_any(self) -> bool:
        """Whether any group is centred: the centred thresholds apply (``ranking``)."""
        return any(self.centres(group) for group in ("young", "adult"))


class MatchJob(models.Model):
    """One run of face processing or matching, mirrored from RQ so failures stay visible."""

    class Kind(models.TextChoices):
        PROCESS_PHOTO = "process_photo", _("detect and embed faces")
        MATCH_FACE = "match_face", _("match a face")

    class Status(models.TextChoices):
        QUEUED = "queued", _("queued")
        RUNNING = "running", _("running")
        DONE = "done", _("done")
        FAILED = "failed", _("failed")

    kind = models.CharField(max_length=20, choices=Kind.choices)
    photo = models.ForeignKey(
        Photo, null=True, blank=True, on_delete=models.CASCADE, related_name="match_jobs"
    )
    face = models.ForeignKey(
        Face, null=True, blank=True, on_delete=models.CASCADE, related_name="match_jobs"
    )
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.QUEUED)
    rq_job_id = models.CharField(max_length=64, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    error = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("match job")
        verbose_name_plural = _("match jobs")
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["status", "kind"])]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} #{self.pk} ({self.status})"


class Candidate(models.Model):
    """A possible match: one case × one seeker posting, over all photos of both.

    Pages, links, forms, notices, the API and the export name a candidate by its
    ``reference``, never its id: ids are sequential, and a gap in them would tell a
    volunteer who is also a family of a candidate of their own case.
    """

    class Status(models.TextChoices):
        PENDING = "pending", _("waiting for review")
        NEEDS_INFO = "needs_info", _("needs more information")
        AWAITING_SECOND_REVIEW = "second_review", _("waiting for a second reviewer")
        CONFIRMED = "confirmed", _("confirmed: DNA test")
        REJECTED = "rejected", _("rejected")
        REUNITED = "reunited", _("reunited")
        # Consent withdrawn, or the case or posting withdrawn: nobody but admins sees it again.
        ENDED = "ended", _("ended: consent or posting withdrawn")

    class Source(models.TextChoices):
        """Where a candidate came from: the faces, or a person who thought so."""

        FACE_MATCH = "face_match", _("face match")
        SEEKER = "seeker", _("the seeker: this might be me")
        FAMILY = "family", _("the family: this might be our child")
        VOLUNTEER = "volunteer", _("a volunteer")
        TIP = "tip", _("a tip")

    reference = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    case = models.ForeignKey(
        MissingChildCase, on_delete=models.CASCADE, related_name="candidates"
    )
    seeker_posting = models.ForeignKey(
        SeekerPosting, on_delete=models.CASCADE, related_name="candidates"
    )
    # A candidate a person proposed may have no comparable faces: no distance, no score.
    best_distance = models.FloatField(
        null=True, blank=True, help_text=_("Cosine distance of the closest photo pair.")
    )
    score = models.FloatField(
        null=True, blank=True, help_text=_("Ranking score; higher is more likely.")
    )
    case_face = models.ForeignKey(Face, null=True, on_delete=models.SET_NULL, related_name="+")
    seeker_face = models.ForeignKey(Face, null=True, on_delete=models.SET_NULL, related_name="+")
    age_gap_years = models.FloatField(null=True, blank=True)
    model_version = models.CharField(max_length=80, blank=True)
    # The centring (``Centring`` id, 0: plain) its distance was measured under: part of the
    # embedding's version, so outcome calibration is kept per (model version, centring).
    centring_version = models.PositiveIntegerField(default=0)
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.PENDING)
    source = models.CharField(
        max_length=20, choices=Source.choices, default=Source.FACE_MATCH, db_index=True
    )
    proposed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
        related_name="+", help_text=_("Who proposed it, when a person did."),
    )
    proposal_note = models.TextField(_("why they think so"), blank=True, max_length=2000)
    claimed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
        related_name="claimed_candidates",
    )
    claimed_at = models.DateTimeField(null=True, blank=True)
    ended_at = models.DateTimeField(null=True, blank=True)
    ended_reason = models.CharField(max_length=60, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("candidate")
        verbose_name_plural = _("candidates")
        ordering = ["-score", "created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["case", "seeker_posting"], name="one_candidate_per_pair"
            )
        ]
        indexes = [models.Index(fields=["status", "-score"])]

    def __str__(self) -> str:
        return f"candidate #{self.pk}: case #{self.case_id} × seeker #{self.seeker_posting_id}"

    @property
    def short_reference(self) -> str:
        """The reference's first eight characters: what pages and emails show people."""
        return str(self.reference)[:8]


class Review(models.Model):
    """A volunteer's decision on a candidate, with the reason."""

    class Decision(models.TextChoices):
        REJECT = "reject", _("reject")
        NEEDS_INFO = "needs_info", _("needs more information")
        CONFIRM = "confirm", _("confirm and request a DNA test")
        SECOND_CONFIRM = "second_confirm", _("second reviewer confirms")

    class Reason(models.TextChoices):
        DIFFERENT_PERSON = "different_person", _("clearly a different person")
        FACTS_CONFLICT = "facts_conflict", _("facts conflict (sex, age, place, dates)")
        POOR_PHOTO = "poor_photo", _("photo quality too poor to judge")
        DNA_NO_MATCH = "dna_no_match", _("DNA test: no match")
        OTHER = "other", _("other")

    candidate = models.ForeignKey(Candidate, on_delete=models.CASCADE, related_name="reviews")
    reviewer = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    decision = models.CharField(max_length=20, choices=Decision.choices)
    reason = models.CharField(max_length=30, choices=Reason.choices, blank=True)
    note = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("review")
        verbose_name_plural = _("reviews")
        ordering = ["created_at"]

    def __str__(self) -> str:
        return f"{self.get_decision_display()} on candidate #{self.candidate_id}"


class DnaTest(models.Model):
    """Tracks a DNA test's steps. No genetic data is ever stored here."""

    class Status(models.TextChoices):
        REQUESTED = "requested", _("requested")
        SAMPLES_COLLECTED = "samples_collected", _("samples collected")
        RESULT = "result", _("result received")

    class Result(models.TextChoices):
        MATCH = "match", _("match")
        NO_MATCH = "no_match", _("no match")
        INCONCLUSIVE = "inconclusive", _("inconclusive")

    candidate = models.OneToOneField(Candidate, on_delete=models.CASCADE, related_name="dna_test")
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.REQUESTED)
    result = models.CharField(max_length=20, choices=Result.choices, blank=True)
    lab_reference = models.CharField(max_length=100, blank=True)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    requested_at = models.DateTimeField(auto_now_add=True)
    samples_collected_at = models.DateTimeField(null=True, blank=True)
    result_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("DNA test")
        verbose_name_plural = _("DNA tests")

    def __str__(self) -> str:
        return f"DNA test for candidate #{self.candidate_id} ({self.status})"


class OutcomeCalibration(models.Model):
    """How often candidates turned out to be the person, by face distance and age-gap band.

    Fitted from volunteers' decisions and DNA results (``matching.outcomes``) for one
    face model version and centring: distances of another model, or centred on other
    means, mean something else, so a new model or centring starts with no calibration.
    A new row is written only when the labelled data changed; the newest row of a
    (model version, centring) is the one shown.
    """

    model_version = models.CharField(max_length=80)
    centring_version = models.PositiveIntegerField(default=0)
    fitted_at = models.DateTimeField(default=timezone.now)
    labels = models.PositiveIntegerField(help_text=_("Labelled candidates the fit used."))
    positives = models.PositiveIntegerField(help_text=_("Of them, how many were the person."))
    #: Per band: {"band", "labels", "positives", "steps": [{distance_from, distance_to,
    #: distance_mean, chance, labels}, ...]} (``matching.outcomes.BandFit.as_json``).
    bands = models.JSONField(default=list)
    fingerprint = models.CharField(max_length=64)

    class Meta:
        verbose_name = _("outcome calibration")
        verbose_name_plural = _("outcome calibrations")
        ordering = ["-fitted_at", "-pk"]
        indexes = [models.Index(fields=["model_version", "-fitted_at"])]

    def __str__(self) -> str:
        return (f"calibration of {self.model_version}, centring {self.centring_version} "
                f"({self.labels} labels)")


class DnaGuidance(models.Model):
    """What the organisation tells both sides about a DNA test: where, what it costs, how long.

    It differs by country and by laboratory, so the organisation writes it in the admin,
    in each language; the match page and the notices after a confirmation show the text
    in the reader's language (English where the other is left empty). One row is used:
    the latest saved.
    """

    where_en = models.TextField(_("where a sample is given (English)"), blank=True)
    where_zh = models.TextField(_("where a sample is given (Chinese)"), blank=True)
    cost_en = models.TextField(_("what it costs and who pays (English)"), blank=True)
    cost_zh = models.TextField(_("what it costs and who pays (Chinese)"), blank=True)
    time_en = models.TextField(_("how long it takes (English)"), blank=True)
    time_zh = models.TextField(_("how long it takes (Chinese)"), blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("DNA test guidance")
        verbose_name_plural = _("DNA test guidance")

    def __str__(self) -> str:
        return str(_("DNA test guidance"))

    def _in_language(self, name: str) -> str:
        chinese = getattr(self, f"{name}_zh")
        if (get_language() or "").startswith("zh") and chinese.strip():
            return chinese
        return getattr(self, f"{name}_en")

    @property
    def where(self) -> str:
        return self._in_language("where")

    @property
    def cost(self) -> str:
        return self._in_language("cost")

    @property
    def time_taken(self) -> str:
        return self._in_language("time")


class MatchMessage(models.Model):
    """A message on a confirmed candidate between one side and the volunteers.

    Two threads per candidate, never one: the family's (``family``) and the seeker's
    (``seeker``). Each side reads and writes its own thread with the volunteers who
    may review the candidate; neither ever sees the other's, so nothing of one side
    reaches the other through it. Written only after a volunteer confirms.
    """

    class Thread(models.TextChoices):
        FAMILY = "family", _("the family")
        SEEKER = "seeker", _("the seeker")

    candidate = models.ForeignKey(Candidate, on_delete=models.CASCADE, related_name="messages")
    thread = models.CharField(max_length=10, choices=Thread.choices)
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    from_volunteer = models.BooleanField(default=False)
    body = models.TextField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("match message")
        verbose_name_plural = _("match messages")
        ordering = ["created_at", "pk"]
        indexes = [models.Index(fields=["candidate", "thread", "created_at"])]

    def __str__(self) -> str:
        return f"Message on candidate #{self.candidate_id} ({self.thread})"
