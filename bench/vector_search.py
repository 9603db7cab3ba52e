"""Filtered nearest-face search over many synthetic faces: speed and recall by index design.

Synthetic people are fitted to real Dlib embeddings (var/bench/embeddings.npz,
written by bench/face_pipeline.py): each person's centre is drawn around the
real centres' mean with their per-dimension spread, each face adds noise with
the real within-person spread, and both scales are tuned so the synthetic
within-person and between-person distance medians equal the real ones.
Uniformly random vectors would be a degenerate case no index handles.

Faces are split like the portal's: side (case/seeker), sex (M/F/U), a
birth-year range. A query is a new photo of a stored person, searched with
the portal's filters (same side, compatible sex, overlapping birth years); it
succeeds if every face of that person that exact search ranks in its top 10
is among the rows returned (LIMIT = MATCH_SEARCH_LIMIT).

Runs in its own database (``reunion_bench`` on the embedded server, or
``--database``), never the portal's or the tests'.

    .venv/bin/python bench/vector_search.py --faces 1000000 --queries 300
"""

from __future__ import annotations

import argparse
import io
import json
import os
import statistics
import time

import numpy as np
from _django import OUT_DIR, embedded_server, setup

DIM = 128
SIDES = (b"c", b"s")
SEXES = (b"M", b"F", b"U")


def fit(path) -> dict:
    """Centre mean and spreads from real embeddings, scaled to match real distance medians."""
    data = np.load(path)
    vectors, people = data["vectors"].astype(np.float64), data["people"]
    names = sorted(set(people))
    centres = np.stack([vectors[people == p].mean(axis=0) for p in names])
    residuals = np.concatenate([vectors[people == p] - centres[i] for i, p in enumerate(names)])
    within_sd = residuals.std(axis=0)
    between_sd = centres.std(axis=0)
    centre_mean = centres.mean(axis=0)
    distances = 1 - vectors @ vectors.T
    same = people[:, None] == people[None, :]
    upper = np.triu(np.ones_like(same), 1).astype(bool)
    real_within = np.median(distances[same & upper])
    real_between = np.median(distances[~same & upper])
    rng = np.random.default_rng(7)

    def synthetic_medians(a: float, b: float) -> tuple[float, float]:
        c = centre_mean + a * between_sd * rng.standard_normal((400, DIM))
        f1 = c + b * within_sd * rng.standard_normal((400, DIM))
        f2 = c + b * within_sd * rng.standard_normal((400, DIM))
        f1 /= np.linalg.norm(f1, axis=1, keepdims=True)
        f2 /= np.linalg.norm(f2, axis=1, keepdims=True)
        within = np.median(1 - np.sum(f1 * f2, axis=1))
        between = np.median(1 - np.sum(f1[:-1] * f2[1:], axis=1))
        return within, between

    a = b = 1.0
    for _ in range(30):  # fixed-point: scale each spread toward its target
        within, between = synthetic_medians(a, b)
        b *= np.sqrt(real_within / within)
        a *= np.sqrt(max(real_between - real_within, 1e-4) / max(between - within, 1e-4))
    within, between = synthetic_medians(a, b)
    return {
        "centre_mean": centre_mean, "between_sd": a * between_sd, "within_sd": b * within_sd,
        "real_within_median": float(real_within), "real_between_median": float(real_between),
        "synthetic_within_median": float(within), "synthetic_between_median": float(between),
    }


def people_table(total_faces: int, model: dict, rng: np.random.Generator) -> dict[str, np.ndarray]:
    """People with 1 to 4 faces each, until ``total_faces`` faces, with their face centres."""
    count = int(total_faces / 2.5) + 10
    faces_each = rng.integers(1, 5, count)
    keep = np.searchsorted(np.cumsum(faces_each), total_faces) + 1
    faces_each = faces_each[:keep]
    faces_each[-1] -= faces_each.sum() - total_faces
    side = rng.integers(0, 2, keep)
    sex = rng.choice(3, keep, p=[0.45, 0.45, 0.10])
    born = rng.integers(1950, 2021, keep)
    width = np.where(side == 0, rng.integers(0, 3, keep), rng.integers(0, 9, keep))
    born_min = born - width // 2
    centres = (
        model["centre_mean"] + model["between_sd"] * rng.standard_normal((keep, DIM))
    ).astype(np.float32)
    return {
        "faces": faces_each, "side": side, "sex": sex,
        "born_min": born_min, "born_max": born_min + width, "centres": centres,
    }


ROW = np.dtype([
    ("n", ">i2"),
    ("l_id", ">i4"), ("id", ">i8"),
    ("l_person", ">i4"), ("person", ">i4"),
    ("l_side", ">i4"), ("side", "S1"),
    ("l_sex", ">i4"), ("sex", "S1"),
    ("l_bmin", ">i4"), ("bmin", ">i2"),
    ("l_bmax", ">i4"), ("bmax", ">i2"),
    ("l_vec", ">i4"), ("dim", ">i2"), ("unused", ">i2"), ("vec", ">f4", (DIM,)),
])


def copy_faces(cursor, model: dict, people: dict, rng, chunk_people: int = 40_000) -> None:
    """Writes the faces with binary COPY, in chunks (one person's faces share a centre)."""
    total_people = len(people["faces"])
    next_id = 1
    for start in range(0, total_people, chunk_people):
        stop = min(total_people, start + chunk_people)
        counts = people["faces"][start:stop]
        person = np.repeat(np.arange(start, stop), counts)
        centres = people["centres"][start:stop].astype(np.float64)
        vectors = centres[person - start] + model["within_sd"] * rng.standard_normal(
            (len(person), DIM)
        )
        vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
        rows = np.zeros(len(person), dtype=ROW)
        rows["n"] = 7
        rows["l_id"], rows["id"] = 8, np.arange(next_id, next_id + len(person))
        rows["l_person"], rows["person"] = 4, person
        rows["l_side"], rows["side"] = 1, np.array(SIDES)[people["side"][person]]
        rows["l_sex"], rows["sex"] = 1, np.array(SEXES)[people["sex"][person]]
        rows["l_bmin"], rows["bmin"] = 2, people["born_min"][person]
        rows["l_bmax"], rows["bmax"] = 2, people["born_max"][person]
        rows["l_vec"], rows["dim"], rows["vec"] = 4 + 4 * DIM, DIM, vectors
        payload = io.BytesIO()
        payload.write(b"PGCOPY\n\xff\r\n\x00" + b"\x00" * 8)
        payload.write(rows.tobytes())
        payload.write(b"\xff\xff")
        payload.seek(0)
        cursor.copy_expert(
            "COPY bench_face (id, person, side, sex, birth_year_min, birth_year_max, embedding) "
            "FROM STDIN WITH (FORMAT binary)", payload,
        )
        next_id += len(person)
        print(f"  copied {next_id - 1} faces", flush=True)


def timed(label: str, cursor, sql: str) -> float:
    start = time.perf_counter()
    cursor.execute(sql)
    seconds = time.perf_counter() - start
    print(f"  {label}: {seconds:.1f} s", flush=True)
    return seconds


def create_and_load(cursor, model, people, rng) -> dict:
    """Creates ``bench_face`` and loads the synthetic faces into it; returns the copy's time."""
    cursor.execute("CREATE EXTENSION IF NOT EXISTS vector")
    cursor.execute("DROP TABLE IF EXISTS bench_face")
    cursor.execute(
        "CREATE TABLE bench_face (id bigint PRIMARY KEY, person integer NOT NULL, "
        "side text NOT NULL, sex text NOT NULL, birth_year_min smallint NOT NULL, "
        "birth_year_max smallint NOT NULL, searchable boolean NOT NULL DEFAULT true, "
        "embedding vector(128) NOT NULL)"
    )
    start = time.perf_counter()
    copy_faces(cursor, model, people, rng)
    return {"copy": time.perf_counter() - start}


def build(cursor, model, people, rng, strategies, m, ef_construction) -> dict:
    """Creates the table, loads it and builds the indexes each strategy needs; returns timings."""
    timings = create_and_load(cursor, model, people, rng)
    timings["btree"] = timed("btree (side, sex, birth years)", cursor,
        "CREATE INDEX bench_face_facts ON bench_face (side, sex, birth_year_min, birth_year_max) "
        "WHERE searchable")
    timings.update(build_indexes(cursor, strategies, m, ef_construction))
    return timings


def build_indexes(cursor, strategies, m, ef_construction) -> dict:
    """The HNSW indexes the strategies need (kept between runs with ``--reuse``)."""
    timings = {}
    cursor.execute("SET maintenance_work_mem = '3GB'")
    cursor.execute("SET max_parallel_maintenance_workers = 1")
    options = f"WITH (m = {m}, ef_construction = {ef_construction})"
    if "partial" in strategies:
        timings["partial_hnsw"] = 0.0
        for side in ("c", "s"):
            for sex in ("M", "F", "U"):
                timings["partial_hnsw"] += timed(
                    f"HNSW side={side} sex={sex}", cursor,
                    f"CREATE INDEX IF NOT EXISTS bench_face_hnsw_{side}_{sex.lower()} "
                    f"ON bench_face USING hnsw (embedding vector_cosine_ops) {options} "
                    f"WHERE searchable AND side = '{side}' AND sex = '{sex}'",
                )
    if "global" in strategies:
        timings["global_hnsw"] = timed(
            "HNSW over all faces", cursor,
            f"CREATE INDEX IF NOT EXISTS bench_face_hnsw ON bench_face USING hnsw "
            f"(embedding vector_cosine_ops) {options}",
        )
    timings["vacuum"] = timed("VACUUM ANALYZE", cursor, "VACUUM ANALYZE bench_face")
    return timings


def filters(query: dict, sex_list: list[str]) -> str:
    sexes = ",".join(f"'{s}'" for s in sex_list)
    return (
        f"searchable AND side = '{query['side']}' AND sex IN ({sexes}) "
        f"AND birth_year_min <= {query['born_max']} AND birth_year_max >= {query['born_min']}"
    )


def compatible(sex: str) -> list[str]:
    return ["M", "F", "U"] if sex == "U" else [sex, "U"]


def sql_for(strategy: str, query: dict, limit: int) -> str:
    vector = "'[" + ",".join(f"{v:.7g}" for v in query["vector"]) + "]'"
    if strategy == "partial":
        # One branch per sex so each branch's predicate matches one partial index.
        branches = [
            f"(SELECT id, person, embedding <=> {vector} AS distance FROM bench_face "
            f"WHERE {filters(query, [sex])} ORDER BY embedding <=> {vector} LIMIT {limit})"
            for sex in compatible(query["sex"])
        ]
        return (
            "SELECT id, person, distance FROM (" + " UNION ALL ".join(branches) + ") AS found "
            f"ORDER BY distance LIMIT {limit}"
        )
    order = f"embedding <=> {vector}"
    if strategy in ("exact", "covering"):
        order = f"({order}) + 0"
    return (
        f"SELECT id, person, embedding <=> {vector} AS distance FROM bench_face "
        f"WHERE {filters(query, compatible(query['sex']))} "
        f"ORDER BY {order} LIMIT {limit}"
    )


def run_query(cursor, strategy: str, query: dict, limit: int, ef_search: int) -> tuple[list, float]:
    cursor.execute("BEGIN")
    if strategy in ("exact", "covering"):
        pass  # ordered by an expression no HNSW index serves: every filtered row is compared
    else:
        cursor.execute("SET LOCAL hnsw.iterative_scan = relaxed_order")
        cursor.execute(f"SET LOCAL hnsw.ef_search = {ef_search}")
    sql = sql_for(strategy, query, limit)
    start = time.perf_counter()
    cursor.execute(sql)
    rows = cursor.fetchall()
    seconds = time.perf_counter() - start
    cursor.execute("COMMIT")
    rows.sort(key=lambda row: (row[2], row[0]))
    return rows, seconds


def make_queries(model, people, rng, count) -> list[dict]:
    stored = np.flatnonzero(people["faces"] > 0)
    queries = []
    for person in rng.choice(stored, count, replace=False):
        # The stored person's centre is re-drawn from its faces' mean: fetched below.
        queries.append({
            "person": int(person),
            "side": SIDES[people["side"][person]].decode(),
            "sex": SEXES[people["sex"][person]].decode(),
            # The searching person's own range, overlapping the stored one.
            "born_min": int(people["born_min"][person]) - 2,
            "born_max": int(people["born_max"][person]) + 2,
        })
    return queries


def attach_vectors(model, people, queries, rng) -> None:
    """A new photo of each queried person: their centre plus fresh within-person noise."""
    for query in queries:
        centre = people["centres"][query["person"]].astype(np.float64)
        vector = centre + model["within_sd"] * rng.standard_normal(DIM)
        query["vector"] = vector / np.linalg.norm(vector)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--faces", type=int, default=1_000_000)
    parser.add_argument("--queries", type=int, default=300)
    parser.add_argument("--limit", type=int, default=100, help="rows returned (MATCH_SEARCH_LIMIT)")
    parser.add_argument("--strategies", default="exact,partial,global")
    parser.add_argument("--ef-search", default="40,100,200")
    parser.add_argument("--m", type=int, default=16)
    parser.add_argument("--ef-construction", type=int, default=64)
    parser.add_argument("--database", default="reunion_bench")
    parser.add_argument("--reuse", action="store_true", help="keep the loaded table")
    parser.add_argument(
        "--pgdata", default="",
        help="run on a dedicated embedded server in this folder (e.g. var/bench/pgdata) "
        "instead of the portal's server, configured with --shared-buffers",
    )
    parser.add_argument("--shared-buffers", default="2GB")
    args = parser.parse_args()
    os.environ["REUNION_DB_NAME"] = args.database
    setup()

    strategies = args.strategies.split(",")
    rng = np.random.default_rng(2024)
    model = fit(OUT_DIR / "embeddings.npz")
    print("fit: real within/between median distance "
          f"{model['real_within_median']:.4f}/{model['real_between_median']:.4f}, synthetic "
          f"{model['synthetic_within_median']:.4f}/{model['synthetic_between_median']:.4f}")
    people = people_table(args.faces, model, rng)
    server = None
    if args.pgdata:
        import psycopg2

        server = embedded_server(args.pgdata, {"shared_buffers": args.shared_buffers})
        raw = psycopg2.connect(server.get_uri())
    else:
        from django.db import connection

        connection.ensure_connection()
        raw = connection.connection
    raw.autocommit = True
    cursor = raw.cursor()
    cursor.execute("SHOW shared_buffers")
    print(f"shared_buffers {cursor.fetchone()[0]}")
    timings = {}
    if not args.reuse:
        timings = build(cursor, model, people, rng, strategies, args.m, args.ef_construction)
    else:
        cursor.execute("DROP INDEX IF EXISTS bench_face_covering")
        timings = build_indexes(cursor, strategies, args.m, args.ef_construction)
    # Warm the caches with other queries first: a live portal's server is warm too.
    warm_up = make_queries(model, people, np.random.default_rng(97), args.queries)
    attach_vectors(model, people, warm_up, np.random.default_rng(96))
    for query in warm_up:
        run_query(cursor, "exact", query, args.limit, 0)
    queries = make_queries(model, people, np.random.default_rng(98), args.queries)
    attach_vectors(model, people, queries, np.random.default_rng(99))

    results = {}
    truth = {}
    for query_number, query in enumerate(queries):
        rows, seconds = run_query(cursor, "exact", query, args.limit, 0)
        top10 = rows[:10]
        truth[query_number] = {row[0] for row in top10 if row[1] == query["person"]}
        results.setdefault(("exact", 0), []).append((seconds, True))
    for strategy in [s for s in strategies if s != "exact"]:
        if strategy == "covering":
            # Exact search answered from the index alone: the btree carries the vectors.
            timings["covering_btree"] = timed(
                "covering btree", cursor,
                "CREATE INDEX IF NOT EXISTS bench_face_covering ON bench_face "
                "(side, sex, birth_year_min) INCLUDE (birth_year_max, searchable, id, person, "
                "embedding)",
            )
            timed("VACUUM ANALYZE", cursor, "VACUUM ANALYZE bench_face")
        ef_values = [int(v) for v in args.ef_search.split(",")]
        for ef_search in ef_values if strategy != "covering" else [0]:
            key = (strategy, ef_search)
            for query_number, query in enumerate(queries):
                rows, seconds = run_query(cursor, strategy, query, args.limit, ef_search)
                found = {row[0] for row in rows}
                results.setdefault(key, []).append((seconds, truth[query_number] <= found))
    exact_median = statistics.median(s for s, _ in results[("exact", 0)])
    report = {
        "faces": args.faces, "queries": args.queries, "limit": args.limit, "m": args.m,
        "ef_construction": args.ef_construction, "build_seconds": timings,
        "fit": {k: v for k, v in model.items() if isinstance(v, float)},
        "queries_with_person_in_exact_top10": sum(1 for t in truth.values() if t),
        "rows": [],
    }
    print(f"\n{args.faces} faces, {args.queries} queries, LIMIT {args.limit}")
    print(f"{'strategy':10} {'ef_search':>9} {'median ms':>9} {'p95 ms':>8} "
          f"{'vs exact':>8} {'recall':>7}")
    for (strategy, ef_search), values in results.items():
        times = sorted(s for s, _ in values)
        median = statistics.median(times)
        row = {
            "strategy": strategy, "ef_search": ef_search, "median_ms": median * 1000,
            "p95_ms": times[int(0.95 * (len(times) - 1))] * 1000,
            "speedup_vs_exact": exact_median / median,
            "recall": sum(ok for _, ok in values) / len(values),
        }
        report["rows"].append(row)
        print(f"{strategy:10} {ef_search:9d} {row['median_ms']:9.1f} {row['p95_ms']:8.1f} "
              f"{row['speedup_vs_exact']:8.2f} {row['recall']:7.3f}", flush=True)
    suffix = "_dedicated" if args.pgdata else ""
    (OUT_DIR / f"vector_search_{args.faces}{suffix}.json").write_text(json.dumps(report, indent=2))
    if server is not None:
        raw.close()  # the server stops when this process exits (cleanup_mode="stop")


if __name__ == "__main__":
    main()
