"""Ties the places already written to their divisions' codes where they name one unambiguously.

"Sichuan", "四川" and "四川省" become 51; a city or district written under it narrows the
code when it is known there. A province that is no division, or that several share,
keeps no code: the admin lists those places ("Place in the list: no") to be set by hand.
The text written is never changed.
"""

from django.db import migrations


def map_places(apps, schema_editor):
    from families.places import settle

    for model, prefix in (("MissingChildCase", "missing"), ("SeekerPosting", "grew_up")):
        Model = apps.get_model("families", model)
        for row in Model.objects.filter(**{f"{prefix}_place_code": ""}).iterator():
            settled = settle(
                province=getattr(row, f"{prefix}_province"),
                city=getattr(row, f"{prefix}_city"),
                district=getattr(row, f"{prefix}_district"),
                country=getattr(row, f"{prefix}_country"),
                prefix=prefix,
            )
            if settled.code:
                Model.objects.filter(pk=row.pk).update(**{f"{prefix}_place_code": settled.code})


class Migration(migrations.Migration):

    dependencies = [
        ("families", "0017_places"),
    ]

    operations = [
        migrations.RunPython(map_places, migrations.RunPython.noop),
    ]
