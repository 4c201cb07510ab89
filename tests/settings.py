"""Test settings: production settings with a fixed key; the database is a throwaway
PostgreSQL server started by tests/conftest.py."""

import os

os.environ.setdefault(
    "SECRET_KEY", "test-only-secret-key-not-for-production-use-123456"
)
os.environ.setdefault("DEBUG", "false")
os.environ.setdefault("SECURE_SSL_REDIRECT", "false")

from config.settings import *  # noqa: E402,F403
from config.settings import STORAGES  # noqa: E402

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
STORAGES["staticfiles"]["BACKEND"] = (
    "django.contrib.staticfiles.storage.StaticFilesStorage"
)

# WhiteNoise warns at every request when STATIC_ROOT does not exist yet.
STATIC_ROOT = VAR_DIR / "test-static"  # noqa: F405
STATIC_ROOT.mkdir(parents=True, exist_ok=True)
