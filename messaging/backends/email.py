"""Email channel, through Django's email backend (EMAIL_HOST, EMAIL_PORT, ... from the
environment).

Channel settings: ``from_email`` (default DEFAULT_FROM_EMAIL) and ``subject``; without
a subject, the message's first line is the subject. The campaign's sender name and
reply-to become the From name and Reply-To. The Message-ID is built from the message
id, so a receiver can tell a resent copy from a new message.
"""

from email.utils import formataddr
from typing import TYPE_CHECKING

from django.conf import settings
from django.core.mail import EmailMultiAlternatives, get_connection
from django.utils.html import escape

from .base import BaseBackend, DeliveryError, Receipt

if TYPE_CHECKING:
    from messaging.models import Message


class EmailBackend(BaseBackend):
    def send(self, message: "Message") -> Receipt:
        contact = message.contact
        if not contact.email:
            raise DeliveryError(f"{contact} has no email address.", permanent=True)
        channel_settings = message.channel.settings
        from_email = str(
            channel_settings.get("from_email") or settings.DEFAULT_FROM_EMAIL
        )
        if message.sender_name:
            from_email = formataddr((message.sender_name, from_email))
        lines = message.body.strip().splitlines() or [""]
        subject = str(channel_settings.get("subject") or lines[0])[:150]
        domain = settings.MESSAGING_EMAIL_DOMAIN
        message_id = f"<flowcast-{message.pk}@{domain}>"
        email = EmailMultiAlternatives(
            subject=subject,
            body=message.body,
            from_email=from_email,
            to=[contact.email],
            reply_to=[message.reply_to] if message.reply_to else None,
            headers={"Message-ID": message_id, "X-Flowcast-Message": str(message.pk)},
            connection=get_connection(fail_silently=False),
        )
        if message.media_url:
            html = escape(message.body).replace("\n", "<br>")
            email.attach_alternative(
                f'<p><img src="{escape(message.media_url)}" alt=""></p><p>{html}</p>',
                "text/html",
            )
        try:
            email.send()
        except OSError as exc:  # smtplib errors are OSErrors too
            permanent = getattr(exc, "smtp_code", 0) and 500 <= exc.smtp_code < 600  # type: ignore[attr-defined]
            raise DeliveryError(f"SMTP: {exc}", permanent=bool(permanent)) from None
        return Receipt(provider_id=message_id)
