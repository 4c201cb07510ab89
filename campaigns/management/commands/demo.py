from django.core.management.base import BaseCommand

from campaigns.demo import demo_load


class Command(BaseCommand):
    help = "Load the demo group, flow and campaign, once (does nothing if present)."

    def handle(self, *args: object, **options: object) -> None:
        campaign = demo_load()
        if campaign is None:
            self.stdout.write("Demo data already present; nothing loaded.")
            return
        self.stdout.write(
            self.style.SUCCESS(
                f"Demo loaded: campaign {campaign.name!r} starts at "
                f"{campaign.start_at:%H:%M %Z} and then runs hourly."
            )
        )
