"""Logging: one plain line per record on standard error; the product's apps at
LOG_LEVEL, everything else at WARNING (read by config.settings)."""

import os
from typing import Any

LOG_LEVEL = os.environ.get("LOG_LEVEL", "INFO")
APPS = ("audiences", "campaigns", "flows", "messaging", "stream")

LOGGING: dict[str, Any] = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}
    },
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": "WARNING"},
    "loggers": {
        app: {"handlers": ["console"], "level": LOG_LEVEL, "propagate": False}
        for app in APPS
    },
}
