"""The names' search terms (hanzi and plain pinyin) with trigram indexes, so that the public
search finds 李小梅 by Xiaomei, xiao mei or 梅梅 and forgives typos (pg_trgm)."""

import django.contrib.postgres.indexes
from django.contrib.postgres.operations import TrigramExtension
from django.db import migrations, models

from families.names import search_terms


def fill_search_terms(apps, schema_editor):
    Case = apps.get_model("families", "MissingChildCase")
    for case in Case.objects.only("pk", "family_name", "given_name", "nicknames").iterator():
        Case.objects.filter(pk=case.pk).update(search_terms=search_terms(
            family=case.family_name, given=case.given_name, others=[case.nicknames]))
    Posting = apps.get_model("families", "SeekerPosting")
    for posting in Posting.objects.only("pk", "display_name").iterator():
        Posting.objects.filter(pk=posting.pk).update(
            search_terms=search_terms(family="", given=posting.display_name))


class Migration(migrations.Migration):

    dependencies = [
        ("families", "0015_names_as_written"),
    ]

    operations = [
        TrigramExtension(),
        migrations.AddField(
            model_name="missingchildcase",
            name="search_terms",
            field=models.TextField(default="", editable=False),
        ),
        migrations.AddField(
            model_name="seekerposting",
            name="search_terms",
            field=models.TextField(default="", editable=False),
        ),
        migrations.RunPython(fill_search_terms, migrations.RunPython.noop, elidable=True),
        migrations.AddIndex(
            model_name="missingchildcase",
            index=django.contrib.postgres.indexes.GinIndex(
                fields=["search_terms"], name="case_search_terms_trgm",
                opclasses=["gin_trgm_ops"]),
        ),
        migrations.AddIndex(
            model_name="seekerposting",
            index=django.contrib.postgres.indexes.GinIndex(
                fields=["search_terms"], name="seeker_search_terms_trgm",
                opclasses=["gin_trgm_ops"]),
        ),
    ]
