"""Webhook channel: the message as a signed JSON POST to the channel's URL.

Channel settings: ``url`` (required) and ``secret_env``, the name of the environment
variable holding the signing secret (default FLOWCAST_WEBHOOK_SECRET). Each request
carries ``Idempotency-Key: <message id>`` and ``X-Flowcast-Signature:
sha256=<hex HMAC of the body>``; a receiver that sees the same key twice may ignore it.
The body: ``id``, ``to`` (phone, email, name), ``text``, ``media_url``, ``sender_name``,
``reply_to``, ``batch``, ``step``, and what the batch's writer tagged it with (a
campaign run's messages carry ``run``, an event or audience flow's ``flow``).
"""

import hashlib
import hmac
import json
import os
from typing import TYPE_CHECKING

from django.core.exceptions import ImproperlyConfigured

from .base import DeliveryError, Receipt
from .http import HTTPBackend, post

if TYPE_CHECKING:
    from messaging.models import Message

DEFAULT_SECRET_ENV = "FLOWCAST_WEBHOOK_SECRET"


def signature(secret: str, body: bytes) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def webhook_secret(channel_settings: dict[str, object]) -> str:
    name = str(channel_settings.get("secret_env") or DEFAULT_SECRET_ENV)
    secret = os.environ.get(name, "")
    if not secret:
        raise ImproperlyConfigured(
            f"The webhook channel's signing secret is read from ${name}, which is "
            "not set."
        )
    return secret


class WebhookBackend(HTTPBackend):
    async def send_async(self, message: "Message") -> Receipt:
        channel = message.channel
        url = str(channel.settings.get("url") or "")
        if not url:
            raise DeliveryError(
                f"Channel {channel.name!r} has no url in its settings.", permanent=True
            )
        try:
            secret = webhook_secret(channel.settings)
        except ImproperlyConfigured as exc:
            raise DeliveryError(str(exc)) from None  # retried once the secret is set
        contact = message.contact
        payload = {
            "id": message.pk,
            "to": {
                "phone": contact.phone,
                "email": contact.email,
                "name": contact.name,
            },
            "text": message.body,
            "media_url": message.media_url or None,
            "sender_name": message.sender_name or None,
            "reply_to": message.reply_to or None,
            "batch": message.batch_id,
            "step": message.step,
        }
        # What the batch's writer said of it ("run": a campaign run's id), where it
        # names no key of the message's own.
        payload.update({k: v for k, v in message.tags.items() if k not in payload})
        body = json.dumps(payload, ensure_ascii=False).encode()
        answer = await post(
            url,
            f"Webhook {channel.name}",
            data=body,
            headers={
                "Content-Type": "application/json",
                "Idempotency-Key": str(message.pk),
                "X-Flowcast-Signature": signature(secret, body),
            },
        )
        provider_id = ""
        if "json" in answer.headers.get("Content-Type", ""):
            try:
                found = answer.json()
            except ValueError:
                found = None
            if isinstance(found, dict):
                provider_id = str(found.get("id") or "")
        return Receipt(provider_id=provider_id or f"webhook-{message.pk}")
