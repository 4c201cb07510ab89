"""Webhook channel: the message as a signed JSON POST to the channel's URL.

Channel settings: ``url`` (required). Each request is signed as Standard Webhooks
says (base.signing), with the channel's own signing secret (and, for a while
after a rotation, the previous one too): ``webhook-id: msg_<message id>``, the same
on every retry so a receiver can drop a copy, ``webhook-timestamp`` and
``webhook-signature``; and ``Idempotency-Key: <message id>`` as before.
The body: ``id``, ``to`` (phone, email, name), ``text``, ``media_url``,
``sender_name``, ``reply_to``, ``batch``, ``step``, and what the batch's writer
tagged it with (a campaign run's messages carry ``run``, an event or audience flow's
``flow``).
"""

import json
import time
from typing import TYPE_CHECKING

from base.signing import signed_headers
from messaging.credentials import channel_signing_secrets

from .base import DeliveryError, Receipt
from .http import HTTPBackend, post

if TYPE_CHECKING:
    from messaging.models import Message


def hook_id(message_id: int) -> str:
    return f"msg_{message_id}"


class WebhookBackend(HTTPBackend):
    async def send_async(self, message: "Message") -> Receipt:
        channel = message.channel
        url = str(channel.settings.get("url") or "")
        if not url:
            raise DeliveryError(
                f"Channel {channel.name!r} has no url in its settings.", permanent=True
            )
        secrets = channel_signing_secrets(channel)
        if not secrets:  # retried: rotating the secret makes one
            raise DeliveryError(
                f"Channel {channel.name!r} has no signing secret: rotate its secret "
                "in the console to make one."
            )
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
                **signed_headers(secrets, hook_id(message.pk), int(time.time()), body),
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
