#!/usr/bin/env bash
# Load test: 50 people browsing and searching and 5 families uploading photos, for
# LOAD_DURATION (2 minutes), against gunicorn on loopback with production settings,
# one face worker, and a database and Redis database of its own. Fails on any HTTP
# error or if the worker has not caught up LOAD_DRAIN_TIMEOUT seconds after the end.
# LOAD_REDIS_URL must name a Redis database nothing else uses: it is emptied, and a
# test run or portal sharing it would take this run's jobs (and this worker theirs).
#
#   bench/load/run.sh            # results in var/bench/load/summary.md
set -euo pipefail
cd "$(dirname "$0")/../.."

PY=.venv/bin/python
OUT=var/bench/load
PORT=${LOAD_PORT:-8765}
DURATION=${LOAD_DURATION:-2m}
BROWSERS=${LOAD_BROWSERS:-50}
UPLOADERS=5
export DEBUG=false
export SECRET_KEY=${SECRET_KEY:-load-test-$(head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n')}
export ALLOWED_HOSTS=127.0.0.1
export REUNION_DB_NAME=${LOAD_DB_NAME:-reunion_load}
export REDIS_URL=${LOAD_REDIS_URL:-redis://127.0.0.1:6379/14}
export MEDIA_ROOT=$PWD/$OUT/media
export STATIC_ROOT=$PWD/$OUT/static
export CONN_MAX_AGE=60
export EMAIL_URL=dummymail://
export TF_CPP_MIN_LOG_LEVEL=3 LOG_LEVEL=WARNING

rm -rf "$OUT" && mkdir -p "$OUT"
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
  $PY -c "import os, redis; redis.Redis.from_url(os.environ['REDIS_URL']).flushdb()" || true
}

keys=$($PY -c "import os, redis; print(redis.Redis.from_url(os.environ['REDIS_URL']).dbsize())")
if [ "$keys" != 0 ]; then
  echo "Redis database $REDIS_URL holds $keys keys: something else may be using it." >&2
  echo "Pick an unused one with LOAD_REDIS_URL (or empty it if it is yours)." >&2
  exit 2
fi
trap cleanup EXIT
echo "== database $REUNION_DB_NAME, Redis $REDIS_URL: emptied"
$PY manage.py migrate --noinput >"$OUT/migrate.log"
$PY manage.py flush --noinput
$PY manage.py collectstatic --noinput >"$OUT/collectstatic.log"

echo "== gunicorn on 127.0.0.1:$PORT (as docker-entrypoint.sh runs it) and one face worker"
.venv/bin/gunicorn reunion.wsgi:application --bind "127.0.0.1:$PORT" \
  --workers "${WEB_CONCURRENCY:-3}" --timeout 60 >"$OUT/gunicorn.log" 2>&1 &
pids+=($!)
$PY manage.py rqworker --worker-class reunion.worker.PortalWorker --with-scheduler \
  face match notify >"$OUT/worker.log" 2>&1 &
pids+=($!)
for _ in $(seq 60); do
  curl -fsS -o /dev/null -H "X-Forwarded-Proto: https" "http://127.0.0.1:$PORT/cases/" && break
  sleep 1
done

echo "== seeding, and waiting for the worker to process the seeded photos"
$PY bench/load/seed.py
$PY bench/load/report.py --wait-idle 600

echo "== $BROWSERS browsing + $UPLOADERS uploading users for $DURATION"
started=$($PY -c "from datetime import datetime, timezone; print(datetime.now(timezone.utc).isoformat())")
status=0
.venv/bin/locust -f bench/load/locustfile.py --headless --users $((BROWSERS + UPLOADERS)) \
  --spawn-rate 10 --run-time "$DURATION" --stop-timeout 10 --host "http://127.0.0.1:$PORT" \
  --csv "$OUT/load" --only-summary --loglevel WARNING || status=$?

echo "== waiting for the worker to catch up"
$PY bench/load/report.py --wait-idle "${LOAD_DRAIN_TIMEOUT:-300}" --since "$started" \
  --stats "$OUT/load_stats.csv" --out "$OUT" || status=$?
exit $status
