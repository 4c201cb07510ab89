"""A channel's reply keywords (CTIA's STOP, START and HELP), and what each does.

STOP adds the sender's address to the suppression list (audiences.suppressing): a
number stops SMS, WhatsApp and console messages to it, and nothing else (the
contact still gets email); on webhook channels, which reach no address, it opts the
contact out of everything. START takes back a STOP: the number's entry if a reply
or the provider put it there (not one an operator or an import added), and a global
opt-out that came from a STOP reply before the list existed. HELP is answered with
the channel's help text, as a transactional message (no cap holds it).

Keywords match as letters only, in any case ("Stop!", " stop "); each channel may
name its own (BAJA, ALTA, AYUDA), else the defaults below.
"""

import datetime as dt
import logging
import re

from django.conf import settings
from django.db import transaction

from audiences.consent import contact_mark_opted_in
from audiences.models import Contact, Suppression
from audiences.suppressing import (
    KEY_COLUMNS,
    address_holders,
    address_key_of,
    address_suppress,
    address_suppressed,
    address_unsuppress,
)
from base.audit import audit_record

from .models import Channel, Message
from .suppressed import messages_skip_suppressed
from .transactional import SendRefused, message_send_now

logger = logging.getLogger(__name__)

STOP, START, HELP = "stop", "start", "help"
START_WORDS = ("START", "UNSTOP", "SUBSCRIBE")
HELP_WORDS = ("HELP", "INFO")
# The entries a START may take back: those the contact's own word or the
# provider's report made, not an operator's decision.
TAKEN_BACK_BY_START = (Suppression.Reason.STOP, Suppression.Reason.PROVIDER)


def _word(text: str) -> str:
    return re.sub(r"[^A-Za-z]", "", text).upper()


def _listed(given: str, default: "tuple[str, ...] | list[str]") -> list[str]:
    words = [_word(part) for part in given.split(",")]
    return [word for word in words if word] or list(default)


def channel_keywords(channel: Channel) -> dict[str, list[str]]:
    """The channel's keywords, by what they do, defaults filled in."""
    return {
        STOP: _listed(channel.stop_keywords, settings.MESSAGING_STOP_KEYWORDS),
        START: _listed(channel.start_keywords, START_WORDS),
        HELP: _listed(channel.help_keywords, HELP_WORDS),
    }


def keyword_of(channel: Channel, text: str) -> str:
    """Which of the channel's keywords ``text`` is: "stop", "start", "help" or ""."""
    word = _word(text)
    if not word:
        return ""
    for meaning, words in channel_keywords(channel).items():
        if word in words:
            return meaning
    return ""


def help_text(channel: Channel) -> str:
    """The channel's answer to HELP, or one saying how to stop and start again."""
    if channel.help_text.strip():
        return channel.help_text.strip()
    words = channel_keywords(channel)
    stop = "STOP" if "STOP" in words[STOP] else words[STOP][0]
    start = "START" if "START" in words[START] else words[START][0]
    return (
        f"{channel.name}: messages from us. Reply {stop} to stop, {start} to start "
        "again."
    )


def reply_stop(*, channel: Channel, address: str, source: str) -> int:
    """Put ``address`` on the suppression list for the kind of address the channel
    reaches (a phone: SMS, WhatsApp and console stop, email goes on), and skip
    what waits for it; return how many waiting messages were skipped. Channels
    that reach no address (webhooks) are the caller's: they opt the contact out."""
    kind = channel.address_kind
    key = address_key_of(kind, address)
    if not key:
        return 0
    with transaction.atomic():
        phone = address.strip() if kind == Suppression.Address.PHONE else ""
        holders = list(address_holders(kind, key, phone))
        skipped = messages_skip_suppressed(kind, holders)
        address_suppress(kind=kind, address=address, reason="stop", source=source)
    logger.info(
        "%s suppressed (%s); %d waiting messages skipped", kind, source, skipped
    )
    return skipped


def reply_start(
    *, channel: Channel, address: str, contact: Contact | None, source: str
) -> bool:
    """Take back what a STOP from ``address`` did (see the module); whether
    anything was taken back."""
    kind = channel.address_kind
    taken = False
    entry = address_suppressed(kind, address) if kind in KEY_COLUMNS else None
    if entry is not None and entry.reason in TAKEN_BACK_BY_START:
        taken = address_unsuppress(kind=kind, address=address, source=source)
    elif entry is not None:
        note = (
            f"{source}: not taken off the suppression list, which has it for "
            f"{entry.get_reason_display().lower()}; only an operator may remove it"
        )
        audit_record(action="refused", target=entry, note=note[:200])
        logger.warning("%s %s", entry, note)
    if (
        contact is not None
        and contact.opted_out_at is not None
        and contact.opt_out_source.startswith("replied")
    ):
        taken = contact_mark_opted_in(contact=contact, source=source) or taken
    return taken


def reply_help(
    *, channel: Channel, contact: Contact | None, now: dt.datetime
) -> Message | None:
    """Answer HELP with the channel's help text, through the transactional send
    path; None when it cannot be sent (an unknown number, an opted-out contact, a
    disabled channel: logged)."""
    if contact is None:
        logger.info(
            "HELP on %s from a number that is no contact: not answered", channel
        )
        return None
    try:
        return message_send_now(
            contact=contact,
            channel=channel,
            body=help_text(channel),
            label="Answer to HELP",
            now=now,
        )
    except SendRefused as exc:
        logger.info(
            "HELP on %s from contact %s not answered: %s", channel, contact.pk, exc
        )
        return None
