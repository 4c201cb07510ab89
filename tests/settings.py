"""Test settings: production settings with a fixed key.

The database is a throwaway PostgreSQL server started by tests/conftest.py, or with
FLOWCAST_TEST_DB=sqlite a SQLite file configured as `make run` has it
(config/settings.py: WAL, a busy timeout, IMMEDIATE transactions), which
tests/conftest.py puts in the test session's temporary folder.
"""

import os

os.environ.setdefault(
    "SECRET_KEY", "test-only-secret-key-not-for-production-use-123456"
)
os.environ.setdefault("DEBUG", "false")
# Inherited by the programs the tests start (workers, beat).
os.environ.setdefault(
    "FLOWCAST_SECRETS_KEY", "dGVzdC1vbmx5LWZlcm5ldC1rZXktMzItYnl0ZXMhISE="
)
os.environ.setdefault("SECURE_SSL_REDIRECT", "false")
# The tests' receivers (and the workers some tests start) listen on this machine,
# which Flowcast's requests may not reach otherwise (base.outbound);
# tests/messaging/test_outbound_urls.py empties the list to see the refusals.
os.environ["MESSAGING_OUTBOUND_ALLOW"] = "127.0.0.1,::1,localhost"

TEST_DB = os.environ.get("FLOWCAST_TEST_DB", "").strip().lower() or "postgresql"
if TEST_DB not in ("postgresql", "sqlite"):
    raise RuntimeError(
        f"FLOWCAST_TEST_DB must be postgresql or sqlite, got {TEST_DB!r}"
    )

# config/settings.py builds its SQLite configuration when DATABASE_URL names a SQLite
# file: on SQLite, have it do so whatever DATABASE_URL this shell has, and leave the
# environment as it was for the programs the tests start.
_shell_database_url = os.environ.get("DATABASE_URL")
if TEST_DB == "sqlite":
    os.environ["DATABASE_URL"] = "sqlite:///test-database-path-set-by-conftest"
try:
    from config.settings import *  # noqa: E402,F403
    from config.settings import STORAGES  # noqa: E402
finally:
    if _shell_database_url is None:
        os.environ.pop("DATABASE_URL", None)
    else:
        os.environ["DATABASE_URL"] = _shell_database_url

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
STORAGES["staticfiles"]["BACKEND"] = (
    "django.contrib.staticfiles.storage.StaticFilesStorage"
)

# WhiteNoise warns at every request when STATIC_ROOT does not exist yet.
STATIC_ROOT = VAR_DIR / "test-static"  # noqa: F405
STATIC_ROOT.mkdir(parents=True, exist_ok=True)

# schemathesis calls the API through WSGI as host "localhost" (tests/api).
ALLOWED_HOSTS = [*ALLOWED_HOSTS, "localhost"]  # noqa: F405
