"""Learning from outcomes: labels, the isotonic fit, its refit by job, maintenance and command,
and what the review page says of it (volunteers only).

The fit is shown on a few hundred decisions with known structure: in each of two age-gap
bands, candidates at distances drawn in four distance bins, each bin with a set share of
candidates that were the person (exactly that share, at random distances in the bin). The
fitted chance, averaged over each bin's candidates, must be within ``TOLERANCE`` of the set
share, and never rise with distance.
"""

from __future__ import annotations

import itertools
import random
import re
from datetime import date

import django_rq
import numpy as np
import pytest
from django.core.cache import cache
from django.core.management import call_command
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from scipy.optimize import isotonic_regression

from families.models import AuditEntry, CaseStatus, MissingChildCase, SeekerPosting, Sex
from matching import outcomes, services, statistics
from matching.models import Candidate, Centring, DnaTest, OutcomeCalibration, Review
from matching.services.calibration import REFIT_CLOCK_KEY
from reunion.worker import PortalWorker
from tests import builders

#: How far a fitted chance (averaged over a bin's candidates) may be from the set share.
TOLERANCE = 0.08

#: Age gap of the band → [(distance from, distance to, share that were the person)].
#: Cross-age pairs are further apart, so the older band's bins lie further out.
STRUCTURE = {
    3.0: [(0.02, 0.05, 0.90), (0.05, 0.08, 0.60), (0.08, 0.11, 0.20), (0.11, 0.14, 0.05)],
    25.0: [(0.04, 0.07, 0.80), (0.07, 0.10, 0.50), (0.10, 0.13, 0.25), (0.13, 0.16, 0.10)],
}
PER_BIN = 60
MODEL = "deepface-test/Dlib/dlib"


# --- pure: labels, bands, pool adjacent violators ---------------------------------------


@pytest.mark.parametrize(("decisions", "dna", "expected"), [
    ([], "", None),
    ([("needs_info", "")], "", None),
    ([("confirm", "")], "", True),
    ([("reject", "different_person")], "", False),
    ([("reject", "facts_conflict")], "", False),
    ([("reject", "poor_photo")], "", None),  # too poor a photo to judge says nothing
    ([("confirm", ""), ("reject", "different_person")], "", False),  # the last decision counts
    ([("reject", "other"), ("needs_info", "")], "", False),
    ([("confirm", ""), ("second_confirm", "")], "", True),
    ([("confirm", "")], "inconclusive", True),
    ([("confirm", "")], "no_match", False),  # DNA beats the volunteer
    ([("confirm", ""), ("reject", "dna_no_match")], "no_match", False),
    ([("reject", "different_person")], "match", True),
])
def test_what_counts_as_the_person(decisions, dna, expected):
    assert outcomes.label_of(decisions=decisions, dna_result=dna) is expected


def test_age_gap_bands():
    assert [outcomes.band_key(g) for g in (0, 4.9, 5, 9.99, 10, 19.9, 20, 60, None, -3)] == [
        "0-5", "0-5", "5-10", "5-10", "10-20", "10-20", "20+", "20+", "unknown", "0-5"]
    assert outcomes.band_keys() == ["0-5", "5-10", "10-20", "20+", "unknown"]


def test_pool_adjacent_violators_gives_scipys_answer():
    rng = np.random.default_rng(17)
    for size in (1, 2, 7, 50, 400):
        values = rng.random(size)
        weights = rng.integers(1, 5, size).astype(float)
        for increasing in (True, False):
            ours = outcomes.pool_adjacent_violators(values, weights, increasing=increasing)
            theirs = isotonic_regression(values, weights=weights, increasing=increasing).x
            np.testing.assert_allclose(ours, theirs, atol=1e-12)
    assert outcomes.pool_adjacent_violators([1, 3, 2, 4]).tolist() == [1, 2.5, 2.5, 4]
    assert outcomes.pool_adjacent_violators([1, 0, 1, 0], increasing=False).tolist() == [
        1, 0.5, 0.5, 0]


def test_a_fit_never_rises_with_distance_and_ties_do_not_depend_on_order():
    rng = random.Random(3)
    samples = [outcomes.Labelled(round(rng.uniform(0, 0.2), 2), 3.0, rng.random() < 0.5)
               for _ in range(300)]
    fit = outcomes.fit_band("0-5", samples)
    curve = [fit.chance_at(d) for d in np.linspace(0, 0.25, 200)]
    assert all(a >= b - 1e-12 for a, b in itertools.pairwise(curve))
    assert fit.labels == 300 and sum(step.labels for step in fit.steps) == 300
    assert outcomes.fit_band("0-5", reversed(samples)) == fit
    assert outcomes.BandFit.from_json(fit.as_json()) == fit
    assert outcomes.fit_band("0-5", []).chance_at(0.1) is None


# --- the rows: a few hundred decisions with known structure ----------------------------


@pytest.fixture
def volunteer(make_user):
    return make_user(volunteer=True)


def _people(owner, count: int) -> tuple[list[MissingChildCase], list[SeekerPosting]]:
    cases = MissingChildCase.objects.bulk_create([
        MissingChildCase(family=owner, given_name=f"Child {i}", sex=Sex.MALE,
                         birth_year_min=1986, birth_year_max=1986,
                         missing_date=date(1988, 3, 1), missing_province="Shaanxi",
                         contact_name="Li", status=CaseStatus.PUBLISHED,
                         published_at=timezone.now())
        for i in range(count)
    ])
    postings = SeekerPosting.objects.bulk_create([
        SeekerPosting(owner=owner, display_name=f"Adult {i}", sex=Sex.MALE,
                      birth_year_min=1985, birth_year_max=1987, consent_to_matching=True)
        for i in range(count)
    ])
    return cases, postings


class Rows:
    """Candidates with their reviews and DNA tests, written directly (one pair each)."""

    def __init__(self, owner, reviewer, size: int = 700) -> None:
        self.cases, self.postings = _people(owner, size)
        self.reviewer = reviewer
        self.used = 0

    def candidate(self, *, distance: float, gap: float | None, outcome: str,
                  model_version: str = MODEL, status: str | None = None,
                  centring_version: int = 0) -> Candidate:
        """``outcome``: confirm, reject, dna_match, dna_no_match, needs_info, poor_photo, none."""
        case, posting = self.cases[self.used], self.postings[self.used]
        self.used += 1
        statuses = {"confirm": "confirmed", "reject": "rejected", "dna_match": "reunited",
                    "dna_no_match": "rejected", "needs_info": "needs_info",
                    "poor_photo": "rejected", "none": "pending"}
        candidate = Candidate.objects.create(
            case=case, seeker_posting=posting, best_distance=distance, score=0.5,
            age_gap_years=gap, model_version=model_version, centring_version=centring_version,
            status=status or statuses[outcome],
        )
        reviews = {
            "confirm": [("confirm", "")], "reject": [("reject", "different_person")],
            "dna_match": [("confirm", "")],
            "dna_no_match": [("confirm", ""), ("reject", "dna_no_match")],
            "needs_info": [("needs_info", "")], "poor_photo": [("reject", "poor_photo")],
            "none": [],
        }[outcome]
        for decision, reason in reviews:
            Review.objects.create(candidate=candidate, reviewer=self.reviewer,
                                  decision=decision, reason=reason)
        if outcome.startswith("dna_"):
            DnaTest.objects.create(candidate=candidate, status=DnaTest.Status.RESULT,
                                   result=outcome.removeprefix("dna_"),
                                   result_at=timezone.now())
        return candidate


def _structured_decisions(rows: Rows) -> dict[float, list[tuple[list[float], float]]]:
    """Writes the decisions of ``STRUCTURE``; returns, per band, each bin's distances and share."""
    rng = random.Random(2026)
    written: dict[float, list[tuple[list[float], float]]] = {}
    for gap, bins in STRUCTURE.items():
        written[gap] = []
        for low, high, share in bins:
            people = round(share * PER_BIN)
            distances = [rng.uniform(low, high) for _ in range(PER_BIN)]
            for index, distance in enumerate(distances):
                is_person = index < people
                # Half of each label settled by DNA, half by a volunteer alone.
                by_dna = index % 2 == 0
                outcome = ({True: "dna_match", False: "dna_no_match"} if by_dna
                           else {True: "confirm", False: "reject"})[is_person]
                rows.candidate(distance=distance, gap=gap, outcome=outcome)
            written[gap].append((distances, share))
    return written


@pytest.mark.django_db
def test_the_fit_recovers_set_chances_from_a_few_hundred_decisions(make_user, volunteer):
    rows = Rows(make_user(), volunteer)
    written = _structured_decisions(rows)
    # None of these may count: no label, or taken out of matching, or another face model.
    for distance in (0.15, 0.155, 0.158):
        rows.candidate(distance=distance, gap=3.0, outcome="needs_info")
        rows.candidate(distance=distance, gap=3.0, outcome="poor_photo")
        rows.candidate(distance=distance, gap=3.0, outcome="none")
        rows.candidate(distance=distance, gap=3.0, outcome="confirm", status="ended")
        rows.candidate(distance=distance, gap=3.0, outcome="confirm",
                       model_version="another-model")

    fitted = services.outcome_calibrations_refit(actor=volunteer)

    assert sorted(row.model_version for row in fitted) == ["another-model", MODEL]
    calibration = statistics.calibration_latest(model_version=MODEL, centring_version=0)
    labels = 2 * 4 * PER_BIN
    people = sum(round(share * PER_BIN) for bins in STRUCTURE.values() for *_, share in bins)
    assert (calibration.labels, calibration.positives) == (labels, people)
    fits = {fit["band"]: outcomes.BandFit.from_json(fit) for fit in calibration.bands}
    assert [fits[key].labels for key in outcomes.band_keys()] == [240, 0, 0, 240, 0]
    for gap, bins in written.items():
        fit = fits[outcomes.band_key(gap)]
        base_rate = fit.positives / fit.labels
        for distances, share in bins:
            mean = float(np.mean([fit.chance_at(d) for d in distances]))
            assert abs(mean - share) <= TOLERANCE, (gap, share, mean)
        # The tolerance tells the fit from a guess that ignores the distance.
        assert max(abs(base_rate - share) for _d, share in bins) > 3 * TOLERANCE
        curve = [fit.chance_at(d) for d in np.linspace(0, 0.2, 400)]
        assert all(a >= b - 1e-12 for a, b in itertools.pairwise(curve))
    # Written once, with its size and date, and audited; unchanged data writes nothing.
    entry = AuditEntry.objects.get(action="outcome_calibration.fitted",
                                   object_id=str(calibration.pk))
    assert entry.detail == {"model_version": MODEL, "centring_version": 0, "labels": labels,
                            "positives": people}
    assert services.outcome_calibrations_refit(actor=None) == []
    rows.candidate(distance=0.03, gap=25.0, outcome="reject")
    again = services.outcome_calibrations_refit(actor=None)
    assert [(row.model_version, row.labels) for row in again] == [(MODEL, labels + 1)]


# --- what the review page says --------------------------------------------------------


def _review_page(volunteer, candidate, language: str = "en") -> str:
    client = Client()
    client.force_login(volunteer)
    url = reverse("matching:review", kwargs={"reference": candidate.reference})
    if language != "en":
        url = f"/{language}{url}"
    response = client.get(url)
    assert response.status_code == 200
    return response.content.decode()


@pytest.mark.django_db
def test_the_review_page_says_how_often_candidates_like_this_were_the_person(
    make_user, volunteer, settings
):
    settings.OUTCOME_MIN_LABELS_PER_BAND = 20
    rows = Rows(make_user(), volunteer, size=60)
    for index in range(40):  # gap 0-5: the nearer half were all the person, the rest not
        rows.candidate(distance=0.02 + index * 0.002, gap=2.0,
                       outcome="confirm" if index < 20 else "reject")
    for index in range(5):  # gap 20+: only five labels
        rows.candidate(distance=0.05 + index * 0.01, gap=22.0, outcome="reject")
    near = rows.candidate(distance=0.03, gap=1.0, outcome="none")
    far = rows.candidate(distance=0.1, gap=4.0, outcome="none")
    cross_age = rows.candidate(distance=0.06, gap=30.0, outcome="none")
    unknown_gap = rows.candidate(distance=0.06, gap=None, outcome="none")
    new_model = rows.candidate(distance=0.03, gap=1.0, outcome="none", model_version="new")

    before = _review_page(volunteer, near)
    assert "No past reviews of candidates with this age gap and face model yet" in before

    services.outcome_calibrations_refit(actor=None)
    assert ("In past reviews, about 100 in 100 candidates like this (this face distance and "
            "age gap) were the person; based on 40 reviews.") in _review_page(volunteer, near)
    assert "about 0 in 100" in _review_page(volunteer, far)
    too_few = ("Too few past reviews of candidates with this age gap to say how often they "
               "were the person: 5 so far, 20 needed.")
    assert too_few in _review_page(volunteer, cross_age)
    assert "about" not in _review_page(volunteer, cross_age).split('id="chance"')[1][:300]
    assert "No past reviews" in _review_page(volunteer, unknown_gap)
    # A new face model starts uncalibrated: the old model's reviews say nothing of it.
    assert "No past reviews of candidates with this age gap and face model yet" in (
        _review_page(volunteer, new_model))

    # The setting decides: with a lower minimum, the five say something.
    settings.OUTCOME_MIN_LABELS_PER_BAND = 5
    assert "based on 5 reviews" in _review_page(volunteer, cross_age)
    # In Chinese too (last: the volunteer's language is remembered).
    assert "在以往的审核中，像这样的候选匹配" in _review_page(volunteer, near, "zh-hans")


@pytest.mark.django_db
def test_a_new_centring_starts_its_calibration_afresh(make_user, volunteer, settings):
    """Centring is part of the embedding's version: distances centred on new means read on
    another scale, so candidates found under a new centring never get the old one's fit."""
    settings.OUTCOME_MIN_LABELS_PER_BAND = 5
    rows = Rows(make_user(), volunteer, size=30)
    for index in range(10):
        rows.candidate(distance=0.02 + index * 0.01, gap=2.0,
                       outcome="confirm" if index < 5 else "reject")
    centring = Centring.objects.create(model_version=MODEL, means={}, counts={})
    plain = rows.candidate(distance=0.03, gap=2.0, outcome="none")
    centred = rows.candidate(distance=0.03, gap=2.0, outcome="none",
                             centring_version=centring.pk)

    fitted = services.outcome_calibrations_refit(actor=None)
    assert [(row.model_version, row.centring_version, row.labels) for row in fitted] == [
        (MODEL, 0, 10)]
    assert "based on 10 reviews" in _review_page(volunteer, plain)
    assert ("No past reviews of candidates with this age gap and face model yet"
            in _review_page(volunteer, centred))

    # The new centring's decisions make its own fit; the old centring's stays as it was.
    for index in range(6):
        rows.candidate(distance=0.02 + index * 0.01, gap=2.0,
                       outcome="confirm" if index < 3 else "reject",
                       centring_version=centring.pk)
    fitted = services.outcome_calibrations_refit(actor=None)
    assert [(row.model_version, row.centring_version, row.labels) for row in fitted] == [
        (MODEL, centring.pk, 6)]
    assert statistics.calibration_latest(model_version=MODEL, centring_version=0).labels == 10
    assert "based on 6 reviews" in _review_page(volunteer, centred)
    assert "based on 10 reviews" in _review_page(volunteer, plain)

    # The outcomes page offers each (model version, centring) with its own figures.
    client = Client()
    client.force_login(volunteer)
    page = client.get(reverse("matching:outcomes")).content.decode()
    assert f'value="{MODEL}#0"' in page and f'value="{MODEL}#{centring.pk}"' in page
    for key, labels in ((f"{MODEL}#0", 10), (f"{MODEL}#{centring.pk}", 6)):
        page = client.get(reverse("matching:outcomes"), {"version": key}).content.decode()
        assert f"from {labels} labelled candidates" in page, key


#: What changes between two renderings of one page without telling anything: tokens.
TOKENS = re.compile(r'(nonce|value)="[^"]*"')


def _figures(viewer, candidate) -> tuple[str, str]:
    """What a volunteer reads of the calibration: the review page's chance and the outcomes
    page (the calibration, its bands, the rules report, the face model versions)."""
    chance = _review_page(viewer, candidate).split('id="chance"')[1].split("</p>")[0]
    client = Client()
    client.force_login(viewer)
    report = client.get(reverse("matching:outcomes"))
    assert report.status_code == 200
    return chance, TOKENS.sub("", report.content.decode())


@pytest.mark.django_db
def test_a_decision_on_the_viewer_s_own_case_moves_no_figure_they_see(make_user, settings):
    settings.OUTCOME_MIN_LABELS_PER_BAND = 5
    reviewer = make_user(volunteer=True)
    others = Rows(make_user(), reviewer, size=12)
    for index in range(10):
        others.candidate(distance=0.02 + index * 0.01, gap=2.0,
                         outcome="confirm" if index < 5 else "reject")
    probe = others.candidate(distance=0.08, gap=2.0, outcome="none")
    family_volunteer = make_user(volunteer=True)
    own = Rows(family_volunteer, reviewer, size=3)  # the volunteer's own cases
    own.candidate(distance=0.09, gap=2.0, outcome="confirm")  # decided before: never counted
    pending = own.candidate(distance=0.09, gap=2.0, outcome="none")
    plain_volunteer = make_user(volunteer=True)
    services.outcome_calibrations_refit(actor=None)
    before = _figures(family_volunteer, probe)
    plain_before = _figures(plain_volunteer, probe)
    assert "based on 10 reviews" in before[0], before[0]
    assert "based on 11 reviews" in plain_before[0], "the stored fit counts every candidate"
    assert "from 10 labelled candidates" in before[1]

    # Their own candidate is confirmed, its DNA test says no, the calibration is refitted.
    Review.objects.create(candidate=pending, reviewer=reviewer, decision="confirm")
    Review.objects.create(candidate=pending, reviewer=reviewer, decision="reject",
                          reason=Review.Reason.DNA_NO_MATCH)
    DnaTest.objects.create(candidate=pending, status=DnaTest.Status.RESULT, result="no_match",
                           result_at=timezone.now())
    Candidate.objects.filter(pk=pending.pk).update(status=Candidate.Status.REJECTED)
    assert services.outcome_calibrations_refit(actor=None)

    assert _figures(family_volunteer, probe) == before
    # The same decision moves what a volunteer with nothing of their own sees: the test
    # would notice a viewer's figures fitted over every candidate.
    plain_after = _figures(plain_volunteer, probe)
    assert plain_after[0] != plain_before[0] and plain_after[1] != plain_before[1]
    assert "based on 12 reviews" in plain_after[0]


@pytest.mark.django_db(transaction=True)
def test_neither_side_ever_sees_the_chance(make_user, make_people, volunteer, settings,
                                          redis_queues):
    settings.OUTCOME_MIN_LABELS_PER_BAND = 1
    case, posting = make_people()
    candidate = builders.candidate(case=case, posting=posting, distance=0.05, age_gap_years=3)
    rows = Rows(make_user(), volunteer, size=3)
    rows.candidate(distance=0.04, gap=3.0, outcome="confirm", model_version="test")
    services.outcome_calibrations_refit(actor=None)
    assert "based on 1 review" in _review_page(volunteer, candidate)
    builders.confirm(candidate=candidate, volunteer=volunteer)
    for person in (case.family, posting.owner):
        client = Client()
        client.force_login(person)
        page = client.get(reverse("matching:match_detail", args=[candidate.reference]))
        assert page.status_code == 200
        assert "in 100" not in page.content.decode()
        assert "past reviews" not in page.content.decode()


# --- refitted by a job after each DNA result, by the workers' maintenance, by a command ---


@pytest.mark.django_db(transaction=True)
def test_a_dna_result_queues_a_refit_that_a_worker_runs(make_people, volunteer, run_worker,
                                                        redis_queues):
    case, posting = make_people()
    candidate = builders.candidate(case=case, posting=posting, distance=0.07, age_gap_years=25)
    builders.confirm(candidate=candidate, volunteer=volunteer)
    test = DnaTest.objects.get(candidate=candidate)
    services.dna_test_record_samples(actor=volunteer, dna_test=test)
    assert "refit-outcome-calibrations" not in redis_queues["match"].job_ids
    services.dna_test_record_result(actor=volunteer, dna_test=test, result="no_match")
    assert "refit-outcome-calibrations" in redis_queues["match"].job_ids
    assert not OutcomeCalibration.objects.exists()

    cache.set(REFIT_CLOCK_KEY, "now", timeout=60)  # the maintenance refit is not due
    run_worker(("match",))
    calibration = OutcomeCalibration.objects.get()
    assert (calibration.model_version, calibration.labels, calibration.positives) == (
        "test", 1, 0)
    job = django_rq.get_queue("match").fetch_job("refit-outcome-calibrations")
    assert job.return_value() == {"calibrations": [calibration.pk]}


@pytest.mark.django_db(transaction=True)  # the worker closes connections as between jobs
def test_the_workers_maintenance_refits_once_a_period(make_user, volunteer, redis_queues,
                                                      settings):
    settings.OUTCOME_REFIT_HOURS = 24
    cache.delete(REFIT_CLOCK_KEY)
    rows = Rows(make_user(), volunteer, size=3)
    rows.candidate(distance=0.05, gap=3.0, outcome="confirm")
    worker = PortalWorker([redis_queues["match"]], connection=django_rq.get_connection("match"))
    worker.run_maintenance_tasks()
    assert OutcomeCalibration.objects.get().labels == 1
    rows.candidate(distance=0.09, gap=3.0, outcome="reject")
    worker.run_maintenance_tasks()
    assert OutcomeCalibration.objects.count() == 1, "not due again within the period"
    assert cache.get(REFIT_CLOCK_KEY) is not None
    cache.delete(REFIT_CLOCK_KEY)  # the period is over
    worker.run_maintenance_tasks()
    assert OutcomeCalibration.objects.first().labels == 2


@pytest.mark.django_db
def test_calibrate_outcomes_command_refits_and_prints(make_user, volunteer, settings, capsys):
    settings.OUTCOME_MIN_LABELS_PER_BAND = 4
    rows = Rows(make_user(), volunteer, size=10)
    for index, outcome in enumerate(["confirm", "confirm", "dna_match", "reject", "reject"]):
        rows.candidate(distance=0.03 + 0.02 * index, gap=2.0, outcome=outcome)
    rows.candidate(distance=0.05, gap=12.0, outcome="confirm")
    call_command("calibrate_outcomes")
    out = capsys.readouterr().out
    assert f"Face model {MODEL}, centring 0: 6 labelled candidates, 4 the person; fitted" in out
    assert "(fitted now). Minimum per band: 4." in out
    lines = {line.split()[0]: line for line in out.splitlines()[2:]}
    # 0-5: the three nearest were the person, the two further not.
    # Two blocks (mean distances 0.05 and 0.10), linear between them.
    assert lines["0-5"].split()[1:] == ["5", "3", "100", "80", "40", "0", "0", "0"]
    assert "too few to say" in lines["10-20"]
    call_command("calibrate_outcomes", "--model-version", MODEL)
    assert "(unchanged)" in capsys.readouterr().out
    assert OutcomeCalibration.objects.count() == 1
