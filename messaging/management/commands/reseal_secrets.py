from typing import Any

from django.core.management.base import BaseCommand

from messaging.credentials import channels_reseal


class Command(BaseCommand):
    help = (
        "Encrypt every channel's secrets again with the first key of "
        "FLOWCAST_SECRETS_KEY, so that the keys after it can be removed."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        count = channels_reseal()
        self.stdout.write(f"Resealed the secrets of {count} channel(s).")
