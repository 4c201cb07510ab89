from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from messaging.models import Channel
from messaging.receipts import reply_record


class Command(BaseCommand):
    help = (
        "Take a reply as if the channel's provider had reported it: stored, STOP "
        "opts out, a flow waiting for it moves on, else it goes to the inbox. For "
        "trying flows and the inbox on channels without a provider (Console)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("text", help="What the contact wrote.")
        parser.add_argument(
            "--channel", required=True, help="The channel's name, e.g. Console."
        )
        parser.add_argument(
            "--from",
            dest="sender",
            required=True,
            help="The contact's phone (E.164) or email.",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        channel = Channel.objects.filter(name=options["channel"]).first()
        if channel is None:
            names = ", ".join(Channel.objects.values_list("name", flat=True))
            raise CommandError(
                f"No channel is named {options['channel']!r}; there are: {names}."
            )
        reply = reply_record(
            channel=channel, sender=options["sender"], body=options["text"]
        )
        if reply is None:
            self.stdout.write("Already received.")
            return
        inbound = reply.inbound
        who = inbound.contact or f"{inbound.sender} (no contact)"
        if inbound.opted_out:
            what = "suppressed" if channel.address_kind else "opted out"
            outcome = f"{what}; {reply.skipped} waiting message(s) skipped"
        elif inbound.keyword:
            outcome = f"{inbound.keyword.upper()} keyword"
        elif reply.taken_by_flow:
            outcome = "answered by the flow waiting for it"
        elif reply.conversation is not None:
            outcome = f"in the inbox: {reply.conversation}"
        else:
            outcome = "stored"
        self.stdout.write(f"Reply {inbound.pk} from {who}: {outcome}.")
