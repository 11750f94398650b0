"""Settings of the C4ang platform: every value comes from the environment, with safe defaults.

Without any environment the platform runs embedded (SQLite, a SQLite-file cache, eager Celery,
fake payment gateway). Production sets C4ANG_ENV=production and gets the hardened settings;
it refuses to start without a real secret key or with DEBUG on.
"""

import os
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import dj_database_url
from django.core.checks.security.base import (
    SECRET_KEY_INSECURE_PREFIX,
    SECRET_KEY_MIN_LENGTH,
    SECRET_KEY_MIN_UNIQUE_CHARACTERS,
)
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent


def env_str(name: str, default: str) -> str:
    return os.environ.get(name, default)


def env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    if value.lower() in {"1", "true", "yes", "on"}:
        return True
    if value.lower() in {"0", "false", "no", "off"}:
        return False
    raise ImproperlyConfigured(f"{name} must be a boolean (1/0, true/false), got {value!r}")


def env_int(name: str, default: int) -> int:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    try:
        return int(value)
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be an integer, got {value!r}") from None


def env_list(name: str, default: str) -> list[str]:
    return [item.strip() for item in env_str(name, default).split(",") if item.strip()]


def env_choice(name: str, default: str, choices: set[str]) -> str:
    value = env_str(name, default)
    if value not in choices:
        raise ImproperlyConfigured(f"{name} must be one of {sorted(choices)}, got {value!r}")
    return value


# --- Environment and secrets -------------------------------------------------------------------

C4ANG_ENV = env_choice("C4ANG_ENV", "development", {"development", "test", "production"})
PRODUCTION = C4ANG_ENV == "production"
DEBUG = env_bool("DEBUG", False)


def _strong_key(key: str) -> bool:
    """Django's rule for a secret key (`check --deploy`, security.W009): at least 50 characters,
    at least 5 distinct ones, not a `django-insecure-` key. Production refuses any weaker key."""
    return (
        len(key) >= SECRET_KEY_MIN_LENGTH
        and len(set(key)) >= SECRET_KEY_MIN_UNIQUE_CHARACTERS
        and not key.startswith(SECRET_KEY_INSECURE_PREFIX)
    )


_DEVELOPMENT_SECRET_KEY = "django-insecure-c4ang-development-key-never-use-in-production"  # noqa: S105 - refused in production
SECRET_KEY = env_str("SECRET_KEY", _DEVELOPMENT_SECRET_KEY)
JWT_SIGNING_KEY = os.environ.get("JWT_SIGNING_KEY", SECRET_KEY)
if JWT_SIGNING_KEY == "" and not PRODUCTION:
    # Production refuses a key set but empty (a secret that did not reach the pod); never sign with "".
    JWT_SIGNING_KEY = SECRET_KEY
if PRODUCTION:
    if DEBUG:
        raise ImproperlyConfigured("DEBUG must be off when C4ANG_ENV=production")
    if not _strong_key(SECRET_KEY):
        raise ImproperlyConfigured(
            "C4ANG_ENV=production needs SECRET_KEY: at least 50 random characters (5 or more distinct)"
        )
    if not _strong_key(JWT_SIGNING_KEY):
        # Anyone who guesses the signing key signs their own tokens, staff ones included.
        raise ImproperlyConfigured(
            "C4ANG_ENV=production needs a strong JWT_SIGNING_KEY: at least 50 random characters "
            "(5 or more distinct), or unset to use SECRET_KEY"
        )

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "" if PRODUCTION else "localhost,127.0.0.1,[::1],testserver")
if PRODUCTION and not ALLOWED_HOSTS:
    raise ImproperlyConfigured("C4ANG_ENV=production needs ALLOWED_HOSTS (comma-separated)")
if PRODUCTION and any("*" in host for host in ALLOWED_HOSTS):
    # A wildcard lets any Host header through: poisoned password-reset links and cache keys.
    raise ImproperlyConfigured("C4ANG_ENV=production refuses a wildcard in ALLOWED_HOSTS: name the hosts")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", "")
# --- CORS (django-cors-headers) ---
# Browser apps served from other origins call the API: each origin allowed by name (comma list of
# scheme://host[:port]), none by default. Tokens travel in the Authorization header, never cookies,
# so no credentials mode; the admin and the probes get no CORS headers.
CORS_ALLOWED_ORIGINS = env_list("CORS_ALLOWED_ORIGINS", "")
for _origin in CORS_ALLOWED_ORIGINS:
    _parts = urlsplit(_origin)
    if _parts.scheme not in ("http", "https") or not _parts.netloc or _parts.path or _parts.query:
        raise ImproperlyConfigured(
            f"CORS_ALLOWED_ORIGINS takes origins, scheme://host[:port] without a path or '*', got {_origin!r}"
        )
CORS_URLS_REGEX = r"^/api/"
# What apps send beyond the CORS-safelisted headers: the token, JSON, the order's Idempotency-Key,
# the ETag of a polled order, a request id to quote to support.
CORS_ALLOW_HEADERS = ("accept", "authorization", "content-type", "idempotency-key", "if-none-match", "x-request-id")
# What apps may read beyond the safelisted response headers.
CORS_EXPOSE_HEADERS = ("ETag", "Idempotent-Replayed", "Retry-After", "X-Request-ID")
CORS_PREFLIGHT_MAX_AGE = env_int("CORS_PREFLIGHT_MAX_AGE_SECONDS", 3600)

# --- Modules ------------------------------------------------------------------------------------

# One image, several deployments: each process mounts only the URL prefixes of its modules.
C4ANG_ALL_MODULES = ("customers", "products", "orders", "payments", "recommendations", "saga", "admin")
_modules = env_list("C4ANG_MODULES", "all")
if _modules == ["all"]:
    C4ANG_MODULES = list(C4ANG_ALL_MODULES)
else:
    _unknown = sorted(set(_modules) - set(C4ANG_ALL_MODULES))
    if _unknown or not _modules:
        raise ImproperlyConfigured(
            f"C4ANG_MODULES must be 'all' or a comma list of {', '.join(C4ANG_ALL_MODULES)}; unknown: {_unknown}"
        )
    C4ANG_MODULES = _modules

# --- Applications -------------------------------------------------------------------------------

INSTALLED_APPS = [
    # Before the admin: its templates that extend the admin's (the header with the language switcher).
    "backoffice",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "rest_framework",
    "rest_framework_simplejwt",
    "rest_framework_simplejwt.token_blacklist",
    "axes",
    "corsheaders",  # CORS for browser apps (its system checks)
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_prometheus",
    "django_celery_beat",
    "c4ang",  # the healthcheck command and the job run records
    "customers",
    "products",
    "orders",
    "payments",
    "recommendations",
    "saga",
    "sentiment",
]

MIDDLEWARE = [
    # First: probes answer before host validation and the HTTPS redirect (kubelet uses the pod IP).
    "c4ang.health.ProbeMiddleware",
    # Every request the app serves, by module, URL pattern and status class (c4ang_http_request_duration_seconds).
    "c4ang.metrics.RequestMetricsMiddleware",
    "django_prometheus.middleware.PrometheusBeforeMiddleware",
    "c4ang.request_id.RequestIdMiddleware",
    # Public reads to the read replica when it has replayed what they show (nothing without one).
    "c4ang.replica.ReplicaMiddleware",
    # CORS above everything that may answer (HTTPS redirect, static files, the 308 of a missing
    # slash), so that a browser app on an allowed origin may read those answers too and preflights
    # are answered here.
    "corsheaders.middleware.CorsMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "c4ang.static_files.StaticFilesMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    # After sessions, before CommonMiddleware (Django's order): Korean or English (c4ang.language).
    "c4ang.language.LanguageMiddleware",
    # APPEND_SLASH with 308 (same method, same body), not 301.
    "c4ang.trailing_slash.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_prometheus.middleware.PrometheusAfterMiddleware",
    # Last, as axes asks: turns an admin sign-in refused by a lockout into the lockout page.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "c4ang.urls"
WSGI_APPLICATION = "c4ang.wsgi.application"
AUTH_USER_MODEL = "customers.User"
# axes first: a sign-in (admin form or API token) for a locked-out account and address stops there.
AUTHENTICATION_BACKENDS = ["axes.backends.AxesStandaloneBackend", "django.contrib.auth.backends.ModelBackend"]
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

# --- Data stores --------------------------------------------------------------------------------

VAR_DIR = Path(env_str("C4ANG_VAR_DIR", str(BASE_DIR / "var")))
DATABASE_URL = env_str("DATABASE_URL", "")
if not DATABASE_URL:
    VAR_DIR.mkdir(parents=True, exist_ok=True)
    DATABASE_URL = f"sqlite:///{VAR_DIR / 'c4ang.sqlite3'}"
DATABASES = {
    "default": dj_database_url.parse(
        DATABASE_URL,
        conn_max_age=env_int("DB_CONN_MAX_AGE", 60),
        conn_health_checks=True,
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # WAL and a busy timeout let the embedded server and a job write without "database is locked".
    DATABASES["default"]["OPTIONS"] = {
        "timeout": 20,
        "transaction_mode": "IMMEDIATE",
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    }
else:
    DATABASES["default"].setdefault("OPTIONS", {})["connect_timeout"] = env_int("DB_CONNECT_TIMEOUT", 5)
# A streaming replica of the PostgreSQL primary: the public catalog reads go to it whenever it has
# replayed what they must show (c4ang.replica); without the variable every read is the primary's.
DATABASE_REPLICA_URL = env_str("DATABASE_REPLICA_URL", "")
if DATABASE_REPLICA_URL:
    DATABASES["replica"] = {
        **dj_database_url.parse(
            DATABASE_REPLICA_URL, conn_max_age=env_int("DB_CONN_MAX_AGE", 60), conn_health_checks=True
        ),
        "OPTIONS": {"connect_timeout": env_int("DB_CONNECT_TIMEOUT", 5)},
        # The suite's test database has no replica of its own: its reads are the primary's.
        "TEST": {"MIRROR": "default"},
    }
    DATABASE_ROUTERS = ["c4ang.replica.ReplicaRouter"]
    if {DATABASES["default"]["ENGINE"], DATABASES["replica"]["ENGINE"]} != {"django.db.backends.postgresql"}:
        raise ImproperlyConfigured("DATABASE_REPLICA_URL is a streaming replica of a PostgreSQL DATABASE_URL")


def redis_worker_db(url: str, worker: str) -> str:
    """The pair of Redis databases of one parallel worker of the suite (pytest-xdist's gw0, gw1, ...),
    counted down from the URL's: gw0 keeps 15 (and 14 for its queues), gw1 takes 13 (12), ..."""
    parts = urlsplit(url)
    db = int(parts.path.strip("/") or 0) - 2 * int(worker.removeprefix("gw"))
    if db < 0:
        raise ImproperlyConfigured(f"REDIS_URL's database leaves no pair of databases for test worker {worker}")
    return urlunsplit(parts._replace(path=f"/{db}"))


REDIS_URL = env_str("REDIS_URL", "")
# Each test empties its cache's database: parallel workers of the suite each take their own (the
# root conftest hands the result on to the servers and workers the tests start).
if REDIS_URL and os.environ.get("PYTEST_VERSION") and os.environ.get("PYTEST_XDIST_WORKER"):
    REDIS_URL = redis_worker_db(REDIS_URL, os.environ["PYTEST_XDIST_WORKER"])
if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "django_redis.cache.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": env_str("CACHE_KEY_PREFIX", "c4ang"),
            "OPTIONS": {
                # Redis answers in well under a millisecond: a hung one must cost requests little.
                "SOCKET_CONNECT_TIMEOUT": env_int("REDIS_SOCKET_TIMEOUT_MS", 250) / 1000,
                "SOCKET_TIMEOUT": env_int("REDIS_SOCKET_TIMEOUT_MS", 250) / 1000,
                # Redis down degrades to the database instead of failing requests: reads miss, writes
                # and deletes are skipped, incr/add answer None (each logged by django_redis.cache).
                # /readyz reports the cache as degraded.
                "IGNORE_EXCEPTIONS": True,
            },
        }
    }
    DJANGO_REDIS_LOG_IGNORED_EXCEPTIONS = True
else:
    # Shared by every process that uses this database (gunicorn's workers, the jobs, the shell): a
    # cache in each process's memory kept serving what another process had changed, and counted rate
    # limits per worker. A SQLite file of its own beside the database (bench/embedded_cache.py; why
    # not diskcache: c4ang/sqlite_cache.py).
    _database = DATABASES["default"]
    if _database["ENGINE"] == "django.db.backends.sqlite3":
        _cache_file = Path(_database["NAME"]).with_suffix(".cache.sqlite3")
    else:
        _cache_file = VAR_DIR / f"{_database['NAME']}.cache.sqlite3"
    CACHES = {
        "default": {
            "BACKEND": "c4ang.sqlite_cache.SQLiteCache",
            "LOCATION": str(_cache_file),
            "OPTIONS": {"MAX_ENTRIES": 200_000},
        }
    }

# --- Celery -------------------------------------------------------------------------------------


def redis_neighbour_db(url: str) -> str:
    """The same Redis server, the database next to the URL's (0 and 1, 14 and 15, ...)."""
    parts = urlsplit(url)
    db = int(parts.path.strip("/") or 0)
    return urlunsplit(parts._replace(path=f"/{db ^ 1}"))


# The suite (pytest sets PYTEST_VERSION for its run and the servers and workers its tests start)
# empties the cache's Redis database around every test: the queues live in the next one, or each
# clear would drop the tasks in flight.
_broker_default = redis_neighbour_db(REDIS_URL) if REDIS_URL and os.environ.get("PYTEST_VERSION") else REDIS_URL
CELERY_BROKER_URL = env_str("CELERY_BROKER_URL", _broker_default or "memory://")
CELERY_RESULT_BACKEND = None
CELERY_TASK_ALWAYS_EAGER = env_bool("CELERY_TASK_ALWAYS_EAGER", not REDIS_URL)
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TIMEZONE = "Asia/Seoul"
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# Beat reads its schedule from the database (staff edit it in the admin); these defaults are
# created there after `migrate` when missing, and never overwrite a schedule staff have changed.
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"
C4ANG_PERIODIC_TASKS = {
    "daily-recommendation-pipeline": {
        "task": "recommendations.tasks.daily_recommendation_pipeline",
        "crontab": {"minute": "0", "hour": "2"},
    },
    "weekly-sentiment-analysis": {
        "task": "sentiment.tasks.weekly_sentiment_analysis",
        "crontab": {"minute": "0", "hour": "3", "day_of_week": "0"},
    },
    "recover-sagas": {"task": "saga.tasks.recover_sagas", "crontab": {"minute": "*"}},
    "expire-unpaid-orders": {"task": "orders.tasks.expire_unpaid_orders", "crontab": {"minute": "*"}},
    "flush-expired-tokens": {"task": "customers.tasks.flush_expired_tokens", "crontab": {"minute": "30", "hour": "4"}},
    # Readers apply them before they serve from the cache; this empties the table where none come.
    "apply-cache-invalidations": {"task": "c4ang.tasks.apply_cache_invalidations", "crontab": {"minute": "*"}},
}

# --- API ----------------------------------------------------------------------------------------

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": ["rest_framework_simplejwt.authentication.JWTAuthentication"],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    # DRF's, and any body it cannot take (nested too deep, numbers out of range) is a 400.
    "DEFAULT_PARSER_CLASSES": ["c4ang.api.parsers.JSONParser"],
    "DEFAULT_PAGINATION_CLASS": "c4ang.api.pagination.BoundedPageNumberPagination",
    "PAGE_SIZE": 20,
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_SCHEMA_CLASS": "c4ang.api.schema.ViewScopedAutoSchema",
    "EXCEPTION_HANDLER": "c4ang.api.errors.exception_handler",
    "DEFAULT_THROTTLE_CLASSES": [
        "c4ang.api.throttling.AnonRateThrottle",
        "c4ang.api.throttling.UserRateThrottle",
    ],
    "DEFAULT_THROTTLE_RATES": {
        "anon": env_str("THROTTLE_ANON", "600/min"),
        "user": env_str("THROTTLE_USER", "1200/min"),
        "auth": env_str("THROTTLE_AUTH", "20/min"),
        "auth_account": env_str("THROTTLE_AUTH_ACCOUNT", "10/min"),
        "pg_webhook": env_str("THROTTLE_PG_WEBHOOK", "300/min"),
        # password reset mails asked for one address, whoever asks (customers.api)
        "password_reset": env_str("THROTTLE_PASSWORD_RESET", "5/hour"),
    },
    "TEST_REQUEST_DEFAULT_FORMAT": "json",
    # The client address of per-IP limits is the one the last TRUSTED_PROXY_COUNT proxies saw: without
    # it DRF keys on the whole X-Forwarded-For header, which any client can vary to dodge the limit.
    "NUM_PROXIES": env_int("TRUSTED_PROXY_COUNT", 0),
}
API_MAX_PAGE_SIZE = 100

SIMPLE_JWT = {
    "ACCESS_TOKEN_LIFETIME": timedelta(minutes=env_int("JWT_ACCESS_MINUTES", 15)),
    "REFRESH_TOKEN_LIFETIME": timedelta(days=env_int("JWT_REFRESH_DAYS", 7)),
    "ROTATE_REFRESH_TOKENS": True,
    # A refresh token works once: its replay (or use after sign-out) is refused.
    "BLACKLIST_AFTER_ROTATION": True,
    "UPDATE_LAST_LOGIN": False,
    "SIGNING_KEY": JWT_SIGNING_KEY,
    "AUTH_HEADER_TYPES": ("Bearer",),
    # simplejwt's access token, refused when its user id claim is not a UUID (a 500 otherwise).
    "AUTH_TOKEN_CLASSES": ("c4ang.api.tokens.AccessToken",),
}

SPECTACULAR_SETTINGS = {
    "TITLE": "C4ang commerce API",
    # The shopping flow guide; the README's "Shopping flow" section is the same text (a test keeps them so).
    "DESCRIPTION": (BASE_DIR / "c4ang" / "api" / "shopping_flow.md").read_text(encoding="utf-8"),
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    # Swagger UI assets from the installed sidecar package: the docs page works offline.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    "SCHEMA_PATH_PREFIX": "/api/v1/",
    # One name for a choice set that several fields use (by dotted path: settings import no app).
    "TAGS": [
        {"name": "customers", "description": "Sign-up, sign-in, tokens, the profile and the address book."},
        {"name": "products", "description": "The catalog: products, search, categories, brands and reviews."},
        {"name": "orders", "description": "The cart, checkout, the customer's orders, cancellation and returns."},
        {"name": "payments", "description": "The payment gateway's configuration, confirming a payment, own payments."},
        {"name": "payments-webhooks", "description": "Deliveries from the PG (Toss): not for apps."},
        {"name": "recommendations", "description": "Products bought together, and for the signed-in customer."},
        {"name": "customers-staff", "description": "Staff: customer accounts."},
        {"name": "products-staff", "description": "Staff: the catalog, stock, images and review moderation."},
        {"name": "orders-staff", "description": "Staff: every order, shipping, cancellation and the returns queue."},
        {"name": "payments-staff", "description": "Staff: payments, refunds and (with the fake PG) test deposits."},
        {"name": "saga-staff", "description": "Staff: the order sagas, their steps, retry and compensation."},
    ],
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "c4ang.api.schema.document_error_codes",
    ],
    "ENUM_NAME_OVERRIDES": {
        "CancelReasonEnum": "orders.constants.CancelReason",
        "ReturnReasonEnum": "orders.constants.ReturnReason",
        "ReturnStatusEnum": "orders.constants.ReturnStatus",
        "ReviewStatusEnum": "products.constants.ReviewStatus",
        "SagaStatusEnum": "saga.constants.SagaStatus",
        "SagaEventTypeEnum": "saga.constants.SagaEventType",
        "PaymentStatusEnum": "payments.constants.PaymentStatus",
        "PaymentMethodEnum": "payments.constants.PaymentMethod",
        "GatewayEnum": "payments.constants.Gateway",
        "BankEnum": "payments.constants.Bank",
        "RefundStatusEnum": "payments.constants.RefundStatus",
        "RefundReasonEnum": "payments.constants.RefundReason",
        "NextActionTypeEnum": "payments.constants.NextActionType",
        "PgPaymentStatusEnum": "payments.constants.PgPaymentStatus.values",
        "OrderStatusEnum": "orders.constants.OrderStatus",
        "FulfilmentStatusEnum": "orders.constants.FULFILMENT_STATUSES",
        "CarrierEnum": "orders.constants.Carrier",
    },
}

# --- Domain -------------------------------------------------------------------------------------

PAYMENT_GATEWAY = env_choice("PAYMENT_GATEWAY", "fake", {"fake", "toss"})
TOSS_API_BASE_URL = env_str("TOSS_API_BASE_URL", "https://api.tosspayments.com")
TOSS_SECRET_KEY = env_str("TOSS_SECRET_KEY", "")
if PAYMENT_GATEWAY == "toss" and not TOSS_SECRET_KEY:
    raise ImproperlyConfigured("PAYMENT_GATEWAY=toss needs TOSS_SECRET_KEY")
# --- the PG's public key ---
# Toss's client key (test_ck_... / live_ck_...): public, handed to apps for the payment widget (an
# order's next_action, GET /api/v1/payments/config/). Without it the server still confirms and takes
# deposits, but no widget opens: the system check payments.W001 says so.
TOSS_CLIENT_KEY = env_str("TOSS_CLIENT_KEY", "")

# Commerce core (orders, saga, payments, caches).
TOSS_TIMEOUT_SECONDS = env_int("TOSS_TIMEOUT_SECONDS", 10)
TOSS_MAX_RETRIES = env_int("TOSS_MAX_RETRIES", 2)
SAGA_LEASE_SECONDS = env_int("SAGA_LEASE_SECONDS", 60)
SAGA_MAX_ATTEMPTS = env_int("SAGA_MAX_ATTEMPTS", 5)
SAGA_RETRY_DELAY_SECONDS = env_int("SAGA_RETRY_DELAY_SECONDS", 60)
# Tests only: "<step>:<before|after>" (or "<step>.compensation:<before|after>") makes the process
# SIGKILL itself at that point of every saga, as an OOM kill or a lost node would (saga.services).
SAGA_FAULT_INJECTION = env_str("SAGA_FAULT_INJECTION", "") or None
if PRODUCTION and SAGA_FAULT_INJECTION:
    raise ImproperlyConfigured("SAGA_FAULT_INJECTION is for tests; it must be unset when C4ANG_ENV=production")
ORDER_PAYMENT_TIMEOUT_MINUTES = env_int("ORDER_PAYMENT_TIMEOUT_MINUTES", 30)
ORDER_MAX_LINES = env_int("ORDER_MAX_LINES", 50)
ORDER_MAX_QUANTITY = env_int("ORDER_MAX_QUANTITY", 1000)
# A virtual account (가상계좌) waits this many days for the deposit (its due date at the PG), then
# the order expires like an unpaid card order does after ORDER_PAYMENT_TIMEOUT_MINUTES.
ORDER_VIRTUAL_ACCOUNT_DAYS = env_int("ORDER_VIRTUAL_ACCOUNT_DAYS", 3)
# The shipping fee rule: SHIPPING_FEE won per order, none from SHIPPING_FREE_FROM won of items.
SHIPPING_FEE = env_int("SHIPPING_FEE", 3000)
SHIPPING_FREE_FROM = env_int("SHIPPING_FREE_FROM", 50000)
CUSTOMER_MAX_ADDRESSES = env_int("CUSTOMER_MAX_ADDRESSES", 20)
# After-sales: returns are requested within RETURN_WINDOW_DAYS of delivery; RETURN_SHIPPING_FEE won
# is kept from the refund when the reason is the customer's. A refund the PG did not answer is
# asked again (with its own Idempotency-Key) by the recovery task after REFUND_RETRY_SECONDS.
RETURN_WINDOW_DAYS = env_int("RETURN_WINDOW_DAYS", 7)
RETURN_SHIPPING_FEE = env_int("RETURN_SHIPPING_FEE", 3000)
REFUND_RETRY_SECONDS = env_int("REFUND_RETRY_SECONDS", 60)
CATALOG_CACHE_SECONDS = env_int("CATALOG_CACHE_SECONDS", 300)
PROFILE_CACHE_SECONDS = env_int("PROFILE_CACHE_SECONDS", 300)

SENTIMENT_BACKEND = env_choice("SENTIMENT_BACKEND", "local", {"local", "lambda"})
# Unset: the handler's DEFAULT_MODEL (sentiment/lambda_function/handler.py, which cannot import settings).
SENTIMENT_MODEL = env_str("SENTIMENT_MODEL", "") or None
SENTIMENT_LAMBDA_FUNCTION = env_str("SENTIMENT_LAMBDA_FUNCTION", "c4ang-sentiment")
SENTIMENT_LAMBDA_REGION = env_str("SENTIMENT_LAMBDA_REGION", env_str("AWS_REGION", "ap-northeast-2"))
SENTIMENT_LAMBDA_ENDPOINT_URL = env_str("SENTIMENT_LAMBDA_ENDPOINT_URL", "") or None
# botocore's default 60 s read timeout (plus its retries) would invoke a slow function again.
SENTIMENT_LAMBDA_READ_TIMEOUT_S = env_int("SENTIMENT_LAMBDA_READ_TIMEOUT_S", 660)
# Attempts of an invoke that never ran (throttled, endpoint unreachable), with exponential back-off.
SENTIMENT_LAMBDA_ATTEMPTS = env_int("SENTIMENT_LAMBDA_ATTEMPTS", 4)
SENTIMENT_LAMBDA_BACKOFF_MS = env_int("SENTIMENT_LAMBDA_BACKOFF_MS", 1000)
# --- sentiment fan-out ---
# Invokes in flight at once in the job's process (`lambda` backend; `local` scores one batch at a
# time): at most the function's reserved concurrency, or the account's share left to it.
SENTIMENT_LAMBDA_CONCURRENCY = env_int("SENTIMENT_LAMBDA_CONCURRENCY", 8)
if SENTIMENT_LAMBDA_CONCURRENCY < 1:
    raise ImproperlyConfigured(f"SENTIMENT_LAMBDA_CONCURRENCY must be 1 or more, got {SENTIMENT_LAMBDA_CONCURRENCY}")
# --- end sentiment fan-out ---

# --- Jobs ---------------------------------------------------------------------------------------

# A job's lock expires after this long even if its process died without releasing it.
JOBS_LOCK_SECONDS = env_int("JOBS_LOCK_SECONDS", 6 * 3600)
RECOMMENDATIONS_WINDOW_DAYS = env_int("RECOMMENDATIONS_WINDOW_DAYS", 30)
RECOMMENDATIONS_CACHE_SECONDS = env_int("RECOMMENDATIONS_CACHE_SECONDS", 3 * 86400)
SENTIMENT_MIN_REVIEWS = env_int("SENTIMENT_MIN_REVIEWS", 100)
SENTIMENT_WINDOW_DAYS = env_int("SENTIMENT_WINDOW_DAYS", 30)
SENTIMENT_MAX_PRODUCTS = env_int("SENTIMENT_MAX_PRODUCTS", 10)
SENTIMENT_BATCH_SIZE = env_int("SENTIMENT_BATCH_SIZE", 32)

C4ANG_LOW_STOCK_THRESHOLD = env_int("C4ANG_LOW_STOCK_THRESHOLD", 5)

# --- Internationalisation -----------------------------------------------------------------------

# Korean for staff and customers; English for whoever asks for it (c4ang.language). Each app keeps
# its own catalogue (<app>/locale/ko/LC_MESSAGES/django.po); README, Languages.
LANGUAGE_CODE = env_str("LANGUAGE_CODE", "ko")
LANGUAGES = [("ko", "한국어"), ("en", "English")]
TIME_ZONE = "Asia/Seoul"
USE_I18N = True
USE_TZ = True

# --- Static files -------------------------------------------------------------------------------

STATIC_URL = "static/"
STATIC_ROOT = Path(env_str("STATIC_ROOT", str(BASE_DIR / "staticfiles")))
# Outside production (no collectstatic step) WhiteNoise serves straight from the apps' static folders.
WHITENOISE_USE_FINDERS = not PRODUCTION
# --- Product images (media) ----------------------------------------------------------------------

# Embedded default: files under var/media/, served by the app at MEDIA_URL (c4ang.media). Production:
# an S3 bucket through django-storages, read through the CDN of MEDIA_S3_CUSTOM_DOMAIN; the pods that
# write (the products API, the admin) get the bucket through their IRSA role (deploy/README.md).
MEDIA_STORAGE = env_choice("MEDIA_STORAGE", "filesystem", {"filesystem", "s3"})
MEDIA_ROOT = Path(env_str("MEDIA_ROOT", str(VAR_DIR / "media")))
MEDIA_URL = env_str("MEDIA_URL", "/media/")
if MEDIA_STORAGE == "s3":
    if not env_str("MEDIA_S3_BUCKET", ""):
        raise ImproperlyConfigured("MEDIA_STORAGE=s3 needs MEDIA_S3_BUCKET")
    _media_storage = {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {
            "bucket_name": env_str("MEDIA_S3_BUCKET", ""),
            "region_name": env_str("MEDIA_S3_REGION", env_str("AWS_REGION", "ap-northeast-2")),
            "custom_domain": env_str("MEDIA_S3_CUSTOM_DOMAIN", "") or None,
            "endpoint_url": env_str("MEDIA_S3_ENDPOINT_URL", "") or None,
            # Image URLs go into cached catalog bodies: plain URLs (the CDN or a public-read policy
            # serves them), not signed ones that would expire inside a cached page.
            "querystring_auth": False,
            # Every name holds its image's id: never taken, so no HEAD request to look for a free one.
            "file_overwrite": True,
            "object_parameters": {"CacheControl": "public, max-age=31536000, immutable"},
        },
    }
else:
    _media_storage = {"BACKEND": "django.core.files.storage.FileSystemStorage"}
# Uploads are checked by decoding them (products.images): at most this many bytes and pixels (a
# decompression bomb is refused before it is decoded), at most PRODUCT_IMAGES_MAX per product.
PRODUCT_IMAGE_MAX_BYTES = env_int("PRODUCT_IMAGE_MAX_BYTES", 10 * 1024 * 1024)
PRODUCT_IMAGE_MAX_PIXELS = env_int("PRODUCT_IMAGE_MAX_PIXELS", 40_000_000)
PRODUCT_IMAGES_MAX = env_int("PRODUCT_IMAGES_MAX", 20)

STORAGES = {
    "default": _media_storage,
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
        if PRODUCTION
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}

# --- Security -----------------------------------------------------------------------------------

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
# Admin sign-in guessing (django-axes): after AXES_FAILURE_LIMIT failures for one account from one
# address, that pair is locked out for AXES_COOLOFF_MINUTES (each further try restarts the wait).
# The API's token endpoint counts too and answers a lockout in the error shape (customers.api).
AXES_FAILURE_LIMIT = env_int("AXES_FAILURE_LIMIT", 5)
AXES_COOLOFF_TIME = timedelta(minutes=env_int("AXES_COOLOFF_MINUTES", 30))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_USERNAME_CALLABLE = "c4ang.security.sign_in_username"
AXES_CLIENT_IP_CALLABLE = "c4ang.security.client_ip"
AXES_LOCKOUT_TEMPLATE = "admin/c4ang/lockout.html"
AXES_VERBOSE = False  # no banner on every process start; failures are still logged with account and address
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
if PRODUCTION:
    # TLS ends at the Istio gateway, which sets X-Forwarded-Proto.
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", True)
    SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 31536000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True

# --- mail (password reset) ---
# Embedded default: each mail a file under var/mail/ (EMAIL_FILE_PATH), or
# EMAIL_BACKEND=django.core.mail.backends.console.EmailBackend for the console. Production sends by
# SMTP (EMAIL_HOST, EMAIL_PORT, EMAIL_HOST_USER, EMAIL_HOST_PASSWORD, STARTTLS unless EMAIL_USE_TLS=0),
# e.g. Amazon SES's SMTP endpoint; EMAIL_BACKEND takes any other Django mail backend.
EMAIL_BACKEND = env_str(
    "EMAIL_BACKEND",
    "django.core.mail.backends.smtp.EmailBackend" if PRODUCTION else "django.core.mail.backends.filebased.EmailBackend",
)
EMAIL_FILE_PATH = Path(env_str("EMAIL_FILE_PATH", str(VAR_DIR / "mail")))
EMAIL_HOST = env_str("EMAIL_HOST", "localhost")
EMAIL_PORT = env_int("EMAIL_PORT", 587)
EMAIL_HOST_USER = env_str("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = env_str("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", True)
EMAIL_USE_SSL = env_bool("EMAIL_USE_SSL", False)
EMAIL_TIMEOUT = env_int("EMAIL_TIMEOUT_SECONDS", 10)
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "C4ang <no-reply@c4ang.com>")
# The shop app's page that takes a new password: the mailed link, {uid} and {token} filled in.
PASSWORD_RESET_URL = env_str("PASSWORD_RESET_URL", "http://localhost:3000/reset-password?uid={uid}&token={token}")
if "{uid}" not in PASSWORD_RESET_URL or "{token}" not in PASSWORD_RESET_URL:
    raise ImproperlyConfigured(
        "PASSWORD_RESET_URL must hold {uid} and {token}, e.g. https://shop.example/reset?uid={uid}&token={token}"
    )
# A reset link works once, for this long (Django's PasswordResetTokenGenerator).
PASSWORD_RESET_TIMEOUT = env_int("PASSWORD_RESET_MINUTES", 60) * 60

# --- Logging ------------------------------------------------------------------------------------

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"request_id": {"()": "c4ang.request_id.RequestIdLogFilter"}},
    "formatters": {
        "json": {
            "()": "pythonjsonlogger.json.JsonFormatter",
            # trace_id/span_id: the OpenTelemetry span the line was written in (null with tracing off).
            "fmt": "%(levelname)s %(name)s %(message)s %(request_id)s %(trace_id)s %(span_id)s",
            "rename_fields": {"levelname": "level", "name": "logger"},
            "timestamp": "time",
        },
    },
    "handlers": {
        "console": {"class": "logging.StreamHandler", "formatter": "json", "filters": ["request_id"]},
    },
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
    "loggers": {
        "django.server": {"level": "WARNING"},
    },
}
