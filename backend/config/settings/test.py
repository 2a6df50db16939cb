"""Settings for the test suite: the database and Redis come from the environment as in production."""

import secrets

from .base import *  # noqa: F403
from .base import env

DEBUG = False
QUJAT_DEMO = True
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
# An ephemeral key-encryption key: test databases live only as long as the run.
QUJAT_KEY_ENCRYPTION_KEY = env.str("QUJAT_KEY_ENCRYPTION_KEY", default=secrets.token_urlsafe(48))
CELERY_TASK_ALWAYS_EAGER = env.bool("CELERY_TASK_ALWAYS_EAGER", default=True)
CELERY_TASK_EAGER_PROPAGATES = True
AXES_ENABLED = env.bool("AXES_ENABLED", default=False)
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
# Tests assert English messages unless they choose a language; the product's default stays Kazakh.
LANGUAGE_CODE = "en"
if not env.str("REDIS_URL", default=""):
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
# A converter of its own, so a running `make run` is neither used nor disturbed by the tests.
QUJAT_CONVERTER_PORT = env.int("QUJAT_TEST_CONVERTER_PORT", default=2013)
