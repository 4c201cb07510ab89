"""SMS and WhatsApp through Twilio's Messages API.

Credentials are the channel's own (its account SID and auth token, entered in the
console and stored encrypted: messaging.credentials). Channel settings: ``from`` (a
number, or ``messaging_service_sid``). The API base URL is TWILIO_API_BASE, so tests
and staging can point at a local server speaking Twilio's API. Delivery receipts come
back to /hooks/<channel id>/status when FLOWCAST_PUBLIC_URL is set.

Some of Twilio's error codes say the number itself is dead to us, and suppress it
(reason "provider"): refusals of a send (SEND_BOUNCES: the recipient replied STOP
to the carrier, the number is invalid or no mobile) and failed delivery receipts
(RECEIPT_BOUNCES: unreachable, unknown, a landline). Carrier filtering (30007) and
the rest are about the message, not the number: no suppression.
"""

from typing import TYPE_CHECKING

from django.conf import settings
from django.urls import reverse

from messaging.credentials import channel_credentials

from .base import Bounce, DeliveryError, Receipt
from .http import HTTPBackend, post

if TYPE_CHECKING:
    from messaging.models import Channel, Message


# https://www.twilio.com/docs/api/errors
SEND_BOUNCES = {
    "21610": "the recipient unsubscribed (replied STOP to the carrier)",
    "21211": "invalid number",
    "21614": "invalid number (not a mobile number)",
}
RECEIPT_BOUNCES = {
    "30003": "unreachable destination handset",
    "30005": "unknown destination handset",
    "30006": "landline or unreachable carrier",
}


def twilio_bounce(code: str, number: str, *, receipt: bool = False) -> Bounce | None:
    """The bounce Twilio's error ``code`` for ``number`` is (a send's refusal, or a
    failed delivery ``receipt``'s), if it says the number is dead to us."""
    meaning = (RECEIPT_BOUNCES if receipt else SEND_BOUNCES).get(code.strip())
    number = number.removeprefix("whatsapp:").strip()
    if meaning is None:
        return None
    return Bounce("phone", number, "provider", f"Twilio error {code}: {meaning}")


def credentials(channel: "Channel") -> tuple[str, str]:
    found = channel_credentials(channel)
    sid, token = found.get("account_sid", ""), found.get("auth_token", "")
    if not sid or not token:
        raise DeliveryError(
            f"Channel {channel.name!r} has no Twilio account SID and auth token: "
            "enter them on the channel's page in the console."
        )
    return sid, token


class TwilioBackend(HTTPBackend):
    async def send_async(self, message: "Message") -> Receipt:
        channel = message.channel
        sid, token = credentials(channel)
        whatsapp = channel.kind == "whatsapp"

        def address(number: str) -> str:
            return (
                f"whatsapp:{number}"
                if whatsapp and not number.startswith("whatsapp:")
                else number
            )

        data: dict[str, str] = {
            "To": address(message.contact.phone),
            "Body": message.body,
        }
        if channel.settings.get("messaging_service_sid"):
            data["MessagingServiceSid"] = str(channel.settings["messaging_service_sid"])
        elif channel.settings.get("from"):
            data["From"] = address(str(channel.settings["from"]))
        else:
            raise DeliveryError(
                f"Channel {channel.name!r} needs 'from' or 'messaging_service_sid' in "
                "its settings.",
                permanent=True,
            )
        if message.media_url:
            data["MediaUrl"] = message.media_url
        if settings.FLOWCAST_PUBLIC_URL:
            data["StatusCallback"] = (
                settings.FLOWCAST_PUBLIC_URL.rstrip("/")
                + reverse("hooks_status", args=[channel.pk])
                + f"?message={message.pk}"
            )
        base = settings.TWILIO_API_BASE.rstrip("/")
        url = f"{base}/2010-04-01/Accounts/{sid}/Messages.json"
        try:
            answer = await post(
                url,
                f"Twilio ({channel.name})",
                data=data,
                auth=(sid, token),
                headers={"Idempotency-Key": str(message.pk)},
            )
        except DeliveryError as exc:
            exc.bounce = twilio_bounce(exc.code, message.contact.phone)
            raise
        try:
            found = answer.json()
        except ValueError:
            found = {}
        provider_id = str(found.get("sid") or "") if isinstance(found, dict) else ""
        if not provider_id:
            raise DeliveryError("Twilio accepted the message but gave no sid.")
        return Receipt(provider_id=provider_id)
