"""Exact search in 20 ms at a million faces (docs/BENCHMARKS.md, "Exact search in 20 ms"):
the embedding in half precision, kept by PostgreSQL, and one covering partial btree per
birth-range width so the search reads only the index entries the facts allow.

Adding the stored column rewrites the face table once (a lock for the time it takes: about
half a minute per million faces); the indexes are built after it."""

import django.db.models.expressions
import django.db.models.functions.comparison
import pgvector.django.halfvec
from django.db import migrations, models


def width_index(name, low, high=None):
    plus = django.db.models.expressions.CombinedExpression
    if high is None:
        condition = models.Q(
            ("searchable", True),
            ("birth_year_max__gt", plus(models.F("birth_year_min"), "+", models.Value(low))),
        )
    else:
        condition = models.Q(
            ("searchable", True),
            ("birth_year_max__gte", plus(models.F("birth_year_min"), "+", models.Value(low))),
            ("birth_year_max__lte", plus(models.F("birth_year_min"), "+", models.Value(high))),
        )
    return migrations.AddIndex(
        model_name="face",
        index=models.Index(
            condition=condition,
            fields=["side", "sex", "model_version", "birth_year_min"],
            include=("birth_year_max", "id", "embedding_half"),
            name=name,
        ),
    )


class Migration(migrations.Migration):

    dependencies = [
        ("matching", "0006_candidate_sources"),
    ]

    operations = [
        migrations.AddField(
            model_name="face",
            name="embedding_half",
            field=models.GeneratedField(
                db_persist=True,
                expression=django.db.models.functions.comparison.Cast(
                    "embedding", pgvector.django.halfvec.HalfVectorField(dimensions=128)
                ),
                output_field=pgvector.django.halfvec.HalfVectorField(dimensions=128, null=True),
            ),
        ),
        width_index("face_search_w0_2", 0, 2),
        width_index("face_search_w3_5", 3, 5),
        width_index("face_search_w6_10", 6, 10),
        width_index("face_search_wide", 10),
    ]
