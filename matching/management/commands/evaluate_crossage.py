"""``manage.py evaluate_crossage --faces DIR --labels CSV [--json PATH]``.

Every young photo of a labelled folder searches all adult people with the
code the workers run; prints rank-1/10/50 and the median rank of the true
person for plain matching and each improvement (``matching.crossage``), and
the pair distances by age gap that the ranking's age-gap parameters are
calibrated from; then one row per pipeline (Dlib through DeepFace as before, Dlib on
its chip, SFace, their fusion), each plain, centred on the folder's own age-group
means, and centred with hubness reduction (CSLS, each photo's r from the folder's
photos of the other group) (``--no-pipelines`` skips it).

Embeddings are cached by photo (sha256 of the bytes) and model version under the data
folder's ``cache/embeddings`` (``--cache-dir``), so a rerun with other ranking parameters
(``--distance-base``, ``--distance-per-year``, ``--distance-max``, ``--top-k``) takes
seconds; ``--no-cache`` embeds every photo again.
"""

from __future__ import annotations

import dataclasses
import json
import time
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError, CommandParser

from matching import ranking
from matching.crossage.embedding import (
    ASSUMED_ADULT_AGE,
    ASSUMED_YOUNG_AGE,
    add_cache_arguments,
    cache_from_options,
)
from matching.crossage.evaluation import evaluate
from matching.crossage.report import format_report


class Command(BaseCommand):
    help = "Measure cross-age matching on a labelled folder of photos (young searches adult)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--faces", required=True, type=Path, help="Folder of photos.")
        parser.add_argument(
            "--labels", required=True, type=Path,
            help="CSV with columns file, identity, and age and/or age_group (young/adult).",
        )
        parser.add_argument("--json", type=Path, help="Also write the report as JSON here.")
        parser.add_argument(
            "--no-age-progression", action="store_true",
            help="Skip the rows that use Reunion's age-progressed estimates.",
        )
        parser.add_argument(
            "--young-age", type=float,
            help="Age of the young photos for age progression (default: the labelled age, "
                 f"else {ASSUMED_YOUNG_AGE:g}).",
        )
        parser.add_argument(
            "--no-pipelines", action="store_true",
            help="Skip the table of one row per pipeline (Dlib through DeepFace, Dlib chip, "
                 "SFace, fusion; plain, centred and centred with CSLS).",
        )
        add_cache_arguments(parser)
        for name, help_text in (
            ("distance-base", "MATCH_DISTANCE_BASE"),
            ("distance-per-year", "MATCH_DISTANCE_PER_YEAR"),
            ("distance-max", "MATCH_DISTANCE_MAX"),
        ):
            parser.add_argument(
                f"--{name}", type=float, help=f"Rank with this instead of {help_text}."
            )
        parser.add_argument("--top-k", type=int, help="Rank with this instead of MATCH_TOP_K.")
        parser.add_argument(
            "--adult-age", type=float,
            help="Target age of the estimates (default: median labelled adult age, "
                 f"else {ASSUMED_ADULT_AGE:g}).",
        )

    def handle(self, *args: object, **options: object) -> None:
        faces_dir, labels = Path(options["faces"]), Path(options["labels"])
        out_json = Path(options["json"]) if options["json"] else None
        if not faces_dir.is_dir():
            raise CommandError(f"No folder {faces_dir}.")
        if not labels.is_file():
            raise CommandError(f"No labels file {labels}.")
        verbose = int(options["verbosity"]) > 1
        cache = cache_from_options(options)
        params = ranking.RankingParameters.from_settings()
        params = dataclasses.replace(params, **{
            name: options[name]
            for name in ("distance_base", "distance_per_year", "distance_max", "top_k")
            if options[name] is not None
        })
        started = time.perf_counter()
        try:
            report = evaluate(
                faces_dir, labels,
                with_progression=not options["no_age_progression"],
                young_age=options["young_age"], adult_age=options["adult_age"],
                progress=(lambda line: self.stderr.write(line)) if verbose else None,
                cache=cache, params=params, with_pipelines=not options["no_pipelines"],
            )
        except (ValueError, FileNotFoundError) as error:
            raise CommandError(str(error)) from error
        if cache is not None:
            self.stderr.write(
                f"{cache.hits} embeddings read from the cache, {cache.misses} computed "
                f"({cache.folder}); {time.perf_counter() - started:.1f} s"
            )
        self.stdout.write(format_report(report))
        if out_json is not None:
            out_json.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
            self.stdout.write(f"\nwritten {out_json}")
