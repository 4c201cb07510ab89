import logging
from typing import TYPE_CHECKING

from .base import BaseBackend, Receipt

if TYPE_CHECKING:
    from messaging.models import Message

logger = logging.getLogger("messaging.console")


class ConsoleBackend(BaseBackend):
    """Development channel: writes each message to the log instead of sending it."""

    def send(self, message: "Message") -> Receipt:
        extras = "".join(
            f" [{label} {value}]"
            for label, value in (
                ("from", message.sender_name),
                ("reply-to", message.reply_to),
                ("media", message.media_url),
            )
            if value
        )
        logger.info(
            "console message %s to %s via %s: %s%s",
            message.pk,
            message.contact.phone,
            message.channel.name,
            message.body,
            extras,
        )
        return Receipt(provider_id=f"console-{message.pk}")
