"""Exact filtered nearest-face search: table layouts and settings, side by side, same data.

The faces are those of ``bench/vector_search.py`` (synthetic people fitted to
the real Dlib embeddings of ``var/bench/embeddings.npz``), loaded once into
``bench_face`` on a dedicated embedded PostgreSQL; each layout is a copy of
that table, so every layout answers the same queries over the same rows. A
query is a new photo of a stored person searched as
``matching.selectors.search.faces_nearest`` does: same side, compatible sex,
overlapping birth years, ``searchable``, ``LIMIT 100``, closest first.

Layouts (``--variants``):

- ``bitmap``: the portal's search before this benchmark: one heap table, the
  partial btree on (side, sex, birth years), every row the btree allows read
  from the heap and compared; default parallel settings (2 workers per gather).
- ``bitmap_serial``: the same with ``max_parallel_workers_per_gather = 0``.
- ``covering``: a btree on (side, birth_year_min, sex, birth_year_max)
  INCLUDE (id, person, embedding) ``WHERE searchable``; the search is an
  index-only scan of the rows born in the right years, which the btree keeps
  next to each other. Its lower bound on ``birth_year_min`` is the query's
  earliest year minus ``NARROW`` years; faces with a wider birth range are
  found by a second branch through a partial index of their own, so no face is
  lost whatever its range.
- ``partitioned``: a table partitioned by side (list), then by
  ``birth_year_min`` (5-year ranges), then by ``birth_year_max`` (ranges
  relative to the parent's): the planner reads only the partitions the query's
  years allow, sequentially. ``partitioned_parallel`` lets 2 workers share it.
- ``partitioned_half``: the same partitions holding ``halfvec`` (half the
  bytes); the top ``--rerank`` rows by half-precision distance are re-ranked
  by the full-precision vectors (``bench_face`` by id) and the first 100 kept.

Recall is checked against a brute force: a sequential scan of ``bench_face``
with the same filters, no index, full precision. A query counts as exact when
the set of face ids returned equals the brute force's; "person recall" is the
older measure of ``bench/vector_search.py`` (every face of the person that the
brute force ranks in its top 10 is returned).

    .venv/bin/python bench/exact_search.py --faces 1000000 --queries 300 --repeat 3

Runs on its own server under ``--pgdata`` (default var/bench/pgdata_exact),
never the portal's database; ``--reuse`` keeps the loaded tables.
"""

from __future__ import annotations

import argparse
import itertools
import json
import statistics
import subprocess
import time

import numpy as np
from _django import OUT_DIR, embedded_server, setup
from vector_search import (
    attach_vectors,
    compatible,
    create_and_load,
    fit,
    make_queries,
    people_table,
)

#: Faces whose birth range is at most this wide are found through the covering btree's
#: range on birth_year_min; wider ones through their own partial index.
NARROW = 10
#: Partitions of birth_year_min (5-year ranges) and, inside each, of birth_year_max.
YEAR_FROM, YEAR_TO, YEAR_STEP = 1900, 2035, 5
MAX_OFFSETS = (5, 10, 15)  # birth_year_max partitions: [a, a+5), [a+5, a+10), [a+10, a+15), rest

ALL_VARIANTS = (
    "bitmap", "bitmap_serial", "covering", "partitioned", "partitioned_parallel",
    "partitioned_half", "partitioned_sex_half", "covering_classes", "covering_half_classes",
)


def timed(cursor, label: str, sql: str) -> float:
    start = time.perf_counter()
    cursor.execute(sql)
    seconds = time.perf_counter() - start
    print(f"  {label}: {seconds:.1f} s", flush=True)
    return seconds


def create_partitioned(cursor, name: str, vector_type: str, by_sex: bool = False) -> None:
    """Side (→ sex) → birth_year_min (5-year ranges) → birth_year_max; every row has a
    partition."""
    cursor.execute(f"DROP TABLE IF EXISTS {name} CASCADE")
    cursor.execute(
        f"CREATE TABLE {name} (id bigint NOT NULL, person integer NOT NULL, side text NOT NULL, "
        "sex text NOT NULL, birth_year_min smallint NOT NULL, birth_year_max smallint NOT NULL, "
        f"searchable boolean NOT NULL DEFAULT true, embedding {vector_type}(128) NOT NULL) "
        "PARTITION BY LIST (side)"
    )
    parents = []
    for side in ("c", "s"):
        side_table = f"{name}_{side}"
        if not by_sex:
            cursor.execute(
                f"CREATE TABLE {side_table} PARTITION OF {name} FOR VALUES IN ('{side}') "
                "PARTITION BY RANGE (birth_year_min)"
            )
            parents.append(side_table)
            continue
        cursor.execute(
            f"CREATE TABLE {side_table} PARTITION OF {name} FOR VALUES IN ('{side}') "
            "PARTITION BY LIST (sex)"
        )
        for sex in ("M", "F", "U"):
            sex_table = f"{side_table}_{sex.lower()}"
            cursor.execute(
                f"CREATE TABLE {sex_table} PARTITION OF {side_table} FOR VALUES IN ('{sex}') "
                "PARTITION BY RANGE (birth_year_min)"
            )
            parents.append(sex_table)
    for side_table in parents:
        starts = list(range(YEAR_FROM, YEAR_TO, YEAR_STEP))
        bounds = [("MINVALUE", str(YEAR_FROM), "early")]
        bounds += [(str(a), str(a + YEAR_STEP), str(a)) for a in starts]
        bounds += [(str(YEAR_TO), "MAXVALUE", "late")]
        for low, high, label in bounds:
            year_table = f"{side_table}_{label}"
            cursor.execute(
                f"CREATE TABLE {year_table} PARTITION OF {side_table} "
                f"FOR VALUES FROM ({low}) TO ({high}) PARTITION BY RANGE (birth_year_max)"
            )
            if not low.isdigit():
                cursor.execute(
                    f"CREATE TABLE {year_table}_all PARTITION OF {year_table} "
                    "FOR VALUES FROM (MINVALUE) TO (MAXVALUE)"
                )
                continue
            edges = ["MINVALUE"] + [str(int(low) + offset) for offset in MAX_OFFSETS] + ["MAXVALUE"]
            for number, (a, b) in enumerate(itertools.pairwise(edges)):
                cursor.execute(
                    f"CREATE TABLE {year_table}_{number} PARTITION OF {year_table} "
                    f"FOR VALUES FROM ({a}) TO ({b})"
                )


def build(cursor, model, people, rng, variants) -> dict:
    timings = create_and_load(cursor, model, people, rng)
    cursor.execute("SET maintenance_work_mem = '1GB'")
    timings["btree"] = timed(
        cursor, "btree (side, sex, birth years) on bench_face",
        "CREATE INDEX bench_face_facts ON bench_face (side, sex, birth_year_min, birth_year_max) "
        "WHERE searchable",
    )
    if "covering" in variants:
        cursor.execute("DROP TABLE IF EXISTS bench_cov")
        timings["covering_copy"] = timed(
            cursor, "copy to bench_cov", "CREATE TABLE bench_cov AS SELECT * FROM bench_face"
        )
        timings["covering_btree"] = timed(
            cursor, "covering btree",
            "CREATE INDEX bench_cov_search ON bench_cov "
            "(side, birth_year_min, sex, birth_year_max) "
            "INCLUDE (id, person, embedding) WHERE searchable",
        )
        timings["covering_wide"] = timed(
            cursor, "partial btree of wide birth ranges",
            "CREATE INDEX bench_cov_wide ON bench_cov (side, birth_year_min) WHERE searchable "
            f"AND birth_year_max - birth_year_min > {NARROW}",
        )
    if any(v.startswith("partitioned") and v != "partitioned_half" for v in variants):
        create_partitioned(cursor, "bench_part", "vector")
        timings["partitioned_copy"] = timed(
            cursor, "copy to bench_part", "INSERT INTO bench_part SELECT * FROM bench_face"
        )
    if "partitioned_half" in variants:
        create_partitioned(cursor, "bench_half", "halfvec")
        timings["partitioned_half_copy"] = timed(
            cursor, "copy to bench_half",
            "INSERT INTO bench_half SELECT id, person, side, sex, birth_year_min, birth_year_max, "
            "searchable, embedding::halfvec(128) FROM bench_face",
        )
    timings.update(build_half_layouts(cursor, variants))
    timings["vacuum"] = timed(cursor, "VACUUM ANALYZE", "VACUUM ANALYZE")
    return timings


#: Birth-range widths with a covering index each: a face of width w in (lo, hi) can overlap
#: the query's years [Y, X] only if its birth_year_min is in [Y - hi, X], a tight range of
#: the index. Wider faces (rare) have their own index, searched with birth_year_min <= X.
WIDTH_CLASSES = ((0, 2), (3, 5), (6, 10))


def width_class_indexes(table: str, payload: str) -> list[tuple[str, str]]:
    width = "birth_year_max - birth_year_min"
    indexes = []
    for low, high in WIDTH_CLASSES:
        indexes.append((
            f"{table}_w{low}_{high}",
            f"CREATE INDEX {table}_w{low}_{high} ON {table} (side, sex, birth_year_min) "
            f"INCLUDE (birth_year_max, id, {payload}) "
            f"WHERE searchable AND {width} BETWEEN {low} AND {high}",
        ))
    indexes.append((
        f"{table}_wide",
        f"CREATE INDEX {table}_wide ON {table} (side, sex, birth_year_min) "
        f"INCLUDE (birth_year_max, id, {payload}) "
        f"WHERE searchable AND {width} > {WIDTH_CLASSES[-1][1]}",
    ))
    return indexes


def width_class_branches(table: str, payload: str, query: dict, vector: str) -> str:
    width = "birth_year_max - birth_year_min"
    branches = [
        f"SELECT id, {payload} <=> {vector} AS distance FROM {table} WHERE {where(query)} "
        f"AND {width} BETWEEN {low} AND {high} AND birth_year_min >= {query['born_min'] - high}"
        for low, high in WIDTH_CLASSES
    ]
    branches.append(
        f"SELECT id, {payload} <=> {vector} AS distance FROM {table} WHERE {where(query)} "
        f"AND {width} > {WIDTH_CLASSES[-1][1]}"
    )
    return " UNION ALL ".join(branches)


def build_half_layouts(cursor, variants) -> dict:
    """The layouts added to the first ones: covering indexes by birth-range width (full and
    half precision), partitions by side, sex and birth years in half precision."""
    timings = {}
    cursor.execute("SET maintenance_work_mem = '1GB'")
    if "covering_classes" in variants:
        timings["covering_classes_btrees"] = 0.0
        for name, ddl in width_class_indexes("bench_face", "embedding"):
            cursor.execute(f"DROP INDEX IF EXISTS {name}")
            timings["covering_classes_btrees"] += timed(cursor, name, ddl)
    if "covering_half_classes" in variants:
        cursor.execute("DROP TABLE IF EXISTS bench_covh")
        timings["covering_half_copy"] = timed(
            cursor, "copy to bench_covh",
            "CREATE TABLE bench_covh AS SELECT *, embedding::halfvec(128) AS half FROM bench_face",
        )
        timed(cursor, "bench_covh primary key", "ALTER TABLE bench_covh ADD PRIMARY KEY (id)")
        timings["covering_half_classes_btrees"] = 0.0
        for name, ddl in width_class_indexes("bench_covh", "half"):
            timings["covering_half_classes_btrees"] += timed(cursor, name, ddl)
    if "partitioned_sex_half" in variants:
        create_partitioned(cursor, "bench_sexh", "halfvec", by_sex=True)
        timings["partitioned_sex_half_copy"] = timed(
            cursor, "copy to bench_sexh",
            "INSERT INTO bench_sexh SELECT id, person, side, sex, birth_year_min, birth_year_max, "
            "searchable, embedding::halfvec(128) FROM bench_face",
        )
    return timings


def where(query: dict, table: str = "") -> str:
    sexes = ",".join(f"'{s}'" for s in compatible(query["sex"]))
    prefix = f"{table}." if table else ""
    return (
        f"{prefix}searchable AND {prefix}side = '{query['side']}' "
        f"AND {prefix}sex IN ({sexes}) AND {prefix}birth_year_min <= {query['born_max']} "
        f"AND {prefix}birth_year_max >= {query['born_min']}"
    )


def sql_for(variant: str, query: dict, limit: int, rerank: int) -> str:
    vector = "'[" + ",".join(f"{v:.8g}" for v in query["vector"]) + "]'"
    if variant in ("bitmap", "bitmap_serial", "brute"):
        return (
            f"SELECT id, embedding <=> {vector} AS distance FROM bench_face WHERE {where(query)} "
            f"ORDER BY (embedding <=> {vector}) + 0 LIMIT {limit}"
        )
    if variant == "covering":
        narrow = (
            f"SELECT id, embedding <=> {vector} AS distance FROM bench_cov WHERE {where(query)} "
            f"AND birth_year_min >= {query['born_min'] - NARROW} "
            f"AND birth_year_max - birth_year_min <= {NARROW}"
        )
        wide = (
            f"SELECT id, embedding <=> {vector} AS distance FROM bench_cov WHERE {where(query)} "
            f"AND birth_year_max - birth_year_min > {NARROW}"
        )
        return (
            f"SELECT id, distance FROM ({narrow} UNION ALL {wide}) AS found "
            f"ORDER BY distance LIMIT {limit}"
        )
    if variant in ("partitioned", "partitioned_parallel"):
        return (
            f"SELECT id, embedding <=> {vector} AS distance FROM bench_part WHERE {where(query)} "
            f"ORDER BY embedding <=> {vector} LIMIT {limit}"
        )
    if variant == "covering_classes":
        branches = width_class_branches("bench_face", "embedding", query, vector)
        return f"SELECT id, distance FROM ({branches}) AS found ORDER BY distance LIMIT {limit}"
    if variant == "covering_half_classes":
        branches = width_class_branches("bench_covh", "half", query, f"{vector}::halfvec(128)")
        return (
            f"WITH rough AS MATERIALIZED (SELECT id FROM ({branches}) AS found "
            f"ORDER BY distance LIMIT {rerank}) "
            f"SELECT face.id, face.embedding <=> {vector} AS distance "
            "FROM rough JOIN bench_covh AS face ON face.id = rough.id "
            f"ORDER BY face.embedding <=> {vector} LIMIT {limit}"
        )
    if variant == "partitioned_sex_half":
        return (
            f"WITH rough AS MATERIALIZED (SELECT id FROM bench_sexh WHERE {where(query)} "
            f"ORDER BY embedding <=> {vector}::halfvec(128) LIMIT {rerank}) "
            f"SELECT face.id, face.embedding <=> {vector} AS distance "
            "FROM rough JOIN bench_face AS face ON face.id = rough.id "
            f"ORDER BY face.embedding <=> {vector} LIMIT {limit}"
        )
    if variant == "partitioned_half":
        return (
            f"WITH rough AS MATERIALIZED (SELECT id FROM bench_half WHERE {where(query)} "
            f"ORDER BY embedding <=> {vector}::halfvec(128) LIMIT {rerank}) "
            f"SELECT face.id, face.embedding <=> {vector} AS distance "
            "FROM rough JOIN bench_face AS face ON face.id = rough.id "
            f"ORDER BY face.embedding <=> {vector} LIMIT {limit}"
        )
    raise ValueError(variant)


SETTINGS = {
    "brute": ("SET LOCAL enable_indexscan = off", "SET LOCAL enable_bitmapscan = off",
              "SET LOCAL enable_indexonlyscan = off"),
    "bitmap": (),
    "bitmap_serial": ("SET LOCAL max_parallel_workers_per_gather = 0",),
    "covering": ("SET LOCAL max_parallel_workers_per_gather = 0",),
    "partitioned": ("SET LOCAL max_parallel_workers_per_gather = 0",),
    "partitioned_parallel": (
        "SET LOCAL max_parallel_workers_per_gather = 2", "SET LOCAL parallel_setup_cost = 100",
        "SET LOCAL min_parallel_table_scan_size = '1MB'",
    ),
    "partitioned_half": ("SET LOCAL max_parallel_workers_per_gather = 0",),
    "partitioned_sex_half": ("SET LOCAL max_parallel_workers_per_gather = 0",),
    "covering_classes": ("SET LOCAL max_parallel_workers_per_gather = 0",),
    "covering_half_classes": ("SET LOCAL max_parallel_workers_per_gather = 0",),
}


def run(cursor, variant: str, query: dict, limit: int, rerank: int) -> tuple[list, float]:
    cursor.execute("BEGIN")
    for statement in SETTINGS[variant]:
        cursor.execute(statement)
    sql = sql_for(variant, query, limit, rerank)
    start = time.perf_counter()
    cursor.execute(sql)
    rows = cursor.fetchall()
    seconds = time.perf_counter() - start
    cursor.execute("COMMIT")
    return rows, seconds


def load_average() -> str:
    return subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip()


def sizes(cursor, variants) -> dict:
    tables = {"bench_face": "bench_face"}
    if "covering" in variants:
        tables["covering index"] = "bench_cov_search"
    if any(v in ("partitioned", "partitioned_parallel") for v in variants):
        tables["bench_part"] = "bench_part"
    if "partitioned_half" in variants:
        tables["bench_half"] = "bench_half"
    if "partitioned_sex_half" in variants:
        tables["bench_sexh"] = "bench_sexh"
    if "covering_half_classes" in variants:
        tables["bench_covh"] = "bench_covh"
    result = {}
    for variant, table in (("covering_classes", "bench_face"), ("covering_half_classes",
                                                               "bench_covh")):
        if variant in variants:
            cursor.execute(
                "SELECT sum(pg_relation_size(indexrelid)) FROM pg_index "
                "WHERE indrelid = %s::regclass AND indexrelid::regclass::text LIKE %s",
                [table, f"{table}_w%"],
            )
            result[f"{variant} indexes"] = int(cursor.fetchone()[0] or 0)
        if variant == "covering_classes" and variant in variants:
            cursor.execute("SELECT pg_relation_size('bench_face')")
            result["bench_face heap"] = int(cursor.fetchone()[0])
    for label, relation in tables.items():
        cursor.execute(
            "SELECT COALESCE(sum(pg_total_relation_size(relid)), pg_total_relation_size(%s)) "
            "FROM pg_partition_tree(%s) WHERE isleaf", [relation, relation],
        )
        result[label] = int(cursor.fetchone()[0])
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--faces", type=int, default=1_000_000)
    parser.add_argument("--queries", type=int, default=300)
    parser.add_argument("--truth-queries", type=int, default=0,
                        help="queries checked against the brute force (default: all)")
    parser.add_argument("--repeat", type=int, default=3, help="passes over the queries")
    parser.add_argument("--limit", type=int, default=100)
    parser.add_argument("--rerank", type=int, default=200,
                        help="half-precision candidates re-ranked in full precision")
    parser.add_argument("--variants", default=",".join(ALL_VARIANTS))
    parser.add_argument("--pgdata", default="var/bench/pgdata_exact")
    parser.add_argument("--shared-buffers", default="4GB")
    parser.add_argument("--reuse", action="store_true", help="keep the loaded tables")
    parser.add_argument("--build", default="",
                        help="with --reuse: (re)build these half-precision layouts")
    args = parser.parse_args()
    setup()
    import psycopg2

    variants = args.variants.split(",")
    rng = np.random.default_rng(2024)
    model = fit(OUT_DIR / "embeddings.npz")
    people = people_table(args.faces, model, rng)
    server = embedded_server(args.pgdata, {"shared_buffers": args.shared_buffers,
                                           "max_wal_size": "8GB"})
    raw = psycopg2.connect(server.get_uri())
    raw.autocommit = True
    cursor = raw.cursor()
    cursor.execute("SELECT version(), (SELECT extversion FROM pg_extension WHERE extname='vector')")
    print(cursor.fetchone())
    if args.reuse:
        timings = build_half_layouts(cursor, args.build.split(",")) if args.build else {}
        if timings:
            timed(cursor, "VACUUM ANALYZE", "VACUUM ANALYZE")
    else:
        timings = build(cursor, model, people, rng, variants)
    table_sizes = sizes(cursor, variants)
    print("sizes (MB):", {k: round(v / 2**20) for k, v in table_sizes.items()})
    try:
        cursor.execute("CREATE EXTENSION IF NOT EXISTS pg_prewarm")
    except psycopg2.Error:
        print("no pg_prewarm: the warm-up queries fill the caches")
        table_sizes_to_warm = {}
    else:
        table_sizes_to_warm = table_sizes
    for relation in table_sizes_to_warm:
        if relation in ("bench_face", "bench_part", "bench_half", "bench_sexh", "bench_covh"):
            cursor.execute(
                "SELECT sum(pg_prewarm(relid)) FROM pg_partition_tree(%s) WHERE isleaf",
                [relation],
            )
    if "covering" in variants and table_sizes_to_warm:
        cursor.execute("SELECT pg_prewarm('bench_cov_search')")

    warm_up = make_queries(model, people, np.random.default_rng(97), args.queries)
    attach_vectors(model, people, warm_up, np.random.default_rng(96))
    for query in warm_up:
        for variant in variants:
            run(cursor, variant, query, args.limit, args.rerank)
    queries = make_queries(model, people, np.random.default_rng(98), args.queries)
    attach_vectors(model, people, queries, np.random.default_rng(99))

    load = {"before": load_average()}
    print(load["before"], flush=True)
    times: dict[str, list[float]] = {v: [] for v in variants}
    exact: dict[str, list[bool]] = {v: [] for v in variants}
    person: dict[str, list[bool]] = {v: [] for v in variants}
    truth_count = args.truth_queries or len(queries)
    truth = []
    brute_seconds = []
    for query in queries[:truth_count]:
        rows, seconds = run(cursor, "brute", query, args.limit, args.rerank)
        brute_seconds.append(seconds)
        truth.append(rows)
    for repeat in range(args.repeat):
        for number, query in enumerate(queries):
            order = variants[number % len(variants):] + variants[:number % len(variants)]
            for variant in order:  # rotated, so load hits every variant alike
                rows, seconds = run(cursor, variant, query, args.limit, args.rerank)
                times[variant].append(seconds)
                if repeat == 0 and number < truth_count:
                    expected = {row[0] for row in truth[number]}
                    got = {row[0] for row in rows}
                    exact[variant].append(got == expected)
                    top10 = truth[number][:10]
                    cursor.execute(
                        "SELECT id FROM bench_face WHERE id = ANY(%s) AND person = %s",
                        [[row[0] for row in top10], query["person"]],
                    )
                    person[variant].append({r[0] for r in cursor.fetchall()} <= got)
        print(f"pass {repeat + 1} done; {load_average()}", flush=True)
    load["after"] = load_average()

    base = statistics.median(times[variants[0]])
    report = {
        "faces": args.faces, "queries": args.queries, "repeat": args.repeat,
        "limit": args.limit, "rerank": args.rerank, "shared_buffers": args.shared_buffers,
        "build_seconds": timings, "sizes_bytes": table_sizes, "load": load,
        "brute_force_median_ms": statistics.median(brute_seconds) * 1000, "rows": [],
    }
    print(f"\n{args.faces} faces, {args.queries} queries × {args.repeat}, LIMIT {args.limit}; "
          f"brute force median {report['brute_force_median_ms']:.1f} ms")
    print(f"{'variant':22} {'median ms':>9} {'p95 ms':>8} {'vs ' + variants[0]:>12} "
          f"{'exact':>6} {'person':>6}  pass medians")
    for variant in variants:
        values = sorted(times[variant])
        size = len(queries)
        passes = [statistics.median(times[variant][i * size:(i + 1) * size])
                  for i in range(args.repeat)]
        row = {
            "variant": variant,
            "median_ms": statistics.median(values) * 1000,
            "p95_ms": values[int(0.95 * (len(values) - 1))] * 1000,
            "speedup": base / statistics.median(values),
            "exact_recall": sum(exact[variant]) / len(exact[variant]),
            "person_recall": sum(person[variant]) / len(person[variant]),
            "pass_medians_ms": [p * 1000 for p in passes],
        }
        report["rows"].append(row)
        print(f"{variant:22} {row['median_ms']:9.1f} {row['p95_ms']:8.1f} {row['speedup']:11.2f}× "
              f"{row['exact_recall']:6.3f} {row['person_recall']:6.3f}  "
              + " ".join(f"{p:.1f}" for p in row["pass_medians_ms"]), flush=True)
    (OUT_DIR / f"exact_search_{args.faces}.json").write_text(json.dumps(report, indent=2))
    raw.close()


if __name__ == "__main__":
    main()
