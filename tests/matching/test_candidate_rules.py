"""The candidate rules against the recorded outcomes: the report's counts, its command, its page."""

from __future__ import annotations

import pytest
from django.core.management import call_command
from django.test import Client
from django.urls import reverse

from matching import candidate_rules, ranking
from matching.outcomes import RecordedCandidate
from tests.matching.test_outcomes import MODEL, Rows

PARAMS = ranking.RankingParameters(distance_base=0.09, distance_per_year=0.002,
                                   distance_max=0.14, top_k=5)

#: At a 5-year gap the loose distance in force is 0.10; shifted: 0.08, 0.09, 0.11, 0.12.
PEOPLE = (0.05, 0.085, 0.095, 0.115)  # the last recorded under a looser rule than today's
STRANGERS = (0.06, 0.092, 0.099, 0.125)
#: Rule → (missed, spared) among the above.
EXPECTED = {
    ("current", 0.0): (1, 1),
    ("distance", -0.02): (3, 3),
    ("distance", -0.01): (2, 3),
    ("distance", 0.01): (1, 1),
    ("distance", 0.02): (0, 1),
    # Each pair alone in its case and posting (rank 1): the loose distance in force decides.
    ("top_k", 0.0): (1, 1),
}


def _recorded(pk: int, distance: float, is_person: bool | None, *, gap: float | None = 5.0,
              case: int | None = None, posting: int | None = None) -> RecordedCandidate:
    return RecordedCandidate(candidate_id=pk, case_id=case or pk, seeker_posting_id=posting or pk,
                             distance=distance, age_gap_years=gap, score=0.0,
                             is_person=is_person)


def test_each_rule_counts_what_it_would_have_missed_and_spared():
    rows = [_recorded(i, d, True) for i, d in enumerate(PEOPLE, 1)]
    rows += [_recorded(10 + i, d, False) for i, d in enumerate(STRANGERS, 1)]
    rows += [_recorded(30, 0.2, None), _recorded(31, 0.05, True, gap=30.0)]
    report = candidate_rules.rules_report(rows, PARAMS)
    assert [(r.kind, r.shift, r.params.top_k) for r in report.rules] == [
        ("current", 0.0, 5), ("distance", -0.02, 5), ("distance", -0.01, 5),
        ("distance", 0.01, 5), ("distance", 0.02, 5), ("top_k", 0.0, 3), ("top_k", 0.0, 1)]
    assert report.unlabelled == 1
    assert [band.band for band in report.bands] == ["5-10", "20+", "all"]
    five = report.bands[0]
    assert (five.people, five.strangers) == (4, 4)
    found = {(c.rule.kind, c.rule.shift, c.rule.params.top_k): (c.missed, c.spared)
             for c in five.counts}
    for (kind, shift), counts in EXPECTED.items():
        for key, value in found.items():
            if key[:2] == (kind, shift):
                assert value == counts, (key, value, counts)
    # The 20+ pair at 0.05 is within every rule; "all" adds the bands up.
    assert all((c.missed, c.spared) == (0, 0) for c in report.bands[1].counts)
    assert [(c.missed, c.spared) for c in report.bands[2].counts] == [
        (c.missed, c.spared) for c in five.counts]


def test_a_tighter_top_few_misses_a_person_ranked_behind_closer_strangers():
    # Case 1 has three strangers closer than the person, and so has posting 1.
    rows = [_recorded(1, 0.08, True, case=1, posting=1)]
    rows += [_recorded(10 + i, 0.05 + i * 0.005, False, case=1, posting=20 + i) for i in range(3)]
    rows += [_recorded(30 + i, 0.05 + i * 0.005, False, case=40 + i, posting=1) for i in range(3)]
    assert candidate_rules.recorded_ranks(rows)[1] == 4
    counts = {c.rule.params.top_k: (c.missed, c.spared)
              for c in candidate_rules.rules_report(rows, PARAMS).bands[-1].counts
              if c.rule.kind == "top_k"}
    # Top 3 misses the person (4th for both); every stranger is 1st for its own case or
    # posting, so even top 1 keeps them all.
    assert counts == {3: (1, 0), 1: (1, 0)}


@pytest.fixture
def recorded(make_user):
    """The rows of ``test_each_rule_counts...`` as real candidates, reviews and DNA tests."""
    volunteer = make_user(volunteer=True)
    rows = Rows(make_user(), volunteer, size=20)
    for index, distance in enumerate(PEOPLE):
        rows.candidate(distance=distance, gap=5.0,
                       outcome="dna_match" if index % 2 else "confirm")
    for index, distance in enumerate(STRANGERS):
        rows.candidate(distance=distance, gap=5.0,
                       outcome="dna_no_match" if index % 2 else "reject")
    rows.candidate(distance=0.03, gap=5.0, outcome="needs_info")
    rows.candidate(distance=0.03, gap=5.0, outcome="confirm", status="ended")
    return volunteer


@pytest.mark.django_db
def test_the_report_command_prints_each_band_and_rule(recorded, capsys, settings):
    settings.MATCH_DISTANCE_BASE, settings.MATCH_DISTANCE_PER_YEAR = 0.09, 0.002
    settings.MATCH_DISTANCE_MAX, settings.MATCH_TOP_K = 0.14, 5
    call_command("candidate_rules_report")
    out = capsys.readouterr().out
    assert (f"Face model {MODEL}, centring 0. In force: MATCH_DISTANCE_BASE=0.09 "
            "MATCH_DISTANCE_PER_YEAR=0.002 MATCH_DISTANCE_MAX=0.14 MATCH_TOP_K=5. "
            "Candidates without a label yet: 1.") in out
    assert "age gap 5-10 years: 4 the person, 4 not" in out
    lines = [line.split() for line in out.splitlines()]
    assert ["in", "force", "1", "1"] in lines
    assert ["loose", "distance", "0.07", "to", "0.12", "3", "3"] in lines
    assert ["loose", "distance", "0.08", "to", "0.13", "2", "3"] in lines
    assert ["loose", "distance", "0.11", "to", "0.16", "0", "1"] in lines
    assert ["top", "3", "only", "(at", "least)", "1", "1"] in lines


@pytest.mark.django_db
def test_the_outcomes_page_shows_the_report_and_the_calibration(recorded, settings):
    settings.MATCH_DISTANCE_BASE, settings.MATCH_DISTANCE_PER_YEAR = 0.09, 0.002
    settings.MATCH_DISTANCE_MAX, settings.MATCH_TOP_K = 0.14, 5
    settings.OUTCOME_MIN_LABELS_PER_BAND = 8
    call_command("calibrate_outcomes")
    client = Client()
    client.force_login(recorded)
    page = client.get(reverse("matching:outcomes")).content.decode()
    assert "fitted on" in page and "from 8 labelled candidates, 4 of them the person" in page
    assert "<caption>Age gap 5-10 years:" in page
    assert "loose distance 0.07 to 0.12</th>\n        <td>3</td>\n        <td>3</td>" in page
    assert "1 candidate has no label yet." in page
    chinese = client.get("/zh-hans" + reverse("matching:outcomes")).content.decode()
    assert "候选规则与实际结果的对照" in chinese and "年龄差 5-10 岁" in chinese
