"""The embedded default that `make run` uses: SQLite, no servers, and pages as users see them.

Debug pages (tracebacks, settings) only when a developer asks for them with DEBUG=1.
"""

from .base import *  # noqa: F403
from .base import env

DEBUG = env.bool("DEBUG", default=False)
QUJAT_DEMO = env.bool("QUJAT_DEMO", default=True)
