#!/bin/sh
# web: migrate, then gunicorn. worker: a face worker (non-forking, model kept warm).
set -e
python manage.py install_face_weights
case "$1" in
  web)
    python manage.py migrate --noinput
    exec gunicorn reunion.wsgi:application --bind 0.0.0.0:8000 \
      --workers "${WEB_CONCURRENCY:-3}" --timeout 60 --access-logfile -
    ;;
  worker)
    exec python manage.py rqworker --worker-class reunion.worker.PortalWorker \
      --name "reunion-worker-${HOSTNAME}" --with-scheduler face match notify import face-bulk
    ;;
  *)
    exec "$@"
    ;;
esac
