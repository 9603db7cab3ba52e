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
from families.models import AuditEntry, MissingChildCase, Photo, SeekerPosting, User


def account_export(*, actor: User) -> bytes:
    """Everything the portal holds about ``actor``, as a zip: JSON files and their photos.

    Other people's data stays out: a candidate shows its status and dates, never
    the other person; an audit entry shows who acted as a role, never a name.
    """

    def dump(value: Any) -> str:
        return json.dumps(value, cls=DjangoJSONEncoder, ensure_ascii=False, indent=2)

    def photo_data(photo: Photo) -> dict[str, Any]:
        data = model_to_dict(photo, exclude=["image", "owner"])
        data.update(
            id=photo.pk, file=f"photos/{photo.pk}.jpg", uploaded_at=photo.uploaded_at,
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
            {"id": c.pk, "status": told[c.status], "updated_at": c.updated_at}
            for c in queryset.filter(dna_test__isnull=False).order_by("pk")
            if c.status in told
        ]

    def role(entry: AuditEntry) -> str:
        if entry.actor_id is None:
            return "system"
        if entry.actor_id == actor.pk:
            return "you"
        return "volunteer or admin"

    with transaction.atomic():
        cases = list(MissingChildCase.objects.filter(family=actor).order_by("pk"))
        postings = list(SeekerPosting.objects.filter(owner=actor).order_by("pk"))
        # Only the person's own cases and postings: a volunteer's uploads to
        # other families' cases are theirs, not the volunteer's.
        photos = list(Photo.objects.filter(
            models.Q(case__family=actor) | models.Q(seeker_posting__owner=actor)
        ).order_by("pk"))
        objects = [("families.missingchildcase", c.pk) for c in cases] + [
            ("families.seekerposting", p.pk) for p in postings
        ] + [("families.photo", p.pk) for p in photos] + [("families.user", actor.pk)]
        about = models.Q()
        for object_type, object_id in objects:
            about |= models.Q(object_type=object_type, object_id=str(object_id))
        audit = AuditEntry.objects.filter(about | models.Q(actor=actor)).order_by("created_at")
        account = model_to_dict(actor, fields=[
            "email", "full_name", "phone", "address", "preferred_language",
            "date_joined", "last_login", "email_confirmed_at",
        ])
        account.update(date_joined=actor.date_joined, last_login=actor.last_login)

        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
            archive.writestr("README.txt", (
                "Everything Reunion holds about you, as of "
                f"{timezone.now():%Y-%m-%d %H:%M} UTC.\n"
                "account.json: your account. cases.json, seeker_postings.json: what you posted, "
                "with each photo's faces and their embeddings (the numbers faces are compared "
                "by). photos/: the photos as stored. notifications.json: what we told you. "
                "audit.json: every recorded action on your data and by you.\n"
            ))
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
            archive.writestr("audit.json", dump([
                {"when": e.created_at, "who": role(e), "action": e.action,
                 "object": f"{e.object_type}#{e.object_id}"}
                for e in audit
            ]))
            for photo in photos:
                with photo.image.open("rb") as handle:
                    archive.writestr(f"photos/{photo.pk}.jpg", handle.read())
        audit_record(actor=actor, action="account.exported", obj=actor,
                     detail={"photos": len(photos), "cases": len(cases),
                             "seeker_postings": len(postings)})
    return buffer.getvalue()
