"""Everything the portal holds about a person, as the zip they download."""

from __future__ import annotations

import io
import json
import zipfile
from typing import Any

from django.core.serializers.json import DjangoJSONEncoder
from django.db import models, transaction
from django.forms.models import model_to_dict
from django.utils import timezone

from families.audit import audit_record
from families.models import (
    AuditEntry,
    MissingChildCase,
    Notification,
    Photo,
    SeekerPosting,
    Tip,
    User,
)
from matching.models import Candidate, MatchMessage

#: The proposals a person made are one action for them, whether or not the pair was
#: already a candidate (``candidate.proposed_again`` is for volunteers' eyes only).
PROPOSAL_ACTIONS = ("candidate.proposed", "candidate.proposed_again")


def _exported_postings(actor: User) -> list[SeekerPosting]:
    """The person's own postings: a found person posted for a partner or by a volunteer is
    that person's data, not the poster's, and stays out of the poster's export."""
    return list(SeekerPosting.objects.filter(
        owner=actor, organisation__isnull=True, posted_for=SeekerPosting.PostedFor.SELF,
    ).order_by("pk"))


#: Rows named by an opaque reference wherever a person sees them: their ids are sequential
#: over everyone's, and would count candidates, tips and notices the person was not told of.
REFERENCED = {"matching.candidate": Candidate, "families.tip": Tip,
              "families.notification": Notification}


def _references(entries: list[AuditEntry]) -> dict[tuple[str, str], str]:
    """The reference of each candidate, tip and notice the entries name, by (type, id)."""
    found: dict[tuple[str, str], str] = {}
    for object_type, model in REFERENCED.items():
        ids = {int(e.object_id) for e in entries
               if e.object_type == object_type and e.object_id.isdigit()}
        for pk, reference in model.objects.filter(pk__in=ids).values_list("pk", "reference"):
            found[(object_type, str(pk))] = str(reference)
    return found


def _audit_of(actor: User, *, candidates_of_theirs: set[int],
              candidates_told: set[int]) -> list[dict[str, Any]]:
    """What the person did, as the audit log recorded it.

    Never what volunteers or admins did about them (their looks follow candidates,
    so listing them would tell of a candidate before a volunteer confirmed it), and
    none of the person's own entries about a candidate of their case or posting that
    they were not told of (a withdrawal ends each pending candidate with an entry).
    A proposal is listed the same way whether or not the pair was already a candidate.
    """
    rows = []
    entries = list(AuditEntry.objects.filter(actor=actor).order_by("created_at", "pk"))
    references = _references(entries)
    for entry in entries:
        obj = f"{entry.object_type}#{entry.object_id}"
        if entry.object_type in REFERENCED:
            # Gone since (a deleted tip, an ended candidate's notice): named by type alone.
            reference = references.get((entry.object_type, entry.object_id), "")
            obj = f"{entry.object_type}:{reference}" if reference else entry.object_type
        action = entry.action
        if action in PROPOSAL_ACTIONS:
            detail = entry.detail or {}
            action = "candidate.proposed"
            obj = (f"families.missingchildcase#{detail.get('case', '')} × "
                   f"families.seekerposting#{detail.get('seeker_posting', '')}")
        elif entry.object_type == "matching.candidate" and entry.object_id.isdigit():
            candidate_id = int(entry.object_id)
            if candidate_id in candidates_of_theirs and candidate_id not in candidates_told:
                continue
        rows.append({"when": entry.created_at, "who": "you", "action": action, "object": obj})
    return rows


def account_export(*, actor: User) -> bytes:
    """Everything the portal holds about ``actor``, as a zip: JSON files and their photos.

    What the person did and what the person was told, never what volunteers did about
    them, and nothing about anyone else: a candidate shows its status and dates from
    its confirmation on, never the other person; a found person the actor posted is
    theirs, not the actor's. A photo whose file is missing is named in the README and
    left out; the rest is still delivered.
    """

    def dump(value: Any) -> str:
        return json.dumps(value, cls=DjangoJSONEncoder, ensure_ascii=False, indent=2)

    def photo_data(photo: Photo) -> dict[str, Any]:
        data = model_to_dict(photo, exclude=["image", "owner"])
        data.update(
            id=photo.pk,
            file=None if photo.pk in missing else f"photos/{photo.pk}.jpg",
            uploaded_at=photo.uploaded_at,
            faces=[
                {
                    "id": face.pk, "box": [face.box_x, face.box_y, face.box_w, face.box_h],
                    "picked_by_a_person": face.picked_by_id is not None,
                    "model": face.model_version,
                    "embedding": None if face.embedding is None else [
                        float(number) for number in face.embedding
                    ],
                    "embedding_dlib": None if face.embedding_dlib is None else [
                        float(number) for number in face.embedding_dlib
                    ],
                    "created_at": face.created_at,
                }
                for face in photo.faces.all().order_by("pk")
            ],
        )
        return data

    def candidates(queryset: models.QuerySet) -> list[dict[str, Any]]:
        # Only what the person was told: a candidate exists for its two sides from a
        # volunteer's confirmation on (which opens its DNA test), never before.
        told = {"confirmed": "confirmed", "reunited": "reunited",
                "rejected": "dna_no_match", "ended": "ended"}
        return [
            {"id": str(c.reference), "status": told[c.status], "updated_at": c.updated_at}
            for c in queryset.filter(dna_test__isnull=False).order_by("created_at", "reference")
            if c.status in told
        ]

    with transaction.atomic():
        cases = list(MissingChildCase.objects.filter(family=actor).order_by("pk"))
        postings = _exported_postings(actor)
        # Only the person's own cases and postings: a volunteer's uploads to
        # other families' cases are theirs, not the volunteer's.
        photos = list(Photo.objects.filter(
            models.Q(case__in=cases) | models.Q(seeker_posting__in=postings)
        ).order_by("pk"))
        sides = models.Q(case__family=actor) | models.Q(seeker_posting__owner=actor)
        theirs = Candidate.objects.filter(sides)
        audit = _audit_of(
            actor, candidates_of_theirs=set(theirs.values_list("pk", flat=True)),
            candidates_told=set(theirs.filter(dna_test__isnull=False)
                                .values_list("pk", flat=True)),
        )
        account = model_to_dict(actor, fields=[
            "email", "full_name", "phone", "address", "preferred_language",
            "date_joined", "last_login", "email_confirmed_at",
        ])
        account.update(date_joined=actor.date_joined, last_login=actor.last_login)

        files: dict[int, bytes] = {}
        missing: set[int] = set()
        for photo in photos:
            try:
                with photo.image.open("rb") as handle:
                    files[photo.pk] = handle.read()
            except OSError:
                missing.add(photo.pk)
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
            readme = (
                "Everything Reunion holds about you, as of "
                f"{timezone.now():%Y-%m-%d %H:%M} UTC.\n"
                "account.json: your account. cases.json, seeker_postings.json: what you posted, "
                "with each photo's faces and their embeddings (the numbers faces are compared "
                "by), and each possible match a volunteer confirmed for you. photos/: the "
                "photos as stored. notifications.json: what we told you. messages.json: the "
                "messages you wrote to the volunteers. audit.json: what "
                "you did, as recorded.\n"
            )
            if missing:
                readme += (
                    "These photos' files could not be read and are not in photos/ (their "
                    "details are in cases.json or seeker_postings.json; please tell us): "
                    + ", ".join(f"photo {pk}" for pk in sorted(missing)) + ".\n"
                )
            archive.writestr("README.txt", readme)
            archive.writestr("account.json", dump(account))
            archive.writestr("cases.json", dump([
                {**model_to_dict(case, exclude=["family"]), "id": case.pk,
                 "created_at": case.created_at, "published_at": case.published_at,
                 "photos": [photo_data(p) for p in photos if p.case_id == case.pk],
                 "candidates": candidates(case.candidates.all())}
                for case in cases
            ]))
            archive.writestr("seeker_postings.json", dump([
                {**model_to_dict(posting, exclude=["owner"]), "id": posting.pk,
                 "created_at": posting.created_at, "consented_at": posting.consented_at,
                 "photos": [photo_data(p) for p in photos if p.seeker_posting_id == posting.pk],
                 "candidates": candidates(posting.candidates.all())}
                for posting in postings
            ]))
            archive.writestr("notifications.json", dump([
                {"subject": n.subject, "body": n.body, "link": n.link, "kind": n.kind,
                 "created_at": n.created_at, "read_at": n.read_at}
                for n in actor.notifications.all().order_by("created_at")
            ]))
            archive.writestr("messages.json", dump([
                {"candidate": m.candidate_id, "thread": m.thread, "body": m.body,
                 "created_at": m.created_at}
                for m in MatchMessage.objects.filter(author=actor).order_by("created_at", "pk")
            ]))
            archive.writestr("audit.json", dump(audit))
            for photo_id, content in files.items():
                archive.writestr(f"photos/{photo_id}.jpg", content)
        audit_record(actor=actor, action="account.exported", obj=actor,
                     detail={"photos": len(photos), "cases": len(cases),
                             "seeker_postings": len(postings), "missing_files": len(missing)})
    return buffer.getvalue()
