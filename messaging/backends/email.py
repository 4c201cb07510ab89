"""Email channel, through Django's email backend (EMAIL_HOST, EMAIL_PORT, ... from the
environment), on connections kept open and reused.

Channel settings: ``from_email`` (default DEFAULT_FROM_EMAIL) and ``subject``; without
a subject, the message's first line is the subject. The campaign's sender name and
reply-to become the From name and Reply-To. The Message-ID is built from the message
id, so a receiver can tell a resent copy from a new message. A marketing email (not a
transactional send, not a console answer) ends with an unsubscribe link, and carries
it in List-Unsubscribe with List-Unsubscribe-Post (one-click, RFC 8058):
messaging.unsubscribing.

Each worker process keeps a small pool of open connections (one per message it has
in flight on email, at most the channel's ``max_in_flight``): connect, EHLO,
STARTTLS and AUTH happen once per connection, not once per message. A connection
idle for IDLE_CHECK_SECONDS is asked NOOP before its next message; one the server
dropped (or that says it is closing: 421, as servers limiting messages per connection
do) is replaced, and a message whose send found it so is sent once more on a fresh
connection. A recipient the server refuses fails that message only: the
connection goes on with the next one.

A refusal that is about the recipient's address is a bounce (smtp_bounce): hard
for a permanent (5xx) answer to RCPT TO, or to DATA when its enhanced status code
(RFC 3463) names the address or the mailbox (5.1.x, 5.2.x); soft for a temporary
(4xx) one, and for a full mailbox (x.2.2). Refusals of our own sending (a
policy's x.7.x, a message too big, a refused sender, 421) are no bounce.
"""

import contextlib
import re
import smtplib
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from email.utils import formataddr
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.core.mail import EmailMultiAlternatives, get_connection
from django.utils.html import escape

from messaging.unsubscribing import email_unsubscribe

from .base import BaseBackend, Bounce, DeliveryError, Receipt

if TYPE_CHECKING:
    from messaging.models import Message

IDLE_CHECK_SECONDS = 5.0
# An enhanced status code (RFC 3463) at the start of an answer: class.subject.detail.
ENHANCED = re.compile(r"^[245]\.(\d{1,3})\.(\d{1,3})\b")
# The longest part of a server's answer kept.
LONGEST_ANSWER = 200
# Connections kept open while idle, per process.
KEEP_IDLE = 50


def _settings_key() -> tuple[Any, ...]:
    return (
        settings.EMAIL_BACKEND,
        settings.EMAIL_HOST,
        settings.EMAIL_PORT,
        settings.EMAIL_HOST_USER,
    )


class ConnectionPool:
    """Open email connections of this process, lent one message at a time."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.idle: list[tuple[tuple[Any, ...], Any, float]] = []
        self.opened = 0

    def _take(self) -> tuple[Any, bool]:
        """An open connection, and whether it was used before."""
        key = _settings_key()
        with self.lock:
            for index in range(len(self.idle) - 1, -1, -1):
                if self.idle[index][0] == key:
                    _, connection, used_at = self.idle.pop(index)
                    break
            else:
                connection = None
        if connection is not None:
            if time.monotonic() - used_at < IDLE_CHECK_SECONDS or _alive(connection):
                return connection, True
            _close(connection)
        connection = get_connection(fail_silently=False)
        connection.open()
        with self.lock:
            self.opened += 1
        return connection, False

    def _give_back(self, connection: Any) -> None:
        with self.lock:
            if len(self.idle) < KEEP_IDLE:
                self.idle.append((_settings_key(), connection, time.monotonic()))
                return
        _close(connection)

    @contextmanager
    def connection(self) -> Iterator[tuple[Any, bool]]:
        """Lend an open connection (and whether it was used before); it goes back
        to the pool unless the server dropped it."""
        connection, reused = self._take()
        keep = False
        try:
            yield connection, reused
            keep = True
        except smtplib.SMTPResponseException as exc:
            # The server answered (a refused sender): still open, unless it said
            # it is closing (421: too many messages on one connection, shutting
            # down).
            keep = exc.smtp_code != 421
            raise
        except smtplib.SMTPRecipientsRefused:
            keep = True
            raise
        finally:
            if keep:
                self._give_back(connection)
            else:
                _close(connection)

    def close_all(self) -> None:
        with self.lock:
            idle, self.idle = self.idle, []
        for _, connection, _ in idle:
            _close(connection)


def _alive(connection: Any) -> bool:
    smtp = getattr(connection, "connection", None)
    if smtp is None:
        return True  # not an SMTP backend (locmem, console): nothing to check
    try:
        return int(smtp.noop()[0]) == 250
    except (smtplib.SMTPException, OSError):
        return False


def _close(connection: Any) -> None:
    with contextlib.suppress(Exception):  # already gone
        connection.close()


pool = ConnectionPool()


class EmailBackend(BaseBackend):
    # Several messages at once, each on its own pooled connection.
    concurrent = True

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
        headers = {"Message-ID": message_id, "X-Flowcast-Message": str(message.pk)}
        unsubscribe = email_unsubscribe(message, contact.email)
        if unsubscribe is not None:
            headers |= unsubscribe.headers
        email = EmailMultiAlternatives(
            subject=subject,
            body=message.body + (unsubscribe.text if unsubscribe else ""),
            from_email=from_email,
            to=[contact.email],
            reply_to=[message.reply_to] if message.reply_to else None,
            headers=headers,
        )
        if message.media_url:
            html = escape(message.body).replace("\n", "<br>")
            email.attach_alternative(
                f'<p><img src="{escape(message.media_url)}" alt=""></p><p>{html}</p>'
                + (unsubscribe.html if unsubscribe else ""),
                "text/html",
            )
        try:
            try:
                with pool.connection() as (connection, reused):
                    connection.send_messages([email])
            except (
                smtplib.SMTPServerDisconnected,
                smtplib.SMTPResponseException,
            ) as exc:
                closing = getattr(exc, "smtp_code", 421) == 421
                if not (reused and closing):
                    raise
                # Dropped while idle in the pool (the server restarted, or closes
                # idle connections): so are its idle peers; once more, afresh.
                pool.close_all()
                with pool.connection() as (connection, _):
                    connection.send_messages([email])
        except OSError as exc:  # smtplib errors are OSErrors too
            permanent = getattr(exc, "smtp_code", 0) and 500 <= exc.smtp_code < 600  # type: ignore[attr-defined]
            if isinstance(exc, smtplib.SMTPRecipientsRefused):
                codes = [code for code, _ in exc.recipients.values()]
                permanent = bool(codes) and all(500 <= code < 600 for code in codes)
            bounce = smtp_bounce(exc, contact.email)
            raise DeliveryError(
                bounce.answer if bounce else f"SMTP: {exc}",
                permanent=bool(permanent),
                bounce=bounce,
            ) from None
        return Receipt(provider_id=message_id)


def smtp_answer(code: int, text: bytes | str, address: str) -> str:
    """ "SMTP 550 5.1.1 <recipient>: user unknown": the server's answer on one line,
    bounded, without the address itself (it is kept where the contact's data is
    not: a suppression's source outlives the contact)."""
    if isinstance(text, bytes):
        text = text.decode("utf-8", "replace")
    words = " ".join(text.split())
    if address:
        words = re.sub(re.escape(address), "recipient", words, flags=re.IGNORECASE)
    return f"SMTP {code} {words[:LONGEST_ANSWER]}".rstrip()


def smtp_bounce(exc: OSError, address: str) -> Bounce | None:
    """The bounce a refusal of ``address`` is, if it is about the address (see the
    module's docstring); None for any other failure."""
    text: bytes | str
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        answers = list(exc.recipients.values())
        if not answers:
            return None
        code, text = answers[0]
        stage = "RCPT"
    elif isinstance(exc, smtplib.SMTPDataError):
        code, text, stage = exc.smtp_code, exc.smtp_error, "DATA"
    else:
        return None
    if not 400 <= code < 600 or code == 421:  # 421: the server is closing
        return None
    answer = smtp_answer(code, text, address)
    enhanced = ENHANCED.match(answer.split(" ", 2)[-1])
    subject, detail = enhanced.groups() if enhanced else ("0", "0")
    if subject in ("0", "4"):  # other or routing: about the address only at RCPT
        about_address = stage == "RCPT"
    else:  # 1: the address; 2: the mailbox (but for 2.3, a message too long)
        about_address = subject == "1" or (subject == "2" and detail != "3")
    if not about_address:
        return None
    soft = code < 500 or (subject, detail) == ("2", "2")
    return Bounce("email", address, "bounce", answer, soft=soft)
