"""``manage.py reindex``: recompute every embedding made by another pipeline version.

Run it after the face pipeline changes (a new DeepFace or weights version, or a
new ``EMBEDDING_REVISION``). Faces are processed in id order, in batches; a face
already at the current version is skipped, so an interrupted run simply
continues where it stopped when started again. Each re-embedded face's matching
is queued (matching never compares faces of different versions, so until then
a face of the old version is not searched).
"""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandParser
from tqdm import tqdm

from matching import faces, selectors, services


class Command(BaseCommand):
    help = "Recompute the embeddings of faces made by another model version (resumable)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--batch", type=int, default=100, help="faces read per query")
        parser.add_argument(
            "--limit", type=int, default=None, help="stop after this many faces (for a trial run)"
        )

    def handle(self, *args: object, **options: object) -> None:
        engine = faces.get_engine()
        version = engine.model_version
        total = selectors.faces_needing_embedding(model_version=version, limit=None).count()
        if options["limit"] is not None:
            total = min(total, options["limit"])
        self.stdout.write(f"{total} face(s) to embed with {version}")
        done = failed = 0
        last_id = 0
        with tqdm(total=total, unit="face", disable=total == 0) as progress:
            while done + failed < total:
                batch = list(selectors.faces_needing_embedding(
                    model_version=version, after_id=last_id, limit=options["batch"]
                ))
                if not batch:
                    break
                for face in batch[: total - done - failed]:
                    last_id = face.pk
                    try:
                        stored = services.face_reembed(face_id=face.pk)
                    except Exception as error:  # one unreadable photo must not stop the run
                        failed += 1
                        self.stderr.write(f"face {face.pk}: {error}")
                    else:
                        done += int(stored)
                    progress.update(1)
        self.stdout.write(
            f"Re-embedded {done} face(s), {failed} failed; their matching is queued."
        )
