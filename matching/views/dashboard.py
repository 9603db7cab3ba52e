"""The volunteers' dashboard: how the work is going, as charts drawn by the server.

Counts only, never people (``matching.statistics``), but for the latest reunions:
the case's number, province and date, linked to its page (public, saying the child
was found, unless the family took it down). Volunteers and admins only, 404 for
everyone else. Each chart comes with its numbers as a table.
"""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from matching import charts, statistics
from matching.selectors.matches import recent_reunions, reunions_count
from matching.views.common import volunteer_required

#: The three outcomes of a candidate, in the order the stacked bars show them.
OUTCOME_KEYS = ("person", "not-person", "no-answer")


@volunteer_required
@require_GET
def dashboard(request: HttpRequest) -> HttpResponse:
    figures = statistics.dashboard_figures(viewer=request.user)
    monthly = [
        {"series": series, "chart": charts.column_chart(figures.months, series.counts)}
        for series in figures.series
    ]
    score_rows = [(band.label, (band.person, band.not_person, band.no_answer))
                  for band in figures.score_bands]
    return render(request, "matching/dashboard.html", {
        "figures": figures,
        "monthly": monthly,
        "backlog_chart": charts.bar_chart(figures.backlog),
        "first_decision_chart": charts.bar_chart(figures.first_decision_waits),
        "score_chart": charts.stacked_bar_chart(score_rows, OUTCOME_KEYS),
        "province_chart": charts.bar_chart(figures.provinces),
        "reunions": recent_reunions(),
        "reunions_total": reunions_count(),
    })
