"""A number to call and a public case number on every case; the organisation's hotline.

Existing cases get a random case number each (the same function new cases use), then the
column becomes unique and required. Their number to call stays the hotline: no family's
private phone becomes public without its choice.
"""

from django.db import migrations, models

import families.models


def number_existing_cases(apps, schema_editor) -> None:
    Case = apps.get_model("families", "MissingChildCase")
    taken: set[str] = set()
    for case in Case.objects.filter(public_number__isnull=True).only("pk"):
        number = families.models.new_public_number()
        while number in taken:
            number = families.models.new_public_number()
        taken.add(number)
        Case.objects.filter(pk=case.pk).update(public_number=number)


class Migration(migrations.Migration):
    dependencies = [("families", "0018_places_mapped")]

    operations = [
        migrations.CreateModel(
            name="PublicContact",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False,
                                           verbose_name="ID")),
                ("name", models.CharField(
                    help_text="Who answers, e.g. the volunteers' hotline.", max_length=150,
                    verbose_name="name")),
                ("phone", models.CharField(max_length=40, verbose_name="phone")),
                ("hours", models.CharField(blank=True, help_text="When someone answers, optional.",
                                           max_length=100, verbose_name="hours")),
                ("updated_at", models.DateTimeField(auto_now=True)),
            ],
            options={
                "verbose_name": "public contact (hotline)",
                "verbose_name_plural": "public contacts (hotline)",
                "ordering": ["-updated_at", "-pk"],
            },
        ),
        migrations.AddField(
            model_name="missingchildcase",
            name="public_contact",
            field=models.CharField(
                choices=[("hotline", "the organisation's hotline"),
                         ("contact_phone", "my contact phone (it becomes public)")],
                default="hotline", max_length=20,
                verbose_name="number to call on the public page and poster"),
        ),
        migrations.AddField(
            model_name="missingchildcase",
            name="public_number",
            field=models.CharField(editable=False, max_length=9, null=True,
                                   verbose_name="case number"),
        ),
        migrations.RunPython(number_existing_cases, migrations.RunPython.noop),
        migrations.AlterField(
            model_name="missingchildcase",
            name="public_number",
            field=models.CharField(default=families.models.new_public_number, editable=False,
                                   max_length=9, unique=True, verbose_name="case number"),
        ),
    ]
