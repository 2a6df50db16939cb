"""Settings shared by every environment; everything that differs between machines comes from the environment.

With no variables set this is the embedded default: SQLite in WAL mode, Celery on a filesystem broker,
e-mail written to files. DATABASE_URL / REDIS_URL switch the same code to PostgreSQL and Redis.
"""

from datetime import timedelta
from pathlib import Path

import environ
from celery.schedules import crontab

BASE_DIR = Path(__file__).resolve().parents[3]
VAR_DIR = Path(environ.Env().str("QUJAT_VAR_DIR", default=str(BASE_DIR / "var")))

env = environ.Env()
# `make` writes generated local secrets (SECRET_KEY, the key-encryption key) to .env, never to the repo.
environ.Env.read_env(env.str("QUJAT_ENV_FILE", default=str(BASE_DIR / ".env")), overwrite=False)

INSECURE_SECRET_KEY = "insecure-local-development-key-never-use-in-production"  # noqa: S105
SECRET_KEY = env.str("SECRET_KEY", default=INSECURE_SECRET_KEY)
DEBUG = env.bool("DEBUG", default=False)
# Demo data (`seed_demo`: logins with the password "demo") is allowed only where this is on.
QUJAT_DEMO = env.bool("QUJAT_DEMO", default=False)
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost", "testserver"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

# The public address printed in QR codes and e-mails.
QUJAT_SITE_URL = env.str("QUJAT_SITE_URL", default="http://127.0.0.1:8000").rstrip("/")
# Encrypts signers' private keys (PKCS#8); comes from the environment only.
QUJAT_KEY_ENCRYPTION_KEY = env.str("QUJAT_KEY_ENCRYPTION_KEY", default="")
# Optional RFC 3161 timestamp authority: with it signatures are PAdES-B-T, without it PAdES-B-B.
QUJAT_TSA_URL = env.str("QUJAT_TSA_URL", default="")
# Where the signer's browser finds NCALayer (the national signing application on the signer's own computer).
QUJAT_NCALAYER_URL = env.str("QUJAT_NCALAYER_URL", default="wss://127.0.0.1:13579/")
# Printed in the letterhead of documents (the university's name comes from the root org unit).
QUJAT_UNIVERSITY_CITY = env.str("QUJAT_UNIVERSITY_CITY", default="Алматы")
QUJAT_UNIVERSITY_CITY_EN = env.str("QUJAT_UNIVERSITY_CITY_EN", default="Almaty")
QUJAT_AIS_NAME = env.str("QUJAT_AIS_NAME", default="Сириус")
# The Kazakh version of the journal SOP routes the note through the dean's council instead of two dean visas.
QUJAT_REOPEN_ROUTING = env.str("QUJAT_REOPEN_ROUTING", default="individual_visas")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "rest_framework",
    "drf_spectacular",
    "axes",
    "backend.core",
    "backend.accounts",
    "backend.academics",
    "backend.workflow",
    "backend.documents",
    "backend.signatures",
    "backend.reopen",
    "backend.transcripts",
    "backend.access",
    "backend.inbox",
    "backend.cases",
    "backend.monitor",
    "backend.demo",
    "backend.api",
    "backend.web",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "axes.middleware.AxesMiddleware",
    "backend.web.refusals.RefusalPages",
    "backend.cases.read_only.AuditorsReadOnly",
]

ROOT_URLCONF = "backend.config.urls"
WSGI_APPLICATION = "backend.config.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "django.template.context_processors.i18n",
                "backend.web.context_processors.header",
                "backend.web.context_processors.navigation",
            ],
        },
    },
]

# --- database -------------------------------------------------------------------------------------
DATABASES = {"default": env.db("DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'qujat.sqlite3'}")}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    DATABASES["default"]["OPTIONS"] = {
        # IMMEDIATE takes the write lock at BEGIN, so concurrent writers queue instead of failing
        # half-way with "database is locked"; WAL lets readers proceed meanwhile.
        "transaction_mode": "IMMEDIATE",
        "timeout": 30,
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON;",
    }
else:
    DATABASES["default"].setdefault("CONN_MAX_AGE", env.int("CONN_MAX_AGE", default=60))
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- cache, Celery --------------------------------------------------------------------------------
REDIS_URL = env.str("REDIS_URL", default="")
if REDIS_URL:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}}
    CELERY_BROKER_URL = env.str("CELERY_BROKER_URL", default=REDIS_URL)
    CELERY_RESULT_BACKEND = REDIS_URL
    CELERY_REDIS_BACKEND_HEALTH_CHECK_INTERVAL = 30
else:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
            "LOCATION": VAR_DIR / "cache",
        }
    }
    # A broker made of folders: worker, beat and web share it without any server running.
    CELERY_BROKER_URL = env.str("CELERY_BROKER_URL", default="filesystem://")
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(VAR_DIR / "celery" / "queue"),
        "data_folder_out": str(VAR_DIR / "celery" / "queue"),
        "processed_folder": str(VAR_DIR / "celery" / "processed"),
        "control_folder": str(VAR_DIR / "celery" / "control"),
        "store_processed": False,
    }
    CELERY_RESULT_BACKEND = f"file://{VAR_DIR / 'celery' / 'results'}"
    for folder in ("queue", "processed", "results", "control"):
        (VAR_DIR / "celery" / folder).mkdir(parents=True, exist_ok=True)
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_TIME_LIMIT = 300
CELERY_TASK_SOFT_TIME_LIMIT = 240
# At least once: a task's message is acknowledged only when the task ends, and given back to the broker when its
# worker process dies (SIGKILL, the OOM killer), so another worker takes it; each worker reserves one message at
# a time, so a dead worker strands no queue of others. Every task is written to be safe to run twice.
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# RabbitMQ: AMQP heartbeats find a dead connection within a minute (set the server's consumer_timeout above the
# longest task, 3 h, or it closes the channel of a long job). Redis: a message a worker took and never
# acknowledged (the whole worker was killed) goes back to the queue after the visibility timeout, which must be
# longer than the longest task (run_job, 3 h) or a running job would be delivered a second time. Prompt recovery
# after a kill does not wait for it: the sweepers on beat (jobs_sweep, documents_sweep) enqueue stalled work again
# after QUJAT_JOB_STALL_SECONDS; the filesystem broker has no redelivery at all and relies on them alone.
CELERY_BROKER_HEARTBEAT = 30
QUJAT_CELERY_VISIBILITY_TIMEOUT = env.int("QUJAT_CELERY_VISIBILITY_TIMEOUT", default=3 * 3600 + 600)
if CELERY_BROKER_URL.startswith(("redis://", "rediss://", "sentinel://")):
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "visibility_timeout": QUJAT_CELERY_VISIBILITY_TIMEOUT,
        "health_check_interval": 30,
        "socket_keepalive": True,
    }
CELERY_RESULT_EXPIRES = timedelta(days=1)
CELERY_TIMEZONE = "UTC"
QUJAT_TIMER_INTERVAL_SECONDS = env.int("QUJAT_TIMER_INTERVAL_SECONDS", default=15)
CELERY_BEAT_SCHEDULE = {
    "fire-due-timers": {
        "task": "backend.workflow.tasks.fire_due_timers",
        "schedule": timedelta(seconds=QUJAT_TIMER_INTERVAL_SECONDS),
    },
    "sweep-jobs": {"task": "backend.core.tasks.sweep_jobs", "schedule": timedelta(minutes=1)},
    "sweep-documents": {"task": "backend.documents.tasks.sweep_documents", "schedule": timedelta(minutes=1)},
    "sweep-orphan-files": {"task": "backend.documents.tasks.sweep_orphan_files", "schedule": timedelta(hours=1)},
    "send-due-soon-notices": {
        "task": "backend.inbox.tasks.send_due_soon_notices",
        "schedule": timedelta(hours=1),
    },
    "send-daily-digests": {
        "task": "backend.inbox.tasks.send_daily_digests",
        "schedule": crontab(hour=2, minute=0),  # 07:00 in Almaty
    },
    "checkpoint-history": {
        "task": "backend.workflow.tasks.checkpoint_history",
        "schedule": crontab(hour=19, minute=30),  # 00:30 in Almaty
    },
    "refresh-monitor-facts": {"task": "backend.monitor.tasks.refresh_facts", "schedule": timedelta(minutes=1)},
    "send-monitor-alerts": {
        "task": "backend.monitor.tasks.send_alerts",
        "schedule": crontab(hour=2, minute=30),  # 07:30 in Almaty
    },
}
# Signed checkpoints of the history chains' heads: an append-only folder (see backend/workflow/checkpoints.py).
# How long an Idempotency-Key's first answer is kept for retries (per user).
QUJAT_IDEMPOTENCY_HOURS = env.int("QUJAT_IDEMPOTENCY_HOURS", default=24)
QUJAT_CHECKPOINT_DIR = env.str("QUJAT_CHECKPOINT_DIR", default=str(VAR_DIR / "checkpoints"))
# A background job that shows no sign of life for this long is enqueued again (every item beats).
QUJAT_JOB_STALL_SECONDS = env.int("QUJAT_JOB_STALL_SECONDS", default=300)
# How many worker processes run one batch signing job at once: the worker's --concurrency (Procfile: 2).
QUJAT_JOB_RUNNERS = env.int("QUJAT_JOB_RUNNERS", default=2)
# A generated file with no committed row (its transaction was rolled back, its worker killed) is deleted by the
# hourly sweep once it is older than this; younger ones may belong to a transaction still open.
QUJAT_ORPHAN_FILE_GRACE_SECONDS = env.int("QUJAT_ORPHAN_FILE_GRACE_SECONDS", default=6 * 3600)
CELERY_BEAT_SCHEDULE_FILENAME = str(VAR_DIR / "celerybeat-schedule")

# --- e-mail ---------------------------------------------------------------------------------------
if env.str("EMAIL_URL", default=""):
    vars().update(env.email_url("EMAIL_URL"))
else:
    # Demo users read what was "sent" in var/mail.
    EMAIL_BACKEND = "django.core.mail.backends.filebased.EmailBackend"
    EMAIL_FILE_PATH = VAR_DIR / "mail"
# An SMTP server that hangs must not hold a worker: the send fails, and the task retries with backoff.
EMAIL_TIMEOUT = env.int("EMAIL_TIMEOUT", default=30)
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="Qujat <noreply@qujat.local>")

# How many reverse proxies in front of the web servers append to X-Forwarded-For. The client's address (for
# throttles, lockouts and the public pages' limits) is taken from that header only behind this many; 0 (the
# default, nothing in front) means the connection's own address, whatever the header says.
QUJAT_TRUSTED_PROXIES = env.int("QUJAT_TRUSTED_PROXIES", default=0)

# --- auth -----------------------------------------------------------------------------------------
AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 10}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "web:login"
LOGIN_REDIRECT_URL = "web:home"
LOGOUT_REDIRECT_URL = "web:login"
AXES_FAILURE_LIMIT = env.int("AXES_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = timedelta(minutes=15)
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_CALLABLE = "backend.web.errors.locked_out"
AXES_SENSITIVE_PARAMETERS = ["password"]
AXES_CLIENT_IP_CALLABLE = "backend.core.ratelimit.client_address"
CSRF_FAILURE_VIEW = "backend.web.errors.csrf_failure"
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_AGE = 60 * 60 * 12

# --- i18n -----------------------------------------------------------------------------------------
LANGUAGE_CODE = env.str("LANGUAGE_CODE", default="kk")
LANGUAGES = [("kk", "Қазақша"), ("ru", "Русский"), ("en", "English")]
LOCALE_PATHS = [BASE_DIR / "backend" / "locale"]
TIME_ZONE = "Asia/Almaty"
USE_I18N = True
USE_TZ = True

# --- files ----------------------------------------------------------------------------------------
STATIC_URL = "/static/"
STATIC_ROOT = VAR_DIR / "static"
STATIC_ROOT.mkdir(parents=True, exist_ok=True)  # WhiteNoise warns on every request without it
MEDIA_URL = "/media/"
MEDIA_ROOT = VAR_DIR / "media"
STORAGES = {
    # Any Django storage (an S3-compatible one included) can replace this through STORAGES.
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}
DOCUMENT_TEMPLATES_DIR = BASE_DIR / "document_templates"
BPMN_DIR = BASE_DIR / "bpmn"
FILE_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024
DATA_UPLOAD_MAX_MEMORY_SIZE = 10 * 1024 * 1024
# An API body: at most this many bytes and this many levels of nesting.
QUJAT_API_MAX_BODY_BYTES = env.int("QUJAT_API_MAX_BODY_BYTES", default=1024 * 1024)
QUJAT_API_MAX_DEPTH = env.int("QUJAT_API_MAX_DEPTH", default=20)
QUJAT_ATTACHMENT_MAX_BYTES = env.int("QUJAT_ATTACHMENT_MAX_BYTES", default=10 * 1024 * 1024)

# --- LibreOffice converter ------------------------------------------------------------------------
QUJAT_CONVERTER_HOST = env.str("QUJAT_CONVERTER_HOST", default="127.0.0.1")
QUJAT_CONVERTER_PORT = env.int("QUJAT_CONVERTER_PORT", default=2003)
# Seconds one conversion may take before its LibreOffice is replaced.
QUJAT_CONVERTER_TIMEOUT = env.int("QUJAT_CONVERTER_TIMEOUT", default=60)
# Warm LibreOffices in `run_converter`; each converts one document at a time.
QUJAT_CONVERTER_WORKERS = env.int("QUJAT_CONVERTER_WORKERS", default=2)
# Back-pressure: at most this many conversions wait at once, none longer than QUEUE_WAIT seconds; more are
# refused at once with "busy" (ConverterBusy), which background jobs retry later.
QUJAT_CONVERTER_QUEUE = env.int("QUJAT_CONVERTER_QUEUE", default=64)
QUJAT_CONVERTER_QUEUE_WAIT = env.int("QUJAT_CONVERTER_QUEUE_WAIT", default=60)
# How long a client waits for a converter that refuses connections (starting or restarting).
QUJAT_CONVERTER_CONNECT_WAIT = env.int("QUJAT_CONVERTER_CONNECT_WAIT", default=30)
QUJAT_CONVERTER_PYTHON = env.str("QUJAT_CONVERTER_PYTHON", default=str(BASE_DIR / ".venv-uno" / "bin" / "python"))

# --- REST API -------------------------------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        # Token first: its WWW-Authenticate header makes a bad token a 401, not a 403.
        "backend.api.authentication.HashedTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": [
        "rest_framework.permissions.IsAuthenticated",
        "backend.cases.read_only.NotAnAuditorWrite",
    ],
    "DEFAULT_SCHEMA_CLASS": "backend.api.schema.QujatAutoSchema",
    "EXCEPTION_HANDLER": "backend.core.exceptions.api_exception_handler",
    # Bodies are JSON objects (endpoints that take files name their multipart parser themselves).
    "DEFAULT_PARSER_CLASSES": ["backend.api.parsing.ObjectJSONParser"],
    # JSON only, errors included: no browsable HTML pages.
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_CONTENT_NEGOTIATION_CLASS": "backend.api.parsing.JsonAlways",
    "TEST_REQUEST_DEFAULT_FORMAT": "json",
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.PageNumberPagination",
    "PAGE_SIZE": 25,
    "DEFAULT_THROTTLE_RATES": {"verification": "30/min", "login": "10/min"},
    # Throttles identify clients by backend.core.ratelimit.client_address; this keeps DRF's own view the same.
    "NUM_PROXIES": QUJAT_TRUSTED_PROXIES,
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Qujat API",
    "DESCRIPTION": "Processes, tasks, documents and signatures of the registrar office.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "/static/vendor/swagger-ui-dist",
    "SWAGGER_UI_FAVICON_HREF": "/static/vendor/swagger-ui-dist/favicon-32x32.png",
    "COMPONENT_SPLIT_REQUEST": True,
    # 3.1: schemas are JSON Schema 2020-12, so the processes' forms are documented with all their rules.
    "OAS_VERSION": "3.1.0",
    "POSTPROCESSING_HOOKS": ["backend.api.schema.postprocess_enums"],
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    "loggers": {
        "django.db.backends": {"level": "INFO"},
        "axes": {"level": "WARNING"},
        "spiff": {"level": "WARNING"},
        "pyhanko": {"level": "ERROR"},
        "celery.app.trace": {"level": "WARNING"},
    },
}

# Every `migrate` deploys bpmn/*.bpmn (a file whose content is already deployed is skipped; a changed one
# becomes a new version, running cases keep theirs). The one place that decides it: QUJAT_DEPLOY_ON_MIGRATE=false
# leaves deployment to `manage.py deploy_processes`.
QUJAT_DEPLOY_ON_MIGRATE = env.bool("QUJAT_DEPLOY_ON_MIGRATE", default=True)
# Requests per minute and address to the public verification page.
QUJAT_VERIFY_RATE_PER_MINUTE = env.int("QUJAT_VERIFY_RATE_PER_MINUTE", default=30)
