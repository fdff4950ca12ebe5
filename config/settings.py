"""Greenlight settings: one module, every value from the environment.

Variables are documented in `.env.example`. The embedded defaults (SQLite under
`var/`, an embedded Redis on a unix socket under `var/redis/`, local file storage
under `var/media/`) make a laptop run work with nothing configured; production
sets DATABASE_URL, REDIS_URL and the AWS_* variables.
"""

import ipaddress
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import environ
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()
if (BASE_DIR / ".env").is_file():
    environ.Env.read_env(BASE_DIR / ".env")
VAR_DIR = Path(env.str("GREENLIGHT_VAR_DIR", default=str(BASE_DIR / "var")))

# --- Core -------------------------------------------------------------------
DEBUG = env.bool("DJANGO_DEBUG", default=False)
_DEV_SECRET = "django-insecure-greenlight-development-only"  # noqa: S105 - refused below when DEBUG is off
SECRET_KEY = env.str("DJANGO_SECRET_KEY", default=_DEV_SECRET if DEBUG else "")
ALLOWED_HOSTS = env.list("DJANGO_ALLOWED_HOSTS", default=["localhost", "127.0.0.1", "[::1]"] if DEBUG else [])
CSRF_TRUSTED_ORIGINS = env.list("DJANGO_CSRF_TRUSTED_ORIGINS", default=[])

if not DEBUG:
    if not SECRET_KEY or SECRET_KEY == _DEV_SECRET or SECRET_KEY.startswith("django-insecure") or len(SECRET_KEY) < 50:
        raise ImproperlyConfigured(
            "DJANGO_SECRET_KEY must be set to a random value of at least 50 characters when DJANGO_DEBUG is off."
        )
    if not ALLOWED_HOSTS:
        raise ImproperlyConfigured("DJANGO_ALLOWED_HOSTS must be set when DJANGO_DEBUG is off.")

PORTAL_NAME = env.str("PORTAL_NAME", default="Greenlight")
SITE_URL = env.str("SITE_URL", default="http://localhost:8000").rstrip("/")

INSTALLED_APPS = [
    "portal.admin_apps.PortalAdminConfig",  # django.contrib.admin, its sign-in through allauth with MFA
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "allauth",
    "allauth.account",
    "allauth.mfa",
    "allauth.socialaccount",
    "allauth.socialaccount.providers.openid_connect",
    "portal",
    "assets",
    "beta",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "api",
    "webhooks",
    "csp",
    "ops",
]

MIDDLEWARE = [
    "django_prometheus.middleware.PrometheusBeforeMiddleware",  # first: times the whole request
    "config.requestid.RequestIdMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "portal.timezones.UserTimeZoneMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "allauth.account.middleware.AccountMiddleware",
    "portal.middleware.AccessGateMiddleware",
    "portal.middleware.DomainErrorMiddleware",
    "portal.security.SignedInNoStoreMiddleware",
    "csp.middleware.CSPMiddleware",
    "django_prometheus.middleware.PrometheusAfterMiddleware",  # last: sees the view's name and status
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"
ASGI_APPLICATION = "config.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "portal.context_processors.portal",
            ],
        },
    },
]

# --- Database ---------------------------------------------------------------
DATABASES = {"default": env.db("DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'greenlight.sqlite3'}")}
DATABASES["default"]["ATOMIC_REQUESTS"] = False
DATABASES["default"]["CONN_MAX_AGE"] = env.int("DATABASE_CONN_MAX_AGE", default=60)
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    VAR_DIR.mkdir(parents=True, exist_ok=True)  # the embedded default keeps its file here
    # A file, not memory, so that a Celery worker process in tests sees the test database.
    DATABASES["default"]["TEST"] = {
        "NAME": env.str("SQLITE_TEST_DATABASE", default=str(VAR_DIR / "test-greenlight.sqlite3"))
    }
    DATABASES["default"]["OPTIONS"] = {"timeout": 20, "transaction_mode": "IMMEDIATE"}
    DATABASES["default"]["CONN_MAX_AGE"] = 0
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Redis, cache and Celery ------------------------------------------------
EMBEDDED_REDIS_SOCKET = VAR_DIR / "redis" / "redis.sock"
REDIS_URL = env.str("REDIS_URL", default="")
EMBEDDED_REDIS = not REDIS_URL
if EMBEDDED_REDIS:
    REDIS_URL = f"unix://{EMBEDDED_REDIS_SOCKET}?db=0"


def _redis_db_of(url: str) -> int:
    parts = urlsplit(url)
    if parts.scheme == "unix":
        return int(parse_qs(parts.query).get("db", ["0"])[0])
    return int(parts.path.strip("/") or 0)


def _redis_url_for_db(url: str, db: int) -> str:
    """The same Redis server as `url`, on another logical database."""
    parts = urlsplit(url)
    if parts.scheme == "unix":
        return f"unix://{parts.path}?db={db}"
    return parts._replace(path=f"/{db}").geturl()


def _celery_broker_url(url: str) -> str:
    parts = urlsplit(url)
    if parts.scheme == "unix":  # kombu spells a unix socket differently from redis-py
        return f"redis+socket://{parts.path}?virtual_host={_redis_db_of(url)}"
    return url


# The cache lives on the next logical database, so that clearing it never touches queued jobs.
REDIS_CACHE_URL = env.str("REDIS_CACHE_URL", default=_redis_url_for_db(REDIS_URL, _redis_db_of(REDIS_URL) + 1))

CACHES = {
    "default": {
        "BACKEND": "config.cache.RedisCache",
        "LOCATION": REDIS_CACHE_URL,
        "KEY_PREFIX": env.str("CACHE_KEY_PREFIX", default="greenlight"),
        "TIMEOUT": 300,
    }
}

CELERY_BROKER_URL = env.str("CELERY_BROKER_URL", default=_celery_broker_url(REDIS_URL))
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_IGNORE_RESULT = True
CELERY_RESULT_BACKEND = None
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_WORKER_CANCEL_LONG_RUNNING_TASKS_ON_CONNECTION_LOSS = True
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_TASK_DEFAULT_QUEUE = "default"
CELERY_TASK_TIME_LIMIT = env.int(
    "CELERY_TASK_TIME_LIMIT", default=60 * 60
)  # hard limit for any task; tools set their own
CELERY_TASK_SOFT_TIME_LIMIT = CELERY_TASK_TIME_LIMIT - 60
CELERY_LONGEST_TASK_SECONDS = env.int("CELERY_LONGEST_TASK_SECONDS", default=6 * 60 * 60)
# A late-acked message is redelivered after the visibility timeout: it must exceed the longest job.
CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": CELERY_LONGEST_TASK_SECONDS + 60 * 60}
CELERY_WORKER_HIJACK_ROOT_LOGGER = False
# Celery 5.5+ soft shutdown: on a cold shutdown (SIGQUIT, or SIGTERM with REMAP_SIGTERM=SIGQUIT as on Kubernetes)
# running tasks get this many seconds to finish; then they are stopped and, being acks_late, go back to the queue.
# Kubernetes' terminationGracePeriodSeconds must exceed it (deploy/kubernetes, README "Operations"). 0: off.
CELERY_WORKER_SOFT_SHUTDOWN_TIMEOUT = env.float("CELERY_WORKER_SOFT_SHUTDOWN_TIMEOUT", default=0.0)
CELERY_WORKER_ENABLE_SOFT_SHUTDOWN_ON_IDLE = CELERY_WORKER_SOFT_SHUTDOWN_TIMEOUT > 0  # requeues countdown retries
CELERY_BEAT_SCHEDULE_FILENAME = str(VAR_DIR / "celerybeat-schedule")
# Notifications: seconds between the header bell's polls of its unread count, and the UTC hour of the daily digest.
NOTIFICATIONS_POLL_SECONDS = env.int("NOTIFICATIONS_POLL_SECONDS", default=30)
NOTIFICATIONS_DIGEST_HOUR = env.int("NOTIFICATIONS_DIGEST_HOUR", default=17)
# Hours before a survey's due time that its cohort's studios are reminded (those who have not answered).
SURVEY_DUE_SOON_HOURS = env.int("SURVEY_DUE_SOON_HOURS", default=48)
CELERY_QUEUE_NAMES = ("default", "cpu", "gpu", "external", "webhooks")
WORKER_HEARTBEAT_SECONDS = env.int("WORKER_HEARTBEAT_SECONDS", default=60)

# --- Jobs ---------------------------------------------------------------------
# A running job's worker writes a heartbeat this often. JOB_HEARTBEAT_TIMEOUT is the job's lease: a running job
# silent for longer is taken back by the sweeper and sent again, whatever the broker's own bookkeeping says.
JOB_HEARTBEAT_SECONDS = env.int("JOB_HEARTBEAT_SECONDS", default=5)
JOB_HEARTBEAT_TIMEOUT = env.int("JOB_HEARTBEAT_TIMEOUT", default=3 * JOB_HEARTBEAT_SECONDS)
# A job whose worker died this many times (e.g. a tool that crashes its process) is failed, not retried again.
JOB_MAX_DELIVERIES = env.int("JOB_MAX_DELIVERIES", default=3)
# Retries of errors a tool marks transient, with exponential backoff from JOB_RETRY_BACKOFF seconds.
JOB_MAX_RETRIES = env.int("JOB_MAX_RETRIES", default=3)
JOB_RETRY_BACKOFF = env.int("JOB_RETRY_BACKOFF", default=10)
# A queued job sent to the broker but absent from it for this long is sent again by the sweeper.
JOB_DISPATCH_GRACE_SECONDS = env.int("JOB_DISPATCH_GRACE_SECONDS", default=60)
JOB_SWEEP_SECONDS = env.int("JOB_SWEEP_SECONDS", default=30)
# An upload stuck in "verifying" (its verification lost with the broker, or its worker gone) with no sign of life for
# this long is queued for verification again by a sweep running every ASSET_VERIFY_SWEEP_SECONDS.
ASSET_VERIFY_LEASE_SECONDS = env.int("ASSET_VERIFY_LEASE_SECONDS", default=120)
ASSET_VERIFY_SWEEP_SECONDS = env.int("ASSET_VERIFY_SWEEP_SECONDS", default=60)
# Diagnostic tools (no-op, fail, crash, slow) for the pipeline's own tests and for operators.
ENABLE_DIAGNOSTIC_TOOLS = env.bool("ENABLE_DIAGNOSTIC_TOOLS", default=False)
# Upscaling refuses pictures above this many pixels (default: a DCI 4K frame, 4096 x 2160).
UPSCALE_MAX_PIXELS = env.int("UPSCALE_MAX_PIXELS", default=4096 * 2160)
# Subtitles made by transcription (beta/tools/subtitles.py): the Netflix English Timed Text Style Guide's values.
SUBTITLE_MAX_LINE_CHARS = env.int("SUBTITLE_MAX_LINE_CHARS", default=42)
SUBTITLE_MAX_LINES = env.int("SUBTITLE_MAX_LINES", default=2)
SUBTITLE_MIN_SECONDS = env.float("SUBTITLE_MIN_SECONDS", default=5 / 6)
SUBTITLE_MAX_SECONDS = env.float("SUBTITLE_MAX_SECONDS", default=7.0)
SUBTITLE_MIN_GAP_FRAMES = env.int("SUBTITLE_MIN_GAP_FRAMES", default=2)
SUBTITLE_MAX_CHARS_PER_SECOND = env.float("SUBTITLE_MAX_CHARS_PER_SECOND", default=20.0)
SUBTITLE_PAUSE_SECONDS = env.float("SUBTITLE_PAUSE_SECONDS", default=0.5)
# Script breakdown: words staff add to the element dictionary, by category (beta/tools/breakdown_elements.py), as JSON.
BREAKDOWN_KEYWORDS = env.json("BREAKDOWN_KEYWORDS", default={})
# Temp comp (beta/tools/temp_comp.py): the largest plate, in pixels per frame and in seconds.
TEMP_COMP_MAX_PIXELS = env.int("TEMP_COMP_MAX_PIXELS", default=1920 * 1080)
TEMP_COMP_MAX_SECONDS = env.int("TEMP_COMP_MAX_SECONDS", default=120)

# --- Webhooks -------------------------------------------------------------------
# http:// endpoints are refused unless this is on (development only).
WEBHOOKS_ALLOW_HTTP = env.bool("WEBHOOKS_ALLOW_HTTP", default=False)
# Networks (CIDR) webhooks may call although not public, e.g. 127.0.0.0/8 for a local receiver. Empty: public only.
# Cloud metadata addresses are refused whatever this says.
WEBHOOKS_ALLOW_PRIVATE_TARGETS = env.list("WEBHOOKS_ALLOW_PRIVATE_TARGETS", default=[])
# The TOTAL time of one delivery attempt (connect, TLS, send and the answer together), not a per-read timeout.
WEBHOOKS_TIMEOUT_SECONDS = env.int("WEBHOOKS_TIMEOUT_SECONDS", default=10)
WEBHOOKS_CONNECT_TIMEOUT_SECONDS = env.int("WEBHOOKS_CONNECT_TIMEOUT_SECONDS", default=3)
WEBHOOKS_RESPONSE_MAX_BYTES = env.int("WEBHOOKS_RESPONSE_MAX_BYTES", default=4096)
# An endpoint whose every attempt failed for this long is disabled and its studio's owners emailed.
WEBHOOKS_DISABLE_AFTER_HOURS = env.int("WEBHOOKS_DISABLE_AFTER_HOURS", default=24)
# After a secret rotation the old secret keeps signing (alongside the new one) for this long.
WEBHOOKS_SECRET_ROTATION_GRACE_HOURS = env.int("WEBHOOKS_SECRET_ROTATION_GRACE_HOURS", default=24)
WEBHOOKS_QUEUE = env.str("WEBHOOKS_QUEUE", default="webhooks")
# Every webhook task (attempts, the due sweep, the purge) goes to the webhooks queue, whoever sends it.
CELERY_TASK_ROUTES = {"webhooks.tasks.*": {"queue": WEBHOOKS_QUEUE}}
WEBHOOKS_SWEEP_SECONDS = env.int("WEBHOOKS_SWEEP_SECONDS", default=30)
# Finished deliveries (and their attempts) are kept this many days in the endpoints' delivery logs, then purged.
WEBHOOKS_LOG_RETENTION_DAYS = env.int("WEBHOOKS_LOG_RETENTION_DAYS", default=30)

# --- Storage ----------------------------------------------------------------
MEDIA_ROOT = Path(env.str("MEDIA_ROOT", default=str(VAR_DIR / "media")))
MEDIA_URL = "/media/"
STATIC_URL = "/static/"
STATIC_ROOT = Path(env.str("STATIC_ROOT", default=str(VAR_DIR / "static")))
STATICFILES_DIRS = [BASE_DIR / "static"]

AWS_STORAGE_BUCKET_NAME = env.str("AWS_STORAGE_BUCKET_NAME", default="")
AWS_S3_ENDPOINT_URL = env.str("AWS_S3_ENDPOINT_URL", default="") or None
AWS_S3_REGION_NAME = env.str("AWS_S3_REGION_NAME", default="us-east-1")
AWS_ACCESS_KEY_ID = env.str("AWS_ACCESS_KEY_ID", default="") or None
AWS_SECRET_ACCESS_KEY = env.str("AWS_SECRET_ACCESS_KEY", default="") or None
AWS_S3_ADDRESSING_STYLE = env.str("AWS_S3_ADDRESSING_STYLE", default="path" if AWS_S3_ENDPOINT_URL else "auto")
AWS_S3_SSE = env.str("AWS_S3_SSE", default="AES256")  # "AES256" (SSE-S3) or "aws:kms"
AWS_S3_KMS_KEY_ID = env.str("AWS_S3_KMS_KEY_ID", default="")
AWS_PRESIGNED_EXPIRY_SECONDS = env.int("AWS_PRESIGNED_EXPIRY_SECONDS", default=300)
USE_S3 = bool(AWS_STORAGE_BUCKET_NAME)
# The endpoint browsers use for presigned URLs, when it differs from the one the portal uses (MinIO in compose).
AWS_S3_PUBLIC_ENDPOINT_URL = env.str("AWS_S3_PUBLIC_ENDPOINT_URL", default="") or AWS_S3_ENDPOINT_URL

# --- Generative tools on Amazon Bedrock (beta/tools/bedrock.py) -------------------
# Off unless set: generate-image and generate-video are then hidden from partners and refused.
BEDROCK_ENABLED = env.bool("BEDROCK_ENABLED", default=False)
BEDROCK_REGION = env.str("BEDROCK_REGION", default="us-east-1")
# The only endpoint the adapter sends content to; empty: the AWS regional endpoint (or a VPC endpoint URL).
BEDROCK_ENDPOINT_URL = env.str("BEDROCK_ENDPOINT_URL", default="") or None
# Credentials for Bedrock and its output bucket; empty: the standard AWS chain (instance role, profile...).
BEDROCK_AWS_ACCESS_KEY_ID = env.str("BEDROCK_AWS_ACCESS_KEY_ID", default="") or None
BEDROCK_AWS_SECRET_ACCESS_KEY = env.str("BEDROCK_AWS_SECRET_ACCESS_KEY", default="") or None
BEDROCK_IMAGE_MODEL_ID = env.str("BEDROCK_IMAGE_MODEL_ID", default="amazon.nova-canvas-v1:0")
BEDROCK_VIDEO_MODEL_ID = env.str("BEDROCK_VIDEO_MODEL_ID", default="amazon.nova-reel-v1:1")
# S3 bucket in BEDROCK_REGION that Nova Reel writes to (under orgs/<studio>/); empty: generate-video is off.
BEDROCK_OUTPUT_BUCKET = env.str("BEDROCK_OUTPUT_BUCKET", default="")
BEDROCK_S3_ENDPOINT_URL = env.str("BEDROCK_S3_ENDPOINT_URL", default="") or None
# Seconds between polls of a Nova Reel job (no worker waits meanwhile), and the longest wait before giving up.
BEDROCK_POLL_SECONDS = env.int("BEDROCK_POLL_SECONDS", default=30)
BEDROCK_MAX_WAIT_SECONDS = env.int("BEDROCK_MAX_WAIT_SECONDS", default=2 * 60 * 60)
# Tests only: a JSON file of canned Bedrock responses served through botocore's Stubber (no network at all).
BEDROCK_STUB_FILE = env.str("BEDROCK_STUB_FILE", default="")

# --- Assets -------------------------------------------------------------------
ASSET_MAX_BYTES = env.int("ASSET_MAX_BYTES", default=50 * 1024**3)
# Images over this many pixels (width x height) are refused at verification: decompression bombs, and more than
# any tool or preview can take. 150 MP is above 16K x 9K.
ASSET_MAX_IMAGE_PIXELS = env.int("ASSET_MAX_IMAGE_PIXELS", default=150_000_000)
ASSET_ALLOWED_KINDS = env.list("ASSET_ALLOWED_KINDS", default=["video", "image", "audio", "script", "document"])
# Multipart part size: S3 needs at least 5 MiB per part (but the last) and at most 10,000 parts.
UPLOAD_PART_SIZE = env.int("UPLOAD_PART_SIZE", default=16 * 1024**2)
# Uploads not finished after this many hours are aborted and their parts removed by a scheduled task.
UPLOAD_ABANDON_HOURS = env.int("UPLOAD_ABANDON_HOURS", default=48)
# A studio's material is purged this many days after its cohort closes.
RETENTION_DAYS_AFTER_CLOSE = env.int("RETENTION_DAYS_AFTER_CLOSE", default=30)
# C2PA signing identity for provenance (PEM files). Unset: a development chain is generated under var/c2pa/.
C2PA_SIGNING_KEY_PATH = env.str("C2PA_SIGNING_KEY_PATH", default="")
C2PA_CERT_CHAIN_PATH = env.str("C2PA_CERT_CHAIN_PATH", default="")
# Or sign through AWS KMS (an ECC_NIST_P256 SIGN_VERIFY key; kms:Sign) instead of a key file: the key never leaves KMS.
C2PA_KMS_KEY_ID = env.str("C2PA_KMS_KEY_ID", default="")
C2PA_KMS_REGION = env.str("C2PA_KMS_REGION", default="")
C2PA_SIGNING_ALG = env.str("C2PA_SIGNING_ALG", default="es256")
# PEM bundle of the roots that verification trusts (production: the root of C2PA_CERT_CHAIN_PATH).
C2PA_TRUST_ANCHORS_PATH = env.str("C2PA_TRUST_ANCHORS_PATH", default="")
# RFC 3161 timestamp authority; empty means none (signatures then verify only while the certificate is valid).
C2PA_TSA_URL = env.str("C2PA_TSA_URL", default="")

_object_parameters = {"ServerSideEncryption": AWS_S3_SSE}
if AWS_S3_SSE == "aws:kms" and AWS_S3_KMS_KEY_ID:
    _object_parameters["SSEKMSKeyId"] = AWS_S3_KMS_KEY_ID

# Hashed, compressed static files in production (run collectstatic); plain files in development and tests.
STATIC_MANIFEST = env.bool("DJANGO_STATIC_MANIFEST", default=not DEBUG)
_static_storage = {
    "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
    if STATIC_MANIFEST
    else "django.contrib.staticfiles.storage.StaticFilesStorage"
}
if USE_S3:
    DEFAULT_STORAGE = {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {
            "bucket_name": AWS_STORAGE_BUCKET_NAME,
            "endpoint_url": AWS_S3_ENDPOINT_URL,
            "region_name": AWS_S3_REGION_NAME,
            "access_key": AWS_ACCESS_KEY_ID,
            "secret_key": AWS_SECRET_ACCESS_KEY,
            "addressing_style": AWS_S3_ADDRESSING_STYLE,
            "signature_version": "s3v4",
            "default_acl": None,  # the bucket is private; objects never get a public ACL
            "querystring_auth": True,
            "querystring_expire": AWS_PRESIGNED_EXPIRY_SECONDS,
            "file_overwrite": False,
            "object_parameters": _object_parameters,
        },
    }
else:
    DEFAULT_STORAGE = {
        "BACKEND": "django.core.files.storage.FileSystemStorage",
        "OPTIONS": {"location": str(MEDIA_ROOT), "base_url": MEDIA_URL},
    }
STORAGES = {"default": DEFAULT_STORAGE, "staticfiles": _static_storage}
WHITENOISE_USE_FINDERS = not STATIC_MANIFEST  # serve straight from static/ when not collected

# --- Auth and accounts (django-allauth) --------------------------------------
AUTH_USER_MODEL = "portal.User"
AUTHENTICATION_BACKENDS = [
    "django.contrib.auth.backends.ModelBackend",
    "allauth.account.auth_backends.AuthenticationBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 10}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "account_login"
LOGIN_REDIRECT_URL = "portal:home"
LOGOUT_REDIRECT_URL = "portal:landing"

ACCOUNT_USER_MODEL_USERNAME_FIELD = None
ACCOUNT_LOGIN_METHODS = {"email"}
ACCOUNT_SIGNUP_FIELDS = ["email*", "password1*", "password2*"]
ACCOUNT_EMAIL_VERIFICATION = "mandatory"
ACCOUNT_UNIQUE_EMAIL = True
ACCOUNT_PREVENT_ENUMERATION = True
ACCOUNT_LOGIN_ON_EMAIL_CONFIRMATION = True
ACCOUNT_LOGOUT_ON_PASSWORD_CHANGE = False
ACCOUNT_REAUTHENTICATION_REQUIRED = True
ACCOUNT_RATE_LIMITS = {
    "login_failed": "5/5m/ip,5/5m/key",
    "login": "30/m/ip",
    "reset_password": "5/m/ip,3/m/key",
    "signup": "10/h/ip",
}
ACCOUNT_EMAIL_SUBJECT_PREFIX = f"[{PORTAL_NAME}] "
ACCOUNT_DEFAULT_HTTP_PROTOCOL = "https" if not DEBUG else "http"
ACCOUNT_ADAPTER = "portal.adapters.AccountAdapter"
ACCOUNT_FORMS = {"signup": "portal.forms.InviteSignupForm"}
SOCIALACCOUNT_ADAPTER = "portal.adapters.SocialAccountAdapter"
MFA_SUPPORTED_TYPES = ["totp", "recovery_codes", "webauthn"]
MFA_PASSKEY_LOGIN_ENABLED = True
MFA_WEBAUTHN_ALLOW_INSECURE_ORIGIN = DEBUG
MFA_TOTP_ISSUER = PORTAL_NAME
# MFA is required for studio staff always, and for partners when this is on.
REQUIRE_PARTNER_MFA = env.bool("REQUIRE_PARTNER_MFA", default=False)
INVITE_EXPIRY_DAYS = env.int("INVITE_EXPIRY_DAYS", default=14)
# Reverse proxies (CIDRs) whose X-Forwarded-For is believed; the client is the rightmost hop not in this list.
# Empty: REMOTE_ADDR is the client (no proxy, or a proxy that rewrites REMOTE_ADDR). See portal/client_ip.py.
TRUSTED_PROXIES = env.list("TRUSTED_PROXIES", default=[])
try:
    [ipaddress.ip_network(cidr, strict=False) for cidr in TRUSTED_PROXIES]
except ValueError as exc:
    raise ImproperlyConfigured(f"TRUSTED_PROXIES must be a comma-separated list of CIDRs: {exc}") from exc

# Staff single sign-on through an OpenID Connect provider; off unless OIDC_CLIENT_ID is set.
OIDC_CLIENT_ID = env.str("OIDC_CLIENT_ID", default="")
OIDC_ENABLED = bool(OIDC_CLIENT_ID)
# Only these email domains may sign in through SSO; they become studio staff with OIDC_STAFF_ROLE.
OIDC_ALLOWED_DOMAINS = [d.lower() for d in env.list("OIDC_ALLOWED_DOMAINS", default=[])]
OIDC_STAFF_ROLE = env.str("OIDC_STAFF_ROLE", default="reviewer")
SOCIALACCOUNT_ONLY = False
SOCIALACCOUNT_AUTO_SIGNUP = True
SOCIALACCOUNT_EMAIL_AUTHENTICATION = False
SOCIALACCOUNT_PROVIDERS: dict = {}
if OIDC_ENABLED:
    SOCIALACCOUNT_PROVIDERS["openid_connect"] = {
        "OAUTH_PKCE_ENABLED": True,
        "APPS": [
            {
                "provider_id": env.str("OIDC_PROVIDER_ID", default="studio-sso"),
                "name": env.str("OIDC_PROVIDER_NAME", default="Studio single sign-on"),
                "client_id": OIDC_CLIENT_ID,
                "secret": env.str("OIDC_CLIENT_SECRET", default=""),
                "settings": {"server_url": env.str("OIDC_SERVER_URL", default="")},
            }
        ],
    }

# --- Email ------------------------------------------------------------------
EMAIL_CONFIG = env.email_url("EMAIL_URL", default="consolemail://")
vars().update(EMAIL_CONFIG)
EMAIL_TIMEOUT = env.int("EMAIL_TIMEOUT", default=10)  # seconds: a stalled mail server must not hold a worker
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default=f"{PORTAL_NAME} <beta@greenlight.invalid>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL
# Whom a suspended or offboarded studio's people are told to contact (portal/lifecycle.py).
PROGRAMME_CONTACT_EMAIL = env.str("PROGRAMME_CONTACT_EMAIL", default="beta@greenlight.invalid")

# --- Internationalisation ---------------------------------------------------
LANGUAGE_CODE = "en-gb"
TIME_ZONE = env.str("TIME_ZONE", default="UTC")
USE_I18N = True
USE_TZ = True

# --- Security ---------------------------------------------------------------
SESSION_COOKIE_HTTPONLY = True
CSRF_COOKIE_HTTPONLY = True
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
if not DEBUG:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_SSL_REDIRECT = env.bool("DJANGO_SECURE_SSL_REDIRECT", default=True)
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_HSTS_SECONDS = env.int("DJANGO_SECURE_HSTS_SECONDS", default=60 * 60 * 24 * 365)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = env.bool("DJANGO_SECURE_HSTS_INCLUDE_SUBDOMAINS", default=True)
    SECURE_HSTS_PRELOAD = env.bool("DJANGO_SECURE_HSTS_PRELOAD", default=True)
SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^readyz$", r"^metrics$"]
# Content-Security-Policy (django-csp): scripts only from our own static files (no inline script, no eval), no
# framing. Inline style *attributes* stay allowed (style-src-attr): progress bars and chart bars set their width from
# data, also in htmx swaps; a style attribute cannot run script. <style> elements are not allowed.
_S3_ORIGINS = []
if USE_S3:  # presigned URLs: the browser plays/shows media from, and uploads parts to, the bucket's endpoint
    _s3 = urlsplit(AWS_S3_PUBLIC_ENDPOINT_URL) if AWS_S3_PUBLIC_ENDPOINT_URL else None
    _S3_ORIGINS = (
        [f"{_s3.scheme}://{_s3.netloc}"]
        if _s3
        else [f"https://{AWS_STORAGE_BUCKET_NAME}.s3.{AWS_S3_REGION_NAME}.amazonaws.com",
              f"https://s3.{AWS_S3_REGION_NAME}.amazonaws.com"]
    )
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "style-src-attr": ["'unsafe-inline'"],
        "img-src": ["'self'", "data:", *_S3_ORIGINS],  # data: the TOTP QR code
        "media-src": ["'self'", *_S3_ORIGINS],
        "connect-src": ["'self'", *_S3_ORIGINS],
        "font-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    },
}
# JSON request bodies (API and the pages' JSON endpoints): at most this many levels of objects/lists deep.
JSON_MAX_DEPTH = env.int("JSON_MAX_DEPTH", default=32)

# --- Logging ----------------------------------------------------------------
LOG_FORMAT = env.str("LOG_FORMAT", default="text" if DEBUG else "json")
LOG_LEVEL = env.str("LOG_LEVEL", default="INFO")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"request_id": {"()": "config.requestid.RequestIdFilter"}},
    "formatters": {
        "json": {"()": "config.logging.JsonFormatter"},
        "text": {
            "()": "config.logging.TextFormatter",
            "format": "%(asctime)s %(levelname)-7s [%(request_id)s] %(name)s: %(message)s",
        },
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": LOG_FORMAT,
            "filters": ["request_id"],
        },
    },
    "root": {"handlers": ["console"], "level": LOG_LEVEL},
    "loggers": {
        "django.db.backends": {"level": "INFO"},
        "django.server": {"level": "INFO"},
    },
}

# --- Pipeline API (api/) ---------------------------------------------------------
# Requests per minute: per API key, and per person (all their keys and their browser session together).
API_THROTTLE_KEY_RATE = env.str("API_THROTTLE_KEY_RATE", default="600/min")
API_THROTTLE_USER_RATE = env.str("API_THROTTLE_USER_RATE", default="1200/min")
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "api.authentication.ApiKeyAuthentication",
        "api.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["api.permissions.ScopedAccess"],
    "DEFAULT_THROTTLE_CLASSES": ["api.throttling.KeyRateThrottle", "api.throttling.UserRateThrottle"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["api.parsers.LimitedJSONParser"],
    "DEFAULT_SCHEMA_CLASS": "api.schema.ProblemAutoSchema",
    "EXCEPTION_HANDLER": "api.problems.exception_handler",
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
}
SPECTACULAR_SETTINGS = {
    "TITLE": f"{PORTAL_NAME} pipeline API",
    "DESCRIPTION": "Upload footage, run the beta's AI tools and collect their outputs from a studio's own pipeline. "
    "Errors are application/problem+json (RFC 9457). See docs/api.md.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    # Partners and staff only (api/docs.py sets who on its views; these are drf-spectacular's fallbacks).
    "SERVE_PERMISSIONS": ["api.permissions.PartnerOrStaff"],
    "SERVE_AUTHENTICATION": ["api.authentication.ApiKeyAuthentication", "api.authentication.SessionAuthentication"],
    "SCHEMA_PATH_PREFIX": r"/api/v1",
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    "ENUM_NAME_OVERRIDES": {
        "AssetStatusEnum": "assets.models.Asset.Status",
        "AssetKindEnum": "assets.models.Asset.Kind",
        "JobStatusEnum": "beta.models.Job.Status",
    },
}

# --- Results dashboard and exports (beta/results/) -------------------------------
# Seconds the dashboard's computed numbers and their rendered HTML are cached per set of filters (0: off); a finished
# job, a submitted report, a saved survey response or a comparison vote invalidates them all (beta/results/cache.py).
RESULTS_DASHBOARD_CACHE_SECONDS = env.int("RESULTS_DASHBOARD_CACHE_SECONDS", default=60)
# PostgreSQL work_mem for the dashboard's two grouped statements only (SET LOCAL), so their sorts stay in memory.
RESULTS_DASHBOARD_WORK_MEM = env.str("RESULTS_DASHBOARD_WORK_MEM", default="32MB")
# XLSX exports with more rows than this are built by a worker (a progress page, then a download); CSV always streams.
RESULTS_XLSX_WORKER_ROWS = env.int("RESULTS_XLSX_WORKER_ROWS", default=50000)

# --- Metrics (ops/, docs/operations.md) ----------------------------------------------
# Bearer token Prometheus sends to GET /metrics; unset: /metrics answers 404.
METRICS_TOKEN = env.str("METRICS_TOKEN", default="")
# A Celery worker serves its own metrics on this port (0: off); scraped inside the cluster only.
METRICS_WORKER_PORT = env.int("METRICS_WORKER_PORT", default=0)
METRICS_WORKER_ADDR = env.str("METRICS_WORKER_ADDR", default="0.0.0.0")  # noqa: S104 - a pod's own interface
# Seconds between beat's samples of bytes stored per studio.
METRICS_STORAGE_SAMPLE_SECONDS = env.int("METRICS_STORAGE_SAMPLE_SECONDS", default=300)

# --- Demo -------------------------------------------------------------------
DEMO_PASSWORD = env.str("DEMO_PASSWORD", default="greenlight-demo")
# Base32 TOTP secret of the demo staff accounts, so the demo can be signed into with any authenticator app.
DEMO_TOTP_SECRET = env.str("DEMO_TOTP_SECRET", default="JBSWY3DPEHPK3PXPGREENLIGHTDEMO23")
