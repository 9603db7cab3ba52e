"""The candidate rules against the recorded outcomes: what each rule would have missed or spared.

For each age-gap band, a rule (the loose distance for the gap and the top-few cut
of ``matching.ranking``) is judged on the labelled candidates: a candidate found
to be the person that falls outside the rule is a match the rule would have
*missed*; one found not to be the person outside it is a candidate it would have
*spared* the volunteers. Pure: the candidates come from ``matching.statistics``.

What this can't count: pairs outside the rule in force when they were compared
were never recorded, so a looser rule's extra candidates (and the matches among
them) are unknown; only its misses and savings among recorded candidates show.
Ranks are counted among the recorded candidates of the same case or posting
(people near but never candidates are not recorded), so a rank here is at most
the true rank and a tighter top-few cut misses *at least* what is shown.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, replace

from matching import outcomes, ranking

#: Shifts of every loose distance (base and maximum) tried besides the rule in force.
DISTANCE_SHIFTS = (-0.02, -0.01, 0.01, 0.02)


@dataclass(frozen=True)
class Rule:
    """A candidate rule: the parameters, and how it differs from the one in force."""

    kind: str  # "current", "distance" (loose distances shifted) or "top_k" (a tighter cut)
    params: ranking.RankingParameters
    shift: float = 0.0

    def keeps(self, candidate: outcomes.RecordedCandidate, recorded_rank: int) -> bool:
        threshold = ranking.candidate_threshold(candidate.age_gap_years, self.params)
        return candidate.distance <= threshold and recorded_rank <= self.params.top_k


def rules_to_compare(params: ranking.RankingParameters) -> list[Rule]:
    """The rule in force, its loose distances shifted both ways, and tighter top-few cuts."""
    rules = [Rule("current", params)]
    for shift in DISTANCE_SHIFTS:
        rules.append(Rule("distance", replace(
            params, distance_base=round(params.distance_base + shift, 4),
            distance_max=round(params.distance_max + shift, 4),
        ), shift=shift))
    for top_k in sorted({1, (params.top_k + 1) // 2}, reverse=True):
        if top_k < params.top_k:
            rules.append(Rule("top_k", replace(params, top_k=top_k)))
    return rules


def recorded_ranks(candidates: Sequence[outcomes.RecordedCandidate]) -> dict[int, int]:
    """Candidate id → its better rank among the recorded candidates of its case or posting."""
    by_case: dict[int, list[float]] = defaultdict(list)
    by_posting: dict[int, list[float]] = defaultdict(list)
    for candidate in candidates:
        by_case[candidate.case_id].append(candidate.distance)
        by_posting[candidate.seeker_posting_id].append(candidate.distance)
    return {
        candidate.candidate_id: min(
            ranking.rank_of(candidate.distance, by_case[candidate.case_id]),
            ranking.rank_of(candidate.distance, by_posting[candidate.seeker_posting_id]),
        )
        for candidate in candidates
    }


@dataclass(frozen=True)
class RuleCount:
    rule: Rule
    #: Candidates found to be the person that the rule would not have made candidates.
    missed: int
    #: Candidates found not to be the person that the rule would have spared the volunteers.
    spared: int


@dataclass(frozen=True)
class BandRules:
    band: str
    people: int  # labelled: the person
    strangers: int  # labelled: not the person
    counts: list[RuleCount]


@dataclass(frozen=True)
class RulesReport:
    params: ranking.RankingParameters
    rules: list[Rule]
    bands: list[BandRules]  # every band with labelled candidates, then "all" (if any)
    unlabelled: int


def rules_report(
    candidates: Sequence[outcomes.RecordedCandidate], params: ranking.RankingParameters
) -> RulesReport:
    """Per age-gap band and overall: each rule's misses and savings among labelled candidates."""
    rules = rules_to_compare(params)
    ranks = recorded_ranks(candidates)
    labelled = [c for c in candidates if c.is_person is not None]
    groups: dict[str, list[outcomes.RecordedCandidate]] = {key: [] for key in outcomes.band_keys()}
    for candidate in labelled:
        groups[outcomes.band_key(candidate.age_gap_years)].append(candidate)
    groups = {key: rows for key, rows in groups.items() if rows}
    if labelled:
        groups["all"] = labelled

    def band(key: str, rows: list[outcomes.RecordedCandidate]) -> BandRules:
        counts = []
        for rule in rules:
            outside = [c for c in rows if not rule.keeps(c, ranks[c.candidate_id])]
            counts.append(RuleCount(
                rule=rule, missed=sum(1 for c in outside if c.is_person),
                spared=sum(1 for c in outside if not c.is_person),
            ))
        people = sum(1 for c in rows if c.is_person)
        return BandRules(band=key, people=people, strangers=len(rows) - people, counts=counts)

    return RulesReport(
        params=params, rules=rules, bands=[band(key, rows) for key, rows in groups.items()],
        unlabelled=len(candidates) - len(labelled),
    )
