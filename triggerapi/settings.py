"""Settings come from the environment (and an optional `.env`); see COMMANDS.md for the list."""

import logging
from pathlib import Path

import environ

from triggerapi.secret_key import secret_key_for

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()
if (BASE_DIR / ".env").is_file():
    # Only a developer's checkout has one; django-environ logs a warning for each read without.
    environ.Env.read_env(BASE_DIR / ".env")

IS_LAMBDA = bool(env.str("AWS_LAMBDA_FUNCTION_NAME", default=""))
DEBUG = env.bool("DEBUG", default=False)

# Required on Lambda and with DEBUG off; a development checkout without one uses the key in
# its git-ignored .secret_key, the same for all its processes (triggerapi/secret_key.py).
SECRET_KEY = secret_key_for(
    configured=env.str("SECRET_KEY", default=""), base_dir=BASE_DIR, is_lambda=IS_LAMBDA, debug=DEBUG
)
# Earlier keys, still accepted for what they signed or sealed (cursors, sessions, hook secrets).
SECRET_KEY_FALLBACKS = env.list("SECRET_KEY_FALLBACKS", default=[])

ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["localhost", "127.0.0.1"])
if IS_LAMBDA:
    ALLOWED_HOSTS += [f".execute-api.{env.str('AWS_REGION', default='us-east-1')}.amazonaws.com"]

INSTALLED_APPS = [
    "django.contrib.staticfiles",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    # In the order create_tables makes the tables each declares (its AppConfig's `tables`).
    "tenants",
    "events",
    "browser",
    "hooks",
    "limits",
    "activity",
    "console",
]

MIDDLEWARE = [
    "triggerapi.middleware.RequestIdMiddleware",
    # The request's metrics, one EMF line per group when it ends (triggerapi/metrics.py).
    "triggerapi.middleware.MetricsMiddleware",
    # No store attempt starts after STORE_BUDGET_SECONDS into a request.
    "triggerapi.middleware.BudgetMiddleware",
    # RateLimit and RateLimit-Policy on every answer to a request that took a rate token.
    "limits.requests.RateLimitHeadersMiddleware",
    # Outside CommonMiddleware, which sets Content-Length: HEAD keeps GET's and drops the body.
    "triggerapi.http_methods.HeadMiddleware",
    "django.middleware.security.SecurityMiddleware",
    # Content-Security-Policy, and CORS preflights refused (triggerapi/headers.py).
    "triggerapi.headers.SecurityHeadersMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Checks the Host header before any view runs, so a bad host never half-does a write.
    "django.middleware.common.CommonMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    # The browsable API's login: a session in DynamoDB, and CSRF for the forms that
    # use it. API views are CSRF-exempt here; DRF checks CSRF itself for cookie-authenticated
    # writes (tenants.authentication.ApiKeySessionAuthentication).
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
]

# Security headers (django.middleware.security.SecurityMiddleware). `same-origin` rather
# than `no-referrer`: with no-referrer a browser sends `Origin: null` on a same-origin form
# post, and Django's CSRF check would refuse the login form.
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
# API Gateway is https only, so browsers may be told never to try http. Locally the API is
# plain http (and SecurityMiddleware only sends HSTS over https anyway).
SECURE_HSTS_SECONDS = 365 * 86400 if IS_LAMBDA else 0

APPEND_SLASH = False
ROOT_URLCONF = "triggerapi.urls"
WSGI_APPLICATION = "triggerapi.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {"context_processors": ["django.template.context_processors.request"]},
    }
]

# No relational database: everything lives in DynamoDB.
DATABASES: dict = {}

CACHES = {
    "default": {
        # LocMemCache without its pickling (triggerapi/cache.py): API keys, tenant limits.
        "BACKEND": "triggerapi.cache.ObjectCache",
        "LOCATION": "triggerapi",
        "OPTIONS": {"MAX_ENTRIES": 10_000},
    }
}

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = False
USE_TZ = True

STATIC_URL = "/static/"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    # Links /prod/static/... behind API Gateway's default URL, where the stage is in the path.
    "staticfiles": {"BACKEND": "triggerapi.staticfiles.ScriptPrefixedStaticFilesStorage"},
}
# A packaged build collects static files into staticfiles/ (collectstatic needs the folder
# to exist); without that folder they are served straight from the apps.
_COLLECTED = BASE_DIR / "staticfiles"
STATIC_ROOT = _COLLECTED if _COLLECTED.is_dir() else None
WHITENOISE_USE_FINDERS = STATIC_ROOT is None

# Batches are the largest bodies the API takes (1 MiB); single events are checked at 256 KiB.
DATA_UPLOAD_MAX_MEMORY_SIZE = 1024 * 1024

# Browser sessions live in DynamoDB (`{prefix}-Sessions`, browser/sessions.py), so logging
# out ends them on the server: the cookie is a random id, HttpOnly, and Secure behind API
# Gateway's https. A session holds the API key's hash, never the key.
SESSION_ENGINE = "browser.sessions"
SESSION_COOKIE_AGE = 12 * 3600
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
SESSION_COOKIE_SECURE = IS_LAMBDA
# DRF's pages and Swagger UI take the token from the page, so scripts need not read the cookie.
CSRF_COOKIE_HTTPONLY = True
CSRF_COOKIE_SECURE = IS_LAMBDA
# A form posted without its CSRF token: a 403 in the API's envelope (a console page saying
# it, to a browser on the console), not Django's own HTML page.
CSRF_FAILURE_VIEW = "console.pages.csrf_failure"

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        # The header comes first: its WWW-Authenticate: Bearer is what a 401 carries.
        "tenants.authentication.ApiKeyAuthentication",
        "tenants.authentication.ApiKeySessionAuthentication",
    ],
    # The tenant's request rate first: a key without the scope still spends a token.
    "DEFAULT_PERMISSION_CLASSES": ["limits.requests.WithinRequestRate", "tenants.permissions.HasScope"],
    "DEFAULT_PARSER_CLASSES": ["triggerapi.parsers.StrictJSONParser"],
    "DEFAULT_RENDERER_CLASSES": [
        "rest_framework.renderers.JSONRenderer",
        "browser.renderers.BrowsableAPIRenderer",
    ],
    "DEFAULT_CONTENT_NEGOTIATION_CLASS": "triggerapi.negotiation.ContentNegotiation",
    "DEFAULT_SCHEMA_CLASS": "triggerapi.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "triggerapi.exceptions.exception_handler",
    "UNAUTHENTICATED_USER": None,
    "UNAUTHENTICATED_TOKEN": None,
}

# DynamoDB
DYNAMODB_HOST = env.str("DYNAMODB_HOST", default="") or None
AWS_REGION = env.str("AWS_REGION", default="us-east-1")
TABLE_PREFIX = env.str("TABLE_PREFIX", default="TriggerApi")
# How long the store may take (README, "Failure behaviour"): each attempt of a call waits at
# most connect + read timeout; a call makes at most STORE_ATTEMPTS attempts; no attempt
# starts later than STORE_BUDGET_SECONDS into a request. So a request ends within about
# budget + connect + read (14 s), well inside API Gateway's 29 s.
STORE_CONNECT_TIMEOUT_SECONDS = env.float("STORE_CONNECT_TIMEOUT_SECONDS", default=1.0)
STORE_READ_TIMEOUT_SECONDS = env.float("STORE_READ_TIMEOUT_SECONDS", default=3.0)
STORE_ATTEMPTS = env.int("STORE_ATTEMPTS", default=3)
STORE_BUDGET_SECONDS = env.float("STORE_BUDGET_SECONDS", default=10.0)
# create_tables turns on point-in-time recovery and deletion protection; off against a local
# store, whose tables the tests drop.
PROTECT_TABLES = env.bool("PROTECT_TABLES", default=not DYNAMODB_HOST)

# Delivery and retention
MAX_ATTEMPTS = env.int("MAX_ATTEMPTS", default=5)
RETENTION_DAYS = env.int("RETENTION_DAYS", default=30)
DELIVERED_RETENTION_DAYS = env.int("DELIVERED_RETENTION_DAYS", default=7)
AUTH_CACHE_SECONDS = env.int("AUTH_CACHE_SECONDS", default=60)

# Tenant limits (LIMITS.md): the defaults for every tenant; `manage.py set_limits` sets a
# tenant's own. A change applies everywhere within LIMITS_CACHE_SECONDS (each process reads
# a tenant's limits at most that often).
TENANT_RATE_LIMIT = env.int("TENANT_RATE_LIMIT", default=100)
TENANT_RATE_BURST = env.int("TENANT_RATE_BURST", default=200)
TENANT_MAX_WAITING_CLAIMS = env.int("TENANT_MAX_WAITING_CLAIMS", default=10)
TENANT_DELIVERIES_PER_SECOND = env.int("TENANT_DELIVERIES_PER_SECOND", default=50)
HOOK_MAX_IN_FLIGHT = env.int("HOOK_MAX_IN_FLIGHT", default=10)
LIMITS_CACHE_SECONDS = env.int("LIMITS_CACHE_SECONDS", default=30)
# The rate limiter's store calls (limits/buckets.py): one attempt, this long at most to
# connect and as long to read; a call that fails lets its request through (logged).
LIMITER_TIMEOUT_SECONDS = env.float("LIMITER_TIMEOUT_SECONDS", default=1.0)
# Claims waiting at once in one server process, whatever their tenants (0: no bound, as on
# Lambda, where an instance serves one request at a time). A server sets it below its
# thread count, so that requests that do not wait always find a thread (README).
WAITING_CLAIMS_PER_PROCESS = env.int("WAITING_CLAIMS_PER_PROCESS", default=0)

# Push delivery (webhooks, hooks/). Targets must be https and resolve only to public
# addresses; the two switches lift that for local development and tests. On Lambda both stay
# off whatever the environment says (the cloud metadata address is a private target).
HOOKS_ALLOW_HTTP = env.bool("HOOKS_ALLOW_HTTP", default=False) and not IS_LAMBDA
HOOKS_ALLOW_PRIVATE_TARGETS = env.bool("HOOKS_ALLOW_PRIVATE_TARGETS", default=False) and not IS_LAMBDA
# The whole of one delivery attempt: connecting, TLS, sending, and reading the answer.
HOOKS_TIMEOUT_SECONDS = env.float("HOOKS_TIMEOUT_SECONDS", default=15.0)

LOG_LEVEL = env.str("LOG_LEVEL", default="INFO")
# The operator's CloudWatch metrics, as Embedded Metric Format lines on stdout
# (triggerapi/metrics.py); whatever LOG_LEVEL says.
METRICS_ENABLED = env.bool("METRICS_ENABLED", default=True)
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"request_id": {"()": "triggerapi.middleware.RequestIdLogFilter"}},
    # One JSON object a line (triggerapi/logs.py), on stderr, which Lambda sends to CloudWatch.
    # A metrics line is its EMF object alone: CloudWatch takes no other shape.
    "formatters": {"json": {"()": "triggerapi.logs.JsonFormatter"}, "bare": {"format": "%(message)s"}},
    "handlers": {
        "console": {"class": "logging.StreamHandler", "formatter": "json", "filters": ["request_id"]},
        "metrics": {"class": "logging.StreamHandler", "formatter": "bare", "stream": "ext://sys.stdout"},
    },
    "root": {"handlers": ["console"], "level": LOG_LEVEL},
    "loggers": {
        "triggerapi.metrics": {"handlers": ["metrics"], "level": "INFO", "propagate": False},
        # Our access line (triggerapi.middleware) replaces Django's own request warnings.
        "django.request": {"level": "ERROR"},
        "botocore": {"level": "WARNING"},
        "pynamodb": {"level": "WARNING"},
        # On Lambda, Zappa logs its own line per request too; ours has the request id.
        "zappa": {"level": "WARNING"},
    },
}
logging.captureWarnings(True)

# OpenAPI 3 at /v1/schema/, Swagger UI at /v1/docs/ (its files served from the sidecar
# package, so the docs work offline and on Lambda without a CDN).
SPECTACULAR_SETTINGS = {
    "TITLE": "triggerapi",
    "DESCRIPTION": (
        "A multi-tenant event ingestion API. Send `Authorization: Bearer <api key>` on every `/v1` call "
        '(the Authorize button). Every error is `{"error": {"code", "message", "details"}}`, and every '
        "response carries `X-Request-ID`. Lists page with an opaque `cursor`."
    ),
    "VERSION": "1",
    "SCHEMA_PATH_PREFIX": r"/v1",
    "SERVE_INCLUDE_SCHEMA": False,
    "SERVE_AUTHENTICATION": [],
    "AUTHENTICATION_WHITELIST": ["tenants.authentication.ApiKeyAuthentication"],
    "ENUM_GENERATE_CHOICE_DESCRIPTION": False,
    "ENUM_NAME_OVERRIDES": {
        "ErrorCodeEnum": "triggerapi.openapi.ERROR_CODES",
        "EventStatusEnum": "events.models.STATUSES",
        "HookStatusEnum": "hooks.models.HOOK_STATUSES",
        "DeliveryStatusEnum": "hooks.models.DELIVERY_STATUSES",
        "DisabledReasonEnum": "hooks.models.DISABLED_REASONS",
    },
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "SWAGGER_UI_SETTINGS": {"deepLinking": True},
    "PREPROCESSING_HOOKS": ["triggerapi.openapi.strip_trailing_slash"],
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "triggerapi.openapi.add_common_headers",
        "events.schema.strict_bodies",
    ],
}
