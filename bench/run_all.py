"""``make bench``: every benchmark, one after the other; results in var/bench/.

Face pipeline, HNSW against exact search, the exact search's layouts, the cross-age
evaluation's ranking and cache, ingest throughput, ingest time per face of each model.

    .venv/bin/python bench/run_all.py            # face pipeline, then 1,000,000 faces
    BENCH_FACES=200000 .venv/bin/python bench/run_all.py

The load test (bench/load/run.sh) starts servers of its own and runs separately.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent


def run(script: str, *args: str) -> None:
    print(f"== {script} {' '.join(args)}", flush=True)
    subprocess.run([sys.executable, str(HERE / script), *args], cwd=HERE, check=True)


def main() -> None:
    run("face_pipeline.py", "--repeat", "3")
    run(
        "vector_search.py",
        "--faces", os.environ.get("BENCH_FACES", "1000000"),
        "--queries", os.environ.get("BENCH_QUERIES", "300"),
    )
    run(
        "exact_search.py",
        "--faces", os.environ.get("BENCH_FACES", "1000000"),
        "--queries", os.environ.get("BENCH_QUERIES", "300"),
    )
    run("crossage_ranking.py")
    run("ingest.py")
    run("ingest_models.py")


if __name__ == "__main__":
    main()
