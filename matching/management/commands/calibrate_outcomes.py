"""``manage.py calibrate_outcomes``: fit again how often candidates were the person.

The workers refit after each DNA result and every ``OUTCOME_REFIT_HOURS``; this
does it now and prints, per face model version and centring and per age-gap band, the number of
labelled candidates and the fitted chance at a few face distances
(``matching.outcomes``; docs/REVIEW.md, "Learning from outcomes").
"""

from __future__ import annotations

from django.conf import settings
from django.core.management.base import BaseCommand, CommandParser

from matching import outcomes, statistics
from matching.services import outcome_calibrations_refit


class Command(BaseCommand):
    help = "Refit the outcome calibration from decisions and DNA results, and print it."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--model-version", default=None,
                            help="Only this face model version (default: every one).")
        parser.add_argument("--centring-version", type=int, default=None,
                            help="Only this centring (default: every one).")

    def handle(self, *args: object, **options: object) -> None:
        model_version = options["model_version"]
        centring_version = options["centring_version"]
        written = {(row.model_version, row.centring_version) for row in
                   outcome_calibrations_refit(actor=None, model_version=model_version,
                                              centring_version=centring_version)}
        versions = [
            version for version in statistics.versions()
            if model_version in (None, version.model_version)
            and centring_version in (None, version.centring_version)
        ]
        if not versions:
            self.stdout.write("No candidates yet: nothing to calibrate.")
        for item in versions:
            key = (item.model_version, item.centring_version)
            calibration = statistics.calibration_latest(
                model_version=item.model_version, centring_version=item.centring_version)
            if calibration is None:
                self.stdout.write(f"Face model {item}: no labelled candidates, uncalibrated.")
                continue
            state = "fitted now" if key in written else "unchanged"
            self.stdout.write(
                f"Face model {item}: {calibration.labels} labelled candidates, "
                f"{calibration.positives} the person; fitted "
                f"{calibration.fitted_at:%Y-%m-%d %H:%M} ({state}). "
                f"Minimum per band: {settings.OUTCOME_MIN_LABELS_PER_BAND}."
            )
            grid = "  ".join(f"{distance:.2f}" for distance in outcomes.CHANCE_GRID)
            self.stdout.write(f"  {'age gap':<10}{'labels':>7}{'person':>7}   per 100 at {grid}")
            for band in statistics.calibration_summary(calibration):
                chances = ("  ".join(f"{value:>4}" for value in band.per_hundred)
                           if band.enough else "too few to say")
                self.stdout.write(
                    f"  {band.band:<10}{band.labels:>7}{band.positives:>7}   "
                    f"{'':11}{chances}"
                )
