"""``manage.py candidate_rules_report``: the candidate rules against the recorded outcomes.

Per age-gap band, how many candidates found to be the person each rule (the one
in force from ``MATCH_*``, its loose distances shifted, smaller top-few cuts)
would have missed, and how many found not to be the person it would have spared
the volunteers (``matching.candidate_rules``, which says what cannot be counted).
The same report is the page ``matching:outcomes``.
"""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError, CommandParser

from matching import candidate_rules, statistics


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
        parser.add_argument("--centring-version", type=int, default=None,
                            help="Centring (default: the model version's most recently "
                                 "active).")

    def handle(self, *args: object, **options: object) -> None:
        wanted = options["model_version"]
        centring = options["centring_version"]
        versions = statistics.versions()
        if not versions:
            self.stdout.write("No candidates yet: nothing to compare.")
            return
        matching = [item for item in versions if wanted in (None, item.model_version)
                    and centring in (None, item.centring_version)]
        if not matching:
            raise CommandError(f"No candidates of face model {wanted}, centring {centring}.")
        version = matching[0]
        params = statistics.ranking_parameters_of(version.centring_version)
        report = candidate_rules.rules_report(
            statistics.candidate_outcomes(model_version=version.model_version,
                                          centring_version=version.centring_version),
            params,
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
