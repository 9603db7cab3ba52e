"""Reads of recorded outcomes: the labelled candidates, the calibration a candidate gets,
and the figures of the volunteers' dashboard.

Counts only, never people: nothing here returns a name, a photo or a contact.
Candidates whose case or posting was withdrawn (``ended``) are left out of every
label: the seeker or the family took them out of matching.
"""

from __future__ import annotations

import statistics as stats
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from django.conf import settings
from django.db.models import Count, Max, Min, Q, QuerySet
from django.db.models.functions import Left, TruncMonth
from django.utils import timezone
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from families.models import CaseStatus, MissingChildCase, SeekerPosting, User
from families.places import label as province_label
from matching import outcomes, ranking
from matching.models import Candidate, Centring, DnaTest, OutcomeCalibration, Review
from matching.selectors.search import ranking_parameters_under

#: Candidates still waiting for a volunteer.
OPEN_STATUSES = (
    Candidate.Status.PENDING, Candidate.Status.NEEDS_INFO,
    Candidate.Status.AWAITING_SECOND_REVIEW,
)
#: Decisions a volunteer makes (a DNA "no match" is recorded as a rejection too, but by
#: the laboratory's answer, not a volunteer's judgement).
VOLUNTEER_DECISIONS = Review.objects.exclude(reason=Review.Reason.DNA_NO_MATCH)


# --- Labelled outcomes -------------------------------------------------------------


def _not_ended(candidates: QuerySet[Candidate]) -> QuerySet[Candidate]:
    return candidates.exclude(status=Candidate.Status.ENDED)


def counted_for(viewer: User | None) -> QuerySet[Candidate]:
    """The candidates a volunteer's figures count: never those of their own case or posting,
    whose coming and going would otherwise show in the counts before anyone told them."""
    candidates = Candidate.objects.all()
    if viewer is not None:
        candidates = candidates.exclude(case__family=viewer).exclude(
            seeker_posting__owner=viewer)
    return candidates


@dataclass(frozen=True)
class Version:
    """What a candidate's distance was measured under: the face model version and the
    centring (``Centring`` id, 0: plain). Calibrations are kept per version: a distance
    centred on other means reads on another scale."""

    model_version: str
    centring_version: int

    @property
    def key(self) -> str:
        """The version as one string (the outcomes page's choice)."""
        return f"{self.model_version}#{self.centring_version}"

    def __str__(self) -> str:
        return f"{self.model_version}, centring {self.centring_version}"


def candidate_outcomes(
    *, model_version: str | None = None, centring_version: int | None = None,
    viewer: User | None = None,
) -> list[outcomes.RecordedCandidate]:
    """Every candidate (of one face model version and centring, or all) with its label, in
    id order; for a ``viewer``, those they may be shown (``counted_for``)."""
    # A proposed candidate with no comparable faces has no distance to learn from.
    candidates = _not_ended(counted_for(viewer).filter(best_distance__isnull=False))
    if model_version is not None:
        candidates = candidates.filter(model_version=model_version)
    if centring_version is not None:
        candidates = candidates.filter(centring_version=centring_version)
    rows = list(candidates.order_by("pk").values_list(
        "pk", "case_id", "seeker_posting_id", "best_distance", "age_gap_years", "score"
    ))
    decisions: dict[int, list[tuple[str, str]]] = defaultdict(list)
    for candidate_id, decision, reason in Review.objects.filter(
        candidate__in=candidates.values("pk")
    ).order_by("created_at", "pk").values_list("candidate_id", "decision", "reason"):
        decisions[candidate_id].append((decision, reason))
    dna = dict(DnaTest.objects.filter(candidate__in=candidates.values("pk"))
               .values_list("candidate_id", "result"))
    return [
        outcomes.RecordedCandidate(
            candidate_id=pk, case_id=case_id, seeker_posting_id=posting_id, distance=distance,
            age_gap_years=gap, score=score,
            is_person=outcomes.label_of(decisions=decisions[pk], dna_result=dna.get(pk, "")),
        )
        for pk, case_id, posting_id, distance, gap, score in rows
    ]


def labelled_outcomes(*, model_version: str, centring_version: int
                      ) -> list[outcomes.Labelled]:
    """The labelled candidates of one face model version and centring: what its
    calibration is fitted on."""
    return [o.labelled() for o in candidate_outcomes(
        model_version=model_version, centring_version=centring_version)
        if o.is_person is not None]


def versions(*, viewer: User | None = None) -> list[Version]:
    """(Face model version, centring) pairs that have candidates, the most recently active
    first; for a ``viewer``, by the candidates ``counted_for`` them (their own would
    reorder the list)."""
    rows = (counted_for(viewer).values("model_version", "centring_version")
            .annotate(last=Max("updated_at"))
            .order_by("-last", "model_version", "centring_version"))
    return [Version(row["model_version"], row["centring_version"]) for row in rows]


def ranking_parameters_of(centring_version: int) -> ranking.RankingParameters:
    """The candidate rules the candidates of a centring were found by
    (``selectors.search.ranking_parameters_under``)."""
    centring = Centring.objects.filter(pk=centring_version).first() if centring_version else None
    return ranking_parameters_under(centring)


# --- The calibration a candidate gets ----------------------------------------------


def calibration_latest(*, model_version: str, centring_version: int
                       ) -> OutcomeCalibration | None:
    """The stored fit over every candidate: for viewers with no case or posting of their own."""
    return OutcomeCalibration.objects.filter(
        model_version=model_version, centring_version=centring_version).first()


def _owns_something(viewer: User) -> bool:
    return (MissingChildCase.objects.filter(family=viewer).exists()
            or SeekerPosting.objects.filter(owner=viewer).exists())


def calibration_for(*, model_version: str, centring_version: int, viewer: User | None
                    ) -> OutcomeCalibration | None:
    """The calibration a viewer is shown: never fitted on a candidate of their own.

    The stored fit counts every candidate, so for a volunteer who is also a family (or
    posted a seeker posting) a decision on their own candidate would move the chances and
    counts they see before anyone told them of it. For them the fit is made here, on the
    candidates ``counted_for`` them, unsaved, and dated by its newest label (not by when
    it was made, nor by the stored refits their own candidates cause). Whether the viewer
    owns anything is theirs to know; whether candidates of it exist never shows.
    """
    if viewer is None or not _owns_something(viewer):
        return calibration_latest(model_version=model_version,
                                  centring_version=centring_version)
    recorded = [row for row in candidate_outcomes(
        model_version=model_version, centring_version=centring_version, viewer=viewer)
        if row.is_person is not None]
    if not recorded:
        return None
    samples = [row.labelled() for row in recorded]
    ids = [row.candidate_id for row in recorded]
    newest = max((
        moment for moment in (
            Review.objects.filter(candidate_id__in=ids).aggregate(at=Max("created_at"))["at"],
            DnaTest.objects.filter(candidate_id__in=ids).aggregate(at=Max("result_at"))["at"],
        ) if moment is not None
    ), default=None)
    return OutcomeCalibration(
        model_version=model_version, centring_version=centring_version, fitted_at=newest,
        labels=len(samples),
        positives=sum(1 for sample in samples if sample.is_person),
        bands=[fit.as_json() for fit in outcomes.fit_bands(samples)],
        fingerprint=outcomes.fingerprint(samples),
    )


@dataclass(frozen=True)
class ChanceEstimate:
    """What past outcomes say about candidates like one: shown to volunteers only."""

    band: str
    #: Labelled candidates in the band (0 when this face model has no calibration).
    labels: int
    needed: int
    #: About how many in 100 such candidates were the person; None when too few labels.
    per_hundred: int | None
    fitted_at: datetime | None

    @property
    def enough(self) -> bool:
        return self.per_hundred is not None


def candidate_chance(candidate: Candidate, *, viewer: User | None = None) -> ChanceEstimate:
    """How often candidates of the same face model and centring, age-gap band and distance
    were the person, by the calibration ``viewer`` is shown (``calibration_for``)."""
    band = outcomes.band_key(candidate.age_gap_years)
    needed = settings.OUTCOME_MIN_LABELS_PER_BAND
    calibration = calibration_for(model_version=candidate.model_version,
                                  centring_version=candidate.centring_version, viewer=viewer)
    if calibration is None:
        return ChanceEstimate(band=band, labels=0, needed=needed, per_hundred=None,
                              fitted_at=None)
    fits = {fit["band"]: outcomes.BandFit.from_json(fit) for fit in calibration.bands}
    fit = fits.get(band) or outcomes.BandFit(band=band, labels=0, positives=0, steps=())
    measured = candidate.best_distance is not None
    chance = fit.chance_at(candidate.best_distance) if measured and fit.labels >= needed else None
    return ChanceEstimate(
        band=band, labels=fit.labels, needed=needed,
        per_hundred=None if chance is None else round(100 * chance),
        fitted_at=calibration.fitted_at,
    )


@dataclass(frozen=True)
class BandSummary:
    """One band of a calibration as reports show it."""

    band: str
    labels: int
    positives: int
    enough: bool
    #: About how many in 100 were the person at each of ``outcomes.CHANCE_GRID``.
    per_hundred: list[int | None]


def calibration_summary(calibration: OutcomeCalibration) -> list[BandSummary]:
    """Each band's size and its fitted chance at the report distances (None: too few)."""
    needed = settings.OUTCOME_MIN_LABELS_PER_BAND
    summary = []
    for data in calibration.bands:
        fit = outcomes.BandFit.from_json(data)
        enough = fit.labels >= needed and bool(fit.steps)
        summary.append(BandSummary(
            band=fit.band, labels=fit.labels, positives=fit.positives, enough=enough,
            per_hundred=[round(100 * fit.chance_at(d)) if enough else None
                         for d in outcomes.CHANCE_GRID],
        ))
    return summary


# --- The dashboard -------------------------------------------------------------------


def month_starts(*, months: int, today: date) -> list[date]:
    """The first days of the last ``months`` months, the current one last."""
    year, month = today.year, today.month
    starts = []
    for _month in range(months):
        starts.append(date(year, month, 1))
        year, month = (year, month - 1) if month > 1 else (year - 1, 12)
    return starts[::-1]


def _by_month(queryset: QuerySet, field: str, starts: list[date]) -> list[int]:
    """Rows of ``queryset`` per month of ``field`` (in the portal's time zone)."""
    zone = timezone.get_current_timezone()
    first = datetime(starts[0].year, starts[0].month, 1, tzinfo=zone)
    counts = {
        row["month"].date() if isinstance(row["month"], datetime) else row["month"]: row["n"]
        for row in queryset.filter(**{f"{field}__gte": first})
        .annotate(month=TruncMonth(field, tzinfo=zone)).values("month")
        .annotate(n=Count("pk")).order_by()
    }
    return [counts.get(start, 0) for start in starts]


@dataclass(frozen=True)
class MonthlySeries:
    key: str
    title: Promise
    counts: list[int]


#: How long a candidate has waited, or waited for its first decision: (upper bound, label).
WAIT_BUCKETS: tuple[tuple[timedelta | None, Promise], ...] = (
    (timedelta(days=1), _("under a day")),
    (timedelta(days=7), _("1 to 7 days")),
    (timedelta(days=30), _("1 to 4 weeks")),
    (timedelta(days=91), _("1 to 3 months")),
    (None, _("over 3 months")),
)


def wait_bucket(waited: timedelta) -> int:
    for index, (upper, _label) in enumerate(WAIT_BUCKETS):
        if upper is None or waited < upper:
            return index
    raise AssertionError("the last bucket is open-ended")


#: Score bands (``ranking.score``: 0 at the loose distance, 1 for identical faces).
SCORE_BANDS: tuple[tuple[float | None, float | None], ...] = (
    (None, 0.1), (0.1, 0.2), (0.2, 0.3), (0.3, 0.5), (0.5, None),
)


def score_band(score: float) -> int:
    for index, (_low, high) in enumerate(SCORE_BANDS):
        if high is None or score < high:
            return index
    raise AssertionError("the last band is open-ended")


def score_band_label(low: float | None, high: float | None) -> str:
    if low is None:
        return f"< {high:g}"
    if high is None:
        return f"≥ {low:g}"
    return f"{low:g}–{high:g}"


@dataclass(frozen=True)
class ScoreBandOutcome:
    label: str
    person: int
    not_person: int
    no_answer: int

    @property
    def total(self) -> int:
        return self.person + self.not_person + self.no_answer


@dataclass(frozen=True)
class Dashboard:
    months: list[date]
    series: list[MonthlySeries]
    backlog: list[tuple[Promise, int]]
    backlog_total: int
    first_decision_waits: list[tuple[Promise, int]]
    median_days_to_first_decision: float | None
    score_bands: list[ScoreBandOutcome]
    provinces: list[tuple[str, int]]


def dashboard_figures(
    *, months: int = 12, now: datetime | None = None, viewer: User | None = None
) -> Dashboard:
    """Every figure of the volunteers' dashboard, from the database as it is now; for a
    ``viewer``, without the candidates of their own case or posting (``counted_for``)."""
    now = now or timezone.now()
    counted = counted_for(viewer)
    of_counted = {"candidate__in": counted.values("pk")}
    starts = month_starts(months=months, today=timezone.localtime(now).date())
    series = [
        MonthlySeries("cases", _("Cases published"), _by_month(
            MissingChildCase.objects.exclude(published_at=None), "published_at", starts)),
        MonthlySeries("seekers", _("Seeker postings"), _by_month(
            SeekerPosting.objects.all(), "created_at", starts)),
        MonthlySeries("candidates", _("Candidates found"), _by_month(
            counted, "created_at", starts)),
        MonthlySeries("decisions", _("Volunteers' decisions"), _by_month(
            VOLUNTEER_DECISIONS.filter(**of_counted), "created_at", starts)),
        MonthlySeries("dna_tests", _("DNA tests requested"), _by_month(
            DnaTest.objects.filter(**of_counted), "requested_at", starts)),
        MonthlySeries("reunions", _("Reunions (DNA match)"), _by_month(
            DnaTest.objects.filter(result=DnaTest.Result.MATCH, **of_counted), "result_at",
            starts)),
    ]
    backlog = Counter(
        wait_bucket(now - created)
        for created in counted.filter(status__in=OPEN_STATUSES)
        .values_list("created_at", flat=True)
    )
    waits = [
        first - created for created, first in counted.annotate(
            first=Min("reviews__created_at",
                      filter=~Q(reviews__reason=Review.Reason.DNA_NO_MATCH))
        ).exclude(first=None).values_list("created_at", "first")
    ]
    first_waits = Counter(wait_bucket(wait) for wait in waits)
    return Dashboard(
        months=starts,
        series=series,
        backlog=[(label, backlog[i]) for i, (_upper, label) in enumerate(WAIT_BUCKETS)],
        backlog_total=sum(backlog.values()),
        first_decision_waits=[
            (label, first_waits[i]) for i, (_upper, label) in enumerate(WAIT_BUCKETS)
        ],
        median_days_to_first_decision=(
            round(stats.median(w.total_seconds() for w in waits) / 86400, 1) if waits else None
        ),
        score_bands=_score_band_outcomes(candidate_outcomes(viewer=viewer)),
        provinces=provinces_ranked(),
    )


def _score_band_outcomes(
    rows: Iterable[outcomes.RecordedCandidate],
) -> list[ScoreBandOutcome]:
    tally = [[0, 0, 0] for _band in SCORE_BANDS]
    for row in rows:
        column = 2 if row.is_person is None else (0 if row.is_person else 1)
        tally[score_band(row.score)][column] += 1
    return [
        ScoreBandOutcome(score_band_label(low, high), *tally[index])
        for index, (low, high) in enumerate(SCORE_BANDS)
    ]


def provinces_ranked() -> list[tuple[str, int]]:
    """Public cases (published, DNA test pending, reunited) per province, most first.

    A province is counted by its code, so "Sichuan", "四川" and "四川省" are one, named in
    the reader's language; a place with no code (outside China, or not in the list) by
    the province written.
    """
    rows = (MissingChildCase.objects.filter(status__in=(
        CaseStatus.PUBLISHED, CaseStatus.DNA_PENDING, CaseStatus.REUNITED))
        .annotate(province_code=Left("missing_place_code", 2))
        .values("province_code", "missing_province").annotate(n=Count("pk")))
    counts: Counter[str] = Counter()
    for row in rows:
        if row["province_code"]:
            counts[province_label(row["province_code"])] += row["n"]
        else:
            counts[row["missing_province"].strip() or "—"] += row["n"]
    return sorted(counts.items(), key=lambda item: (-item[1], item[0]))
