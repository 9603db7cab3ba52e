"""``manage.py candidate_rules_report``: the candidate rules against the recorded outcomes.

Per age-gap band, how many candidates found to be the person each rule (the one
in force from ``MATCH_*``, its loose distances shifted, smaller top-few cuts)
would have missed, and how many found not to be the person it would have spared
the volunteers (``matching.candidate_rules``, which says what cannot be counted).
The same report is the page ``matching:outcomes``.
"""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError, CommandParser

from matching import candidate_rules, ranking, statistics


def describe(rule: candidate_rules.Rule) -> str:
    params = rule.params
    if rule.kind == "current":
        return "in force"
    if rule.kind == "distance":
        return f"loose distance {params.distance_base:g} to {params.distance_max:g}"
    return f"top {params.top_k} only (at least)"


class Command(BaseCommand):
    help = "Compare the candidate rules (MATCH_* settings) with the recorded outcomes."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--model-version", default=None,
                            help="Face model version (default: the most recently active).")

    def handle(self, *args: object, **options: object) -> None:
        versions = statistics.model_versions()
        version = options["model_version"] or (versions[0] if versions else None)
        if version is None:
            self.stdout.write("No candidates yet: nothing to compare.")
            return
        if version not in versions:
            raise CommandError(f"No candidates of face model {version}.")
        params = ranking.RankingParameters.from_settings()
        report = candidate_rules.rules_report(
            statistics.candidate_outcomes(model_version=version), params
        )
        self.stdout.write(
            f"Face model {version}. In force: MATCH_DISTANCE_BASE={params.distance_base:g} "
            f"MATCH_DISTANCE_PER_YEAR={params.distance_per_year:g} "
            f"MATCH_DISTANCE_MAX={params.distance_max:g} MATCH_TOP_K={params.top_k}. "
            f"Candidates without a label yet: {report.unlabelled}."
        )
        if not report.bands:
            self.stdout.write("No candidate has a label yet.")
        for band in report.bands:
            title = "every age gap" if band.band == "all" else f"age gap {band.band} years"
            self.stdout.write(
                f"\n{title}: {band.people} the person, {band.strangers} not"
            )
            self.stdout.write(f"  {'rule':<36}{'missed':>8}{'spared':>8}")
            for count in band.counts:
                self.stdout.write(
                    f"  {describe(count.rule):<36}{count.missed:>8}{count.spared:>8}"
                )
