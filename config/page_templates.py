"""The console's page templates: Django's engine, the project's templates folder
before the apps' own (read by config.settings)."""

from pathlib import Path
from typing import Any


def console_templates(folder: Path) -> dict[str, Any]:
    return {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [folder],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    }
