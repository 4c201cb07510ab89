"""Opt-outs seen just before each send: a STOP that commits while a worker holds the
contact's message stops that message.

As an opt-out is written (audiences.consent tells us, before it commits), its
contact's id is published on a Redis channel. Every process that sends listens from
before it claims anything, in a thread of its own, and keeps the ids it heard: the
look just before each send is a set lookup, no round trip. Opt-outs committed before
a claim are read from the contact rows by the claim itself. A contact heard of whose
opt-out did not commit (rolled back) is not skipped: its message is handed on and
sent. Without Redis (the embedded broker), each send reads the contact row.
"""

import asyncio
import logging
import os
import threading
import time

from django.conf import settings
from django.db.models import Exists, OuterRef, Q

from audiences.models import Contact, Suppression
from audiences.suppressing import KEY_COLUMNS

from .shared_redis import redis_client

logger = logging.getLogger(__name__)

CHANNEL = "flowcast:opt-outs"
# How long an id heard is kept: longer than any claim taken before it (its lease).
KEEP_SECONDS = 3600.0


class _Listener:
    """This process's subscription to opt-outs, and the contacts it heard of."""

    def __init__(self, url: str) -> None:
        import redis

        self.client = redis.Redis.from_url(url)
        self.heard: dict[int, float] = {}
        self.ready = threading.Event()
        self.thread = threading.Thread(
            target=self.listen, name="flowcast-opt-outs", daemon=True
        )
        self.thread.start()
        # Claims wait for the subscription: what commits after it is heard.
        self.ready.wait(5)

    def listen(self) -> None:
        while True:
            try:
                pubsub = self.client.pubsub(ignore_subscribe_messages=True)
                pubsub.subscribe(CHANNEL)
                self.ready.set()
                for item in pubsub.listen():
                    self.hear(item.get("data"))
            except Exception:  # Redis restarted: listen again once it is back
                logger.warning("opt-out listener lost Redis; listening again")
                time.sleep(1)

    def hear(self, data: object) -> None:
        try:
            contact_id = int(data)  # type: ignore[call-overload]
        except (TypeError, ValueError):
            return
        now = time.monotonic()
        self.heard[contact_id] = now
        if len(self.heard) > 10_000:
            old = [c for c, at in self.heard.items() if now - at > KEEP_SECONDS]
            for stale in old:
                del self.heard[stale]


_lock = threading.Lock()
# By Redis URL, in this process: a forked process starts its own (the listening
# thread stays behind in the parent).
_listeners: dict[str, _Listener] = {}
os.register_at_fork(after_in_child=_listeners.clear)


def opt_outs_listen() -> None:
    """Start hearing opt-outs in this process (once): called before claiming."""
    url = settings.MESSAGING_REDIS_URL
    if url and url not in _listeners:
        with _lock:
            if url not in _listeners:
                _listeners[url] = _Listener(url)


def opt_out_note(contact_id: int) -> None:
    """Tell every sending process that the contact is opting out."""
    url = settings.MESSAGING_REDIS_URL
    if not url:
        return
    try:
        redis_client(url).publish(CHANNEL, contact_id)
    except Exception:  # the opt-out itself must not fail; claims still read it
        logger.exception(
            "could not tell the workers of contact %s's opt-out", contact_id
        )


def opting_out(contact_id: int, address_kind: str = "") -> bool:
    """Whether the contact opted out (or is opting out), or one of its addresses
    was suppressed, since this process began listening; asked just before each
    send. Without Redis, read now: the opt-out, or the suppression of the contact's
    ``address_kind`` address (the one the message's channel reaches)."""
    listener = _listeners.get(settings.MESSAGING_REDIS_URL)
    if listener is None:
        stopped = Q(opted_out_at__isnull=False)
        column = KEY_COLUMNS.get(address_kind)
        if column:
            listed = Suppression.objects.filter(
                address_kind=address_kind, key=OuterRef(column)
            )
            stopped |= Q(Exists(listed))
        return Contact.objects.filter(stopped, pk=contact_id).exists()
    return contact_id in listener.heard


async def opting_out_async(contact_id: int, address_kind: str = "") -> bool:
    """opting_out, on the sending loop (a thread of its own reads the row without
    Redis)."""
    if settings.MESSAGING_REDIS_URL in _listeners:
        return opting_out(contact_id)
    return await asyncio.to_thread(opting_out, contact_id, address_kind)


def opt_out_forget(contact_ids: list[int]) -> None:
    """Forget contacts heard of whose opt-out never committed (rolled back)."""
    listener = _listeners.get(settings.MESSAGING_REDIS_URL)
    if listener is not None:
        for contact_id in contact_ids:
            listener.heard.pop(contact_id, None)
