"""Names as the family writes them: the parts' spaces tidied, and a Chinese full name typed
whole in the given-name field (李小梅, with no family name) split into its family name (李)
and given name (小梅), so that it is shown and searched as every other Chinese name."""

from django.db import migrations

from families.names import split_chinese_name


def names_as_written(apps, schema_editor):
    Case = apps.get_model("families", "MissingChildCase")
    for case in Case.objects.only("pk", "family_name", "given_name").iterator():
        family, given = " ".join(case.family_name.split()), " ".join(case.given_name.split())
        if not family:
            family, given = split_chinese_name(given)
        if (family, given) != (case.family_name, case.given_name):
            Case.objects.filter(pk=case.pk).update(family_name=family, given_name=given)


class Migration(migrations.Migration):

    dependencies = [
        ("families", "0014_notification_ref"),
    ]

    operations = [
        # Both ways: the split names stay valid names if the migration is undone.
        migrations.RunPython(names_as_written, migrations.RunPython.noop, elidable=True),
    ]
