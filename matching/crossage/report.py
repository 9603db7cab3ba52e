"""The evaluation's reports as plain text."""

from __future__ import annotations

from django.conf import settings


def format_report(report: dict) -> str:
    """The report as plain text: the rank table, then the distances."""
    def pct(value: float | None) -> str:
        return "-" if value is None else f"{100 * value:5.1f}%"

    lines = [
        f"{report['photos']} photos, {report['young_photos']} young; "
        f"{report['adult_people']} adult people to search; no face in: "
        f"{', '.join(report['no_face']) or 'none'}",
        "",
        f"{'method':<26} {'queries':>7} {'rank-1':>7} {'rank-10':>7} {'rank-50':>7} "
        f"{'median':>7} {'wrong':>6}",
    ]
    for row in report["table"]:
        median = "-" if row["median_rank"] is None else f"{row['median_rank']:g}"
        wrong = row["wrong_within_threshold"]
        lines.append(
            f"{row['method']:<26} {row['queries']:>7} {pct(row['rank1']):>7} "
            f"{pct(row['rank10']):>7} {pct(row['rank50']):>7} {median:>7} "
            f"{'-' if wrong is None else format(wrong, '.2f'):>6}"
        )
    lines.append(
        "(wrong: wrong people per query within the loose distance for the age gap, "
        "before the top-few cut)"
    )
    progression = report["age_progression"]
    if progression:
        from_age = progression["from_age"]
        lines.append(
            "(age progression from "
            + ("each photo's labelled age" if from_age is None else f"age {from_age:g}")
            + f" to {progression['to_age']:g}; {progression['estimates_made']} estimates made)"
        )
    distances = report["distances"]
    lines += ["", "cosine distance of young × adult pairs   pairs    p10  median    p90"]
    names = ("true_pairs", "false_pairs", "estimate_true_pairs", "estimate_false_pairs")
    for name in (n for n in names if n in distances):
        stats = distances[name]
        lines.append(
            f"  {name.replace('_', ' '):<37} {stats['pairs']:>6} "
            + " ".join(f"{'-' if stats[k] is None else format(stats[k], '.4f'):>6}"
                       for k in ("p10", "median", "p90"))
        )
    for bucket in distances["by_age_gap"]:
        for name in ("true_pairs", "false_pairs"):
            stats = bucket[name]
            lines.append(
                f"  gap {bucket['gap_years']:>5} y, {name.replace('_', ' '):<24} "
                f"{stats['pairs']:>6} "
                + " ".join(f"{'-' if stats[k] is None else format(stats[k], '.4f'):>6}"
                           for k in ("p10", "median", "p90"))
            )
    suggestion = distances.get("suggested_parameters")
    if suggestion:
        lines.append(
            "  suggested (keeps 90% of true pairs at each gap): "
            f"MATCH_DISTANCE_BASE={suggestion['distance_base']} "
            f"MATCH_DISTANCE_PER_YEAR={suggestion['distance_per_year']} "
            f"MATCH_DISTANCE_MAX={suggestion['distance_max']}"
        )
    lines += ["", "accepted at threshold          true pairs  false pairs"]
    for row in distances["accepted"]:
        lines.append(
            f"  {row['threshold']!s:<28} {pct(row['true_pairs']):>10} {pct(row['false_pairs']):>12}"
        )
    if report.get("pipelines"):
        lines += ["", format_pipelines(report["pipelines"])]
    return "\n".join(lines)


def _row_name(row: dict) -> str:
    """``sface``, ``sface centred``, ``sface centred +CSLS``."""
    return (row["pipeline"] + (" centred" if row["centred"] else "")
            + (" +CSLS" if row.get("csls") else ""))


def format_pipelines(rows: list[dict]) -> str:
    """The pipelines' table as plain text."""
    def pct(value: float | None) -> str:
        return "-" if value is None else f"{100 * value:5.1f}%"

    lines = [f"{'pipeline':<28} {'queries':>7} {'rank-1':>7} {'rank-10':>7} {'rank-50':>7} "
             f"{'median':>7}"]
    for row in rows:
        name = _row_name(row)
        if row.get("note"):
            lines.append(f"{name:<28} {row['note']}")
            continue
        median = "-" if row["median_rank"] is None else f"{row['median_rank']:g}"
        lines.append(f"{name:<28} {row['queries']:>7} {pct(row['rank1']):>7} "
                     f"{pct(row['rank10']):>7} {pct(row['rank50']):>7} {median:>7}")
    lines.append("(each young photo alone against every adult person; centred: each age "
                 "group's embeddings minus that group's mean in this folder, normalised; "
                 f"+CSLS: hubness reduction, each photo's r over its {settings.MATCH_CSLS_K} "
                 "nearest photos of the other group in this folder)")
    return "\n".join(lines)


def format_threshold_pipelines(rows: list[dict]) -> str:
    lines = [f"{'pipeline':<28} {'best accuracy':>13} {'from threshold':>15}"]
    for row in rows:
        name = _row_name(row)
        if row.get("note"):
            lines.append(f"{name:<28} {row['note']}")
        else:
            threshold = "-" if row["threshold"] is None else f"{row['threshold']:.4f}"
            lines.append(f"{name:<28} {100 * row['accuracy']:12.2f}% {threshold:>15}")
    lines.append("(fusion: z-scores, not a cosine distance; centred: minus the mean of the "
                 "folder's photos, normalised; +CSLS: a CSLS distance, each photo's r over "
                 f"its {settings.MATCH_CSLS_K} nearest other photos of the folder)")
    return "\n".join(lines)
