"""``manage.py reindex``: recompute every embedding made by another pipeline version.

Run it after the face pipeline changes (a new DeepFace or weights version, or a
new ``EMBEDDING_REVISION``). Faces are processed in id order, in batches; a face
already at the current version is skipped, so an interrupted run simply
continues where it stopped when started again. Each re-embedded face's matching
is queued (matching never compares faces of different versions, so until then
a face of the old version is not searched).

``--recentre`` moves faces to the current centring of their age groups' means instead,
from the raw embeddings each face keeps: no model is loaded. With ``--apply`` it first
takes new means when a group is due (``matching.services.centring``); faces are moved
a batch per transaction, so an interrupted run continues where it stopped.
"""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError, CommandParser
from tqdm import tqdm

from matching import faces, services
from matching.selectors.faces import faces_needing_embedding
from matching.selectors.search import centring_current


class Command(BaseCommand):
    help = "Recompute the embeddings of faces made by another model version (resumable)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--batch", type=int, default=100, help="faces read per query")
        parser.add_argument(
            "--limit", type=int, default=None, help="stop after this many faces (for a trial run)"
        )
        parser.add_argument(
            "--recentre", action="store_true",
            help="Re-centre faces on the current centring from their raw embeddings (no model).",
        )
        parser.add_argument(
            "--apply", action="store_true",
            help="With --recentre: first take new means when an age group is due for them.",
        )

    def handle(self, *args: object, **options: object) -> None:
        if options["recentre"]:
            self._recentre(options)
            return
        if options["apply"]:
            raise CommandError("--apply goes with --recentre.")
        engine = faces.get_engine()
        version = engine.model_version
        total = faces_needing_embedding(model_version=version, limit=None).count()
        if options["limit"] is not None:
            total = min(total, options["limit"])
        self.stdout.write(f"{total} face(s) to embed with {version}")
        done = failed = 0
        last_id = 0
        with tqdm(total=total, unit="face", disable=total == 0) as progress:
            while done + failed < total:
                batch = list(faces_needing_embedding(
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

    def _recentre(self, options: dict[str, object]) -> None:
        if options["batch"] is not None and int(options["batch"]) < 1:
            raise CommandError("--batch must be at least 1.")
        if options["apply"]:
            centring = services.centring_apply()
            self.stdout.write(
                f"New centring {centring.pk}: {centring.counts}" if centring is not None
                else "No new centring is due."
            )
        centring = centring_current()
        waiting = services.faces_waiting_for_recentre()
        self.stdout.write(
            f"{waiting} face(s) to re-centre on centring "
            f"{centring.pk if centring is not None else 0}"
        )
        moved = services.faces_recentre(batch=int(options["batch"]), limit=options["limit"])
        self.stdout.write(f"Re-centred {moved} face(s); their matching is queued.")
