"""Notices and tips get an opaque reference that pages and forms name them by.

Their ids are sequential over everyone's notices and every case's tips, so a gap
in them told of notices and tips the reader was not shown. Existing rows get a
random reference; the old addresses by id answer 404 from now on.
"""

import uuid

from django.db import migrations, models


def give_references(apps, schema_editor):
    for name in ("Notification", "Tip"):
        model = apps.get_model("families", name)
        for row in model.objects.filter(reference__isnull=True).only("pk").iterator():
            model.objects.filter(pk=row.pk).update(reference=uuid.uuid4())


class Migration(migrations.Migration):

    dependencies = [
        ("families", "0013_found_people_never_public"),
    ]

    operations = [
        migrations.AddField(
            model_name="notification",
            name="reference",
            field=models.UUIDField(editable=False, null=True),
        ),
        migrations.AddField(
            model_name="tip",
            name="reference",
            field=models.UUIDField(editable=False, null=True),
        ),
        migrations.RunPython(give_references, migrations.RunPython.noop, elidable=False),
        migrations.AlterField(
            model_name="notification",
            name="reference",
            field=models.UUIDField(default=uuid.uuid4, editable=False, unique=True),
        ),
        migrations.AlterField(
            model_name="tip",
            name="reference",
            field=models.UUIDField(default=uuid.uuid4, editable=False, unique=True),
        ),
    ]
