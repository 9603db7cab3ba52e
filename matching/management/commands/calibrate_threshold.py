"""``manage.py calibrate_threshold --faces DIR --pairs CSV``: accuracy across thresholds.

Every photo is normalised as an upload would be (``families.images``) and
run through the workers' own code (``matching.faces.detect_and_embed``);
a photo with several faces contributes its largest face, as a person picking
it would. For each threshold it prints the accuracy, the false-match rate
(different people accepted) and the false-non-match rate (the same person
rejected). The same-age threshold (``MATCH_SAME_AGE_THRESHOLD``) and the
candidate distances (``MATCH_DISTANCE_*``) are chosen from this table; see
docs/MATCHING.md. Embeddings are cached by photo and model version as
``evaluate_crossage`` caches them (``--cache-dir``, ``--no-cache``). Then one row per
pipeline (Dlib through DeepFace as before, Dlib on its chip, SFace, their fusion), plain,
centred and centred with CSLS, with its best accuracy (``--no-pipelines`` skips it).
"""

from __future__ import annotations

import csv
import io
from pathlib import Path

import numpy as np
from django.core.management.base import BaseCommand, CommandError, CommandParser
from tqdm import tqdm

from families.uploads import normalise_photo
from matching import faces
from matching.crossage.distances import threshold_pipelines
from matching.crossage.embedding import add_cache_arguments, cache_from_options, embed_models
from matching.crossage.labels import ADULT, LabelledPhoto
from matching.crossage.report import format_threshold_pipelines
from matching.faces import detect_and_embed


def rates(distances: np.ndarray, same: np.ndarray, threshold: float) -> tuple[float, float, float]:
    """Accuracy, false-match rate and false-non-match rate at ``threshold`` (NaN: no face)."""
    accepted = np.nan_to_num(distances, nan=np.inf) <= threshold
    accuracy = float(np.mean(accepted == same))
    false_match = float(np.mean(accepted[~same])) if (~same).any() else 0.0
    false_non_match = float(np.mean(~accepted[same])) if same.any() else 0.0
    return accuracy, false_match, false_non_match


def rates_at(
    distances: np.ndarray, same: np.ndarray, thresholds: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``rates`` at every threshold at once: arrays of accuracy, false match, false non-match."""
    accepted = np.nan_to_num(distances, nan=np.inf)[None, :] <= thresholds[:, None]
    accuracy = np.mean(accepted == same[None, :], axis=1)
    false_match = (
        np.mean(accepted[:, ~same], axis=1) if (~same).any() else np.zeros(len(thresholds))
    )
    false_non_match = (
        np.mean(~accepted[:, same], axis=1) if same.any() else np.zeros(len(thresholds))
    )
    return accuracy, false_match, false_non_match


def embed(data: bytes) -> np.ndarray | None:
    """The largest face of the photo stored as an upload would be (``None``: no face)."""
    stored = normalise_photo(data).content
    _detected, vectors = detect_and_embed(
        faces.get_engine(), io.BytesIO(stored), pick_largest=True
    )
    return None if vectors is None else vectors.sface


def pair_distances(vectors: dict[str, np.ndarray | None], rows: list[dict]) -> np.ndarray:
    """``faces.cosine_distance`` of each pair (NaN when a photo has no face)."""
    return np.array([
        np.nan if vectors[r["file_a"]] is None or vectors[r["file_b"]] is None
        else faces.cosine_distance(vectors[r["file_a"]], vectors[r["file_b"]])
        for r in rows
    ])


class Command(BaseCommand):
    help = "Print accuracy, false-match and false-non-match rates across distance thresholds."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--faces", required=True, type=Path, help="folder of the photos")
        parser.add_argument(
            "--pairs", required=True, type=Path,
            help="CSV with columns file_a,file_b,same_person (yes/no)",
        )
        parser.add_argument("--start", type=float, default=0.03)
        parser.add_argument("--stop", type=float, default=0.16)
        parser.add_argument("--step", type=float, default=0.005)
        parser.add_argument(
            "--no-pipelines", action="store_true",
            help="Skip the table of one row per pipeline (Dlib through DeepFace, Dlib chip, "
                 "SFace, fusion; plain, centred and centred with CSLS).",
        )
        add_cache_arguments(parser)

    def handle(self, *args: object, **options: object) -> None:
        folder, pairs_file = Path(options["faces"]), Path(options["pairs"])
        if not pairs_file.is_file():
            raise CommandError(f"No pairs file at {pairs_file}")
        with open(pairs_file, newline="") as handle:
            rows = list(csv.DictReader(handle))
        if not rows or not {"file_a", "file_b", "same_person"} <= set(rows[0]):
            raise CommandError("The pairs file needs the columns file_a,file_b,same_person.")
        names = sorted({row["file_a"] for row in rows} | {row["file_b"] for row in rows})
        missing = [name for name in names if not (folder / name).is_file()]
        if missing:
            raise CommandError(f"Photos missing from {folder}: {', '.join(missing[:5])}")

        cache = cache_from_options(options)
        vectors: dict[str, np.ndarray | None] = {}
        for name in tqdm(names, unit="photo", disable=len(names) < 20):
            data = (folder / name).read_bytes()
            if cache is None:
                vectors[name] = embed(data)
            else:
                vectors[name] = cache.embedding(cache.key(data), lambda data=data: embed(data))
        no_face = sorted(name for name, vector in vectors.items() if vector is None)
        distances = pair_distances(vectors, rows)
        same = np.array([r["same_person"].strip().lower() in ("yes", "true", "1") for r in rows])

        self.stdout.write(f"embeddings: {faces.current_model_version()}")
        self.stdout.write(
            f"{len(names)} photos ({len(no_face)} without a face: {', '.join(no_face) or '-'}), "
            f"{len(rows)} pairs ({int(same.sum())} same person, {int((~same).sum())} different)"
        )
        if same.any():
            true_distances = distances[same & ~np.isnan(distances)]
            self.stdout.write(
                "same-person distance: median {:.4f}, 90th percentile {:.4f}, max {:.4f}".format(
                    *np.percentile(true_distances, [50, 90, 100])
                )
            )
        if (~same).any():
            false_distances = distances[~same & ~np.isnan(distances)]
            self.stdout.write(
                "different-person distance: min {:.4f}, 10th percentile {:.4f}, "
                "median {:.4f}".format(*np.percentile(false_distances, [0, 10, 50]))
            )
        self.stdout.write(f"{'threshold':>9} {'accuracy':>9} {'false match':>12} "
                          f"{'false non-match':>16}")
        thresholds = np.arange(options["start"], options["stop"] + 1e-9, options["step"])
        accuracy, false_match, false_non_match = rates_at(distances, same, thresholds)
        for row in zip(thresholds, accuracy, false_match, false_non_match, strict=True):
            self.stdout.write("{:9.3f} {:9.4f} {:12.4f} {:16.4f}".format(*row))
        best = int(np.argmax(accuracy))  # the first of equals, the lowest threshold
        self.stdout.write(f"best accuracy {accuracy[best]:.4f} at threshold {thresholds[best]:.3f}")
        if options["no_pipelines"]:
            return
        photos = [LabelledPhoto(name, name, ADULT, None) for name in names]
        models = embed_models(folder, photos, cache=cache)
        pairs = [(row["file_a"], row["file_b"]) for row in rows]
        self.stdout.write("")
        self.stdout.write(format_threshold_pipelines(
            threshold_pipelines(names, models, pairs, same)
        ))
