"""Candidates get an opaque reference that every page and link names them by.

Ids are sequential, so a gap in them told a volunteer who is also a family of a
candidate of their own case. Existing candidates get a random reference, and the
inbox links that named a candidate by its id are rewritten to its reference
(the old addresses answer 404 from now on).
"""

import re
import uuid

from django.db import migrations, models

#: An inbox link naming a candidate by id: the review page or the match page.
CANDIDATE_LINK = re.compile(r"/matching/(review|matches)/(\d+)/")


def give_references(apps, schema_editor):
    Candidate = apps.get_model("matching", "Candidate")
    Notification = apps.get_model("families", "Notification")
    references = {}
    for candidate in Candidate.objects.filter(reference__isnull=True).only("pk").iterator():
        references[candidate.pk] = uuid.uuid4()
        Candidate.objects.filter(pk=candidate.pk).update(reference=references[candidate.pk])
    if not references:
        return
    for notice in Notification.objects.filter(link__regex=CANDIDATE_LINK.pattern).only(
        "pk", "link"
    ).iterator():
        def by_reference(match: re.Match) -> str:
            reference = references.get(int(match.group(2)))
            # A link to a candidate that is gone keeps an address that answers 404.
            name = str(reference) if reference else str(uuid.uuid4())
            return f"/matching/{match.group(1)}/{name}/"

        Notification.objects.filter(pk=notice.pk).update(
            link=CANDIDATE_LINK.sub(by_reference, notice.link)
        )


class Migration(migrations.Migration):

    dependencies = [
        ("matching", "0009_dna_guidance"),
        ("families", "0013_found_people_never_public"),
    ]

    operations = [
        migrations.AddField(
            model_name="candidate",
            name="reference",
            field=models.UUIDField(editable=False, null=True),
        ),
        migrations.RunPython(give_references, migrations.RunPython.noop, elidable=False),
        migrations.AlterField(
            model_name="candidate",
            name="reference",
            field=models.UUIDField(default=uuid.uuid4, editable=False, unique=True),
        ),
    ]
