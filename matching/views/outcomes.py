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

from matching import candidate_rules, outcomes, ranking, statistics
from matching.views.common import volunteer_required


@volunteer_required
@require_GET
def outcomes_report(request: HttpRequest) -> HttpResponse:
    versions = statistics.model_versions(viewer=request.user)
    version = request.GET.get("model_version")
    if version not in versions:
        version = versions[0] if versions else None
    calibration = (statistics.calibration_for(model_version=version, viewer=request.user)
                   if version is not None else None)
    report = None
    if version is not None:
        report = candidate_rules.rules_report(
            statistics.candidate_outcomes(model_version=version, viewer=request.user),
            ranking.RankingParameters.from_settings(),
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
