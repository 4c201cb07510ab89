from typing import Any

from django.core.management.base import BaseCommand

from messaging.credentials import channels_reseal
from stream.secrets import endpoints_reseal


class Command(BaseCommand):
    help = (
        "Encrypt every channel's and event-stream endpoint's secrets again with the "
        "first key of FLOWCAST_SECRETS_KEY, so that the keys after it can be removed."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        count = channels_reseal()
        endpoints = endpoints_reseal()
        self.stdout.write(
            f"Resealed the secrets of {count} channel(s) and {endpoints} event-stream "
            "endpoint(s)."
        )
