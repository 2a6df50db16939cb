"""Production: refuses to start with debugging on or without a real secret key."""

from django.core.exceptions import ImproperlyConfigured

from .base import *  # noqa: F403
from .base import INSECURE_SECRET_KEY, QUJAT_KEY_ENCRYPTION_KEY, SECRET_KEY, env

DEBUG = env.bool("DEBUG", default=False)
if DEBUG:
    raise ImproperlyConfigured("DEBUG must be off in production (unset DEBUG or set DEBUG=false).")
if env.bool("QUJAT_DEMO", default=False):
    raise ImproperlyConfigured("QUJAT_DEMO (demo logins with a known password) must be off in production.")
if SECRET_KEY == INSECURE_SECRET_KEY or len(SECRET_KEY) < 50:
    raise ImproperlyConfigured("Set SECRET_KEY to a random value of at least 50 characters.")
if len(QUJAT_KEY_ENCRYPTION_KEY) < 32:
    raise ImproperlyConfigured("Set QUJAT_KEY_ENCRYPTION_KEY to a random value of at least 32 characters.")

SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=True)
SESSION_COOKIE_SECURE = True
CSRF_COOKIE_SECURE = True
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=60 * 60 * 24 * 30)
SECURE_CONTENT_TYPE_NOSNIFF = True
