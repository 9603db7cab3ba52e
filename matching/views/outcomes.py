"""Learning from outcomes: the calibration fitted from decisions and DNA results, and the
candidate rules (``MATCH_*``) against the recorded outcomes.

Counts only, for volunteers and admins (404 for everyone else): an admin changes
the ``MATCH_*`` settings from this evidence (docs/REVIEW.md).
"""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from matching import candidate_rules, outcomes, statistics
from matching.views.common import volunteer_required


@volunteer_required
@require_GET
def outcomes_report(request: HttpRequest) -> HttpResponse:
    # One (face model version, centring) at a time: each has its own calibration.
    versions = statistics.versions(viewer=request.user)
    chosen = request.GET.get("version")
    version = next((item for item in versions if item.key == chosen),
                   versions[0] if versions else None)
    calibration = report = None
    if version is not None:
        key = {"model_version": version.model_version,
               "centring_version": version.centring_version}
        calibration = statistics.calibration_for(**key, viewer=request.user)
        report = candidate_rules.rules_report(
            statistics.candidate_outcomes(**key, viewer=request.user),
            statistics.ranking_parameters_of(version.centring_version),
        )
    return render(request, "matching/outcomes.html", {
        "versions": versions,
        "version": version,
        "calibration": calibration,
        "summary": statistics.calibration_summary(calibration) if calibration else [],
        "grid": outcomes.CHANCE_GRID,
        "needed": settings.OUTCOME_MIN_LABELS_PER_BAND,
        "report": report,
    })
