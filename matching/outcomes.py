"""Learning from outcomes: how often a candidate at a given face distance was the person.

Every volunteer's decision and every DNA result is a labelled pair: a real
childhood photo against a real adult. Fitted here, per age-gap band, is the
share of candidates that turned out to be the person as a function of the
face distance, held non-increasing in distance (isotonic regression by pool
adjacent violators): a closer pair is never *less* likely to be the person,
and within that one constraint the data speak for themselves.

Pure functions of numbers, like ``matching.ranking``; the rows are read by
``matching.statistics`` and the fit is stored by ``matching.services.calibration``.

Labels (``label_of``): a DNA result beats every volunteer's decision (match: the
person; no match: not); without one, the last decisive review counts (a
confirmation: the person; a rejection: not), except a rejection for a photo
too poor to judge, which says nothing about who it is. "Needs information"
is no label.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass

import numpy as np

#: Age-gap bands in years, [low, high); ``None`` is open-ended. The same buckets as
#: ``manage.py evaluate_crossage`` reports, so both speak of the same gaps.
AGE_GAP_BANDS: tuple[tuple[float, float | None], ...] = ((0, 5), (5, 10), (10, 20), (20, None))
#: Key of the band for pairs whose age gap is unknown.
UNKNOWN_GAP = "unknown"

#: Distances at which reports show a band's fitted chance.
CHANCE_GRID = (0.04, 0.06, 0.08, 0.10, 0.12, 0.14)

#: Decisions (``Review.Decision`` values) that say "the person" or "not the person".
POSITIVE_DECISIONS = ("confirm", "second_confirm")
NEGATIVE_DECISION = "reject"
#: Rejection reasons that say nothing about whether it is the person.
UNINFORMATIVE_REASONS = ("poor_photo",)


def band_key(age_gap_years: float | None) -> str:
    """The band a pair's age gap falls in: ``"0-5"``, ``"20+"`` or ``"unknown"``."""
    if age_gap_years is None:
        return UNKNOWN_GAP
    gap = abs(float(age_gap_years))
    for low, high in AGE_GAP_BANDS:  # contiguous from 0, the last open-ended
        if high is None or gap < high:
            return band_name(low, high)
    raise AssertionError("the last band is open-ended")


def band_name(low: float, high: float | None) -> str:
    return f"{low:g}+" if high is None else f"{low:g}-{high:g}"


def band_keys() -> list[str]:
    """Every band in order, the unknown gap last."""
    return [band_name(low, high) for low, high in AGE_GAP_BANDS] + [UNKNOWN_GAP]


def label_of(
    *, decisions: Sequence[tuple[str, str]], dna_result: str = ""
) -> bool | None:
    """Whether a candidate was the person, from its DNA result and its reviews.

    ``decisions`` are (decision, reason) in the order they were made. ``None``: no
    label (undecided, needs information, or rejected only as too poor to judge).
    """
    if dna_result == "match":
        return True
    if dna_result == "no_match":
        return False
    for decision, reason in reversed(decisions):
        if decision in POSITIVE_DECISIONS:
            return True
        if decision == NEGATIVE_DECISION:
            return None if reason in UNINFORMATIVE_REASONS else False
    return None


@dataclass(frozen=True)
class Labelled:
    """One labelled candidate: its closest pair's distance and age gap, and the outcome."""

    distance: float
    age_gap_years: float | None
    is_person: bool


@dataclass(frozen=True)
class RecordedCandidate:
    """A recorded candidate with what the fit and the candidate-rules report need."""

    candidate_id: int
    case_id: int
    seeker_posting_id: int
    distance: float
    age_gap_years: float | None
    score: float
    #: True: the person; False: not; None: no label yet (``label_of``).
    is_person: bool | None

    def labelled(self) -> Labelled:
        assert self.is_person is not None
        return Labelled(self.distance, self.age_gap_years, self.is_person)


def pool_adjacent_violators(
    values: Sequence[float], weights: Sequence[float] | None = None, *, increasing: bool = True
) -> np.ndarray:
    """The weighted least-squares monotone fit to ``values`` (in their order).

    The textbook algorithm: walk left to right keeping blocks with their
    weighted means, and merge a new block with the ones before it while they
    are out of order. Linear time; the same answer as scipy's
    ``isotonic_regression`` (a test compares them), without the dependency.
    """
    y = np.asarray(values, dtype=np.float64)
    w = np.ones_like(y) if weights is None else np.asarray(weights, dtype=np.float64)
    if not increasing:
        return -pool_adjacent_violators(-y, w, increasing=True)
    means: list[float] = []
    totals: list[float] = []
    sizes: list[int] = []
    for value, weight in zip(y, w, strict=True):
        means.append(float(value))
        totals.append(float(weight))
        sizes.append(1)
        while len(means) > 1 and means[-2] > means[-1]:
            weight_sum = totals[-2] + totals[-1]
            merged = (means[-2] * totals[-2] + means[-1] * totals[-1]) / weight_sum
            size = sizes[-2] + sizes[-1]
            del means[-1], totals[-1], sizes[-1]
            means[-1], totals[-1], sizes[-1] = merged, weight_sum, size
    return np.repeat(np.asarray(means), sizes)


@dataclass(frozen=True)
class Step:
    """One block of the fit: candidates from ``distance_from`` to ``distance_to``."""

    distance_from: float
    distance_to: float
    #: The block's mean distance: where its chance is placed when interpolating.
    distance_mean: float
    chance: float
    labels: int


@dataclass(frozen=True)
class BandFit:
    """The fit for one age-gap band: how many labels, how many were the person, the steps."""

    band: str
    labels: int
    positives: int
    steps: tuple[Step, ...]

    def chance_at(self, distance: float) -> float | None:
        """The fitted share at ``distance``: linear between blocks, flat beyond the ends.

        Interpolating between non-increasing points keeps the curve non-increasing.
        """
        if not self.steps:
            return None
        xs = np.array([step.distance_mean for step in self.steps])
        ys = np.array([step.chance for step in self.steps])
        return float(np.interp(distance, xs, ys))

    def as_json(self) -> dict:
        return {"band": self.band, "labels": self.labels, "positives": self.positives,
                "steps": [asdict(step) for step in self.steps]}

    @classmethod
    def from_json(cls, data: dict) -> BandFit:
        return cls(band=data["band"], labels=data["labels"], positives=data["positives"],
                   steps=tuple(Step(**step) for step in data["steps"]))


def fit_band(band: str, samples: Iterable[Labelled]) -> BandFit:
    """The isotonic fit of "was the person" against distance, non-increasing, for one band."""
    ordered = list(samples)
    if not ordered:
        return BandFit(band=band, labels=0, positives=0, steps=())
    distances = np.array([s.distance for s in ordered])
    outcomes = np.array([1.0 if s.is_person else 0.0 for s in ordered])
    # Equal distances are one point (their mean), so ties never depend on sort order.
    unique, index, counts = np.unique(distances, return_inverse=True, return_counts=True)
    means = np.bincount(index, weights=outcomes) / counts
    fitted = pool_adjacent_violators(means, counts, increasing=False)
    steps: list[Step] = []
    start = 0
    for end in range(1, len(unique) + 1):
        if end == len(unique) or fitted[end] != fitted[start]:
            block = slice(start, end)
            labels = int(counts[block].sum())
            steps.append(Step(
                distance_from=float(unique[start]), distance_to=float(unique[end - 1]),
                distance_mean=float((unique[block] * counts[block]).sum() / labels),
                chance=float(fitted[start]), labels=labels,
            ))
            start = end
    return BandFit(band=band, labels=len(ordered), positives=int(outcomes.sum()),
                   steps=tuple(steps))


def fit_bands(samples: Iterable[Labelled]) -> list[BandFit]:
    """One fit per age-gap band (every band, empty ones too), in band order."""
    by_band: dict[str, list[Labelled]] = {key: [] for key in band_keys()}
    for sample in samples:
        by_band[band_key(sample.age_gap_years)].append(sample)
    return [fit_band(key, by_band[key]) for key in band_keys()]


def fingerprint(samples: Iterable[Labelled]) -> str:
    """A digest of the labelled data, so an unchanged set is not fitted and stored again."""
    rows = sorted((round(s.distance, 6), s.age_gap_years, s.is_person) for s in samples)
    return hashlib.sha256(json.dumps(rows).encode()).hexdigest()
