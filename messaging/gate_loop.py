"""A channel's gate (messaging.gate) on the process's sending loop: the same rules,
asked through redis.asyncio, with the loop's sends waiting for slots together.

A slot given back here goes straight to a send of the loop waiting for one while it
has a whole request's time left (no call to Redis), or back to Redis with the next
call (or within RELEASE_SECONDS). One waiter per channel asks Redis again and again
for slots given back by other workers; the others wait to be woken.
"""

import asyncio
import time
import uuid
from collections import deque
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING, Any

from django.conf import settings

from .gate import (
    GATE_SCRIPT,
    PAUSE_SCRIPT,
    gate_answer,
    gate_keys,
    hold_ms,
    interval_us,
    local_gate,
    local_pause,
    max_in_flight,
    wait_or_not_now,
)

if TYPE_CHECKING:
    from .models import Channel

# Connections to Redis of a process's sending loop.
REDIS_CONNECTIONS = 16
# How soon slots given back on the sending loop reach Redis at the latest.
RELEASE_SECONDS = 0.005

_clients: dict[tuple[str, asyncio.AbstractEventLoop], tuple[Any, Any, Any]] = {}
# Redis's own "timeout" closes clients idle this long; test servers use 30 s.
HEALTH_CHECK_SECONDS = 10


def _redis_async() -> tuple[Any, Any, Any] | None:
    """(client, gate script, pause script) on a redis.asyncio client of the running
    loop, or None without Redis."""
    url = settings.MESSAGING_REDIS_URL
    if not url:
        return None
    key = (url, asyncio.get_running_loop())
    if key not in _clients:
        import redis.asyncio
        import redis.exceptions
        from redis.asyncio.retry import Retry
        from redis.backoff import NoBackoff

        # Every send in flight may ask at once: they wait their turn for one of
        # the pool's connections rather than fail (the plain pool refuses past
        # its size).
        # A connection idle longer than HEALTH_CHECK_SECONDS is pinged before use:
        # a server (or a proxy) that dropped idle clients meanwhile costs a new
        # connection, not a failed send.
        client = redis.asyncio.Redis(
            connection_pool=redis.asyncio.BlockingConnectionPool.from_url(
                url,
                max_connections=REDIS_CONNECTIONS,
                timeout=30,
                health_check_interval=HEALTH_CHECK_SECONDS,
                # Once, on a new connection: a gate call that did reach Redis
                # before the connection broke holds a slot until it lapses.
                retry=Retry(NoBackoff(), 1),
                retry_on_error=[redis.exceptions.ConnectionError],
            )
        )
        _clients[key] = (
            client,
            client.register_script(GATE_SCRIPT),
            client.register_script(PAUSE_SCRIPT),
        )
    return _clients[key]


# What wakes a send waiting for a slot: a slot handed over (its holder's name and
# when it lapses, time.monotonic()), ASK (ask Redis: a slot was given back), or POLL
# (take the turn of asking Redis again and again).
ASK, POLL = "ask", "poll"
Handed = tuple[str, float]


class _Waiting:
    """The sends on the sending loop waiting for a slot, by channel. A slot given
    back here goes straight to the first of them, no call to Redis, while it has
    time left for a whole request; otherwise it goes back to Redis with the next
    call. One waiter per channel asks Redis again and again, for slots given back
    by other workers; the others wait to be woken, so a full channel costs one call
    per poll, not one per waiter."""

    def __init__(self) -> None:
        self.holders: dict[int, tuple[Channel, list[str]]] = {}
        self.waiters: dict[int, deque[asyncio.Future[Handed | str]]] = {}
        self.polling: set[int] = set()
        self.flush_due = False

    def wake_one(self, channel: "Channel", why: Handed | str) -> bool:
        waiting = self.waiters.get(channel.pk)
        while waiting:
            waiter = waiting.popleft()
            if not waiter.done():
                waiter.set_result(why)
                return True
        return False

    async def wait(self, channel: "Channel", timeout: float) -> Handed | str | None:
        """Wait until woken (why) or ``timeout`` seconds (None)."""
        waiter: asyncio.Future[Handed | str] = (
            asyncio.get_running_loop().create_future()
        )
        waiting = self.waiters.setdefault(channel.pk, deque())
        waiting.append(waiter)
        try:
            return await asyncio.wait_for(waiter, timeout)
        except TimeoutError:
            return None
        finally:
            if waiter in waiting:
                waiting.remove(waiter)

    def take(self, channel: "Channel") -> list[str]:
        found = self.holders.pop(channel.pk, None)
        return found[1] if found else []


_waiting: dict[asyncio.AbstractEventLoop, _Waiting] = {}


async def _flush(waiting: _Waiting) -> None:
    waiting.flush_due = False
    for channel, holders in list(waiting.holders.values()):
        waiting.take(channel)
        if holders:
            await _ask_async(channel, [0, 0, -1, 0, ""], holders)


async def _ask_async(
    channel: "Channel", args: list[Any], released: list[str]
) -> tuple[float, bool, bool]:
    found = _redis_async()
    if found is None:
        return local_gate(channel, args, released)
    return gate_answer(await found[1](keys=gate_keys(channel), args=[*args, *released]))


@asynccontextmanager
async def gate_async(channel: "Channel", *, deadline: float) -> AsyncIterator[None]:
    """gate, on the sending loop (always with a slot): waiting lets the loop's
    other sends go on."""
    loop = asyncio.get_running_loop()
    waiting = _waiting.setdefault(loop, _Waiting())
    holder = uuid.uuid4().hex
    args: list[Any] = [interval_us(channel), 1, max_in_flight(channel)]
    args += [hold_ms(), holder]
    lapses = 0.0
    poll, ask = 0.001, True
    while True:
        if ask:
            asked_at = time.monotonic()
            wait, paused, taken = await _ask_async(channel, args, waiting.take(channel))
            args[1] = 0
            if taken:
                lapses = asked_at + hold_ms() / 1000
                break
            if wait > 0:
                await asyncio.sleep(wait_or_not_now(wait, paused, deadline))
                continue
        ask = True
        if channel.pk in waiting.polling:
            why = await waiting.wait(channel, wait_or_not_now(1.0, False, deadline))
        else:
            waiting.polling.add(channel.pk)
            try:
                why = await waiting.wait(
                    channel, wait_or_not_now(poll, False, deadline)
                )
            finally:
                waiting.polling.discard(channel.pk)
            poll = min(poll * 2, 0.02) if why is None else 0.001
        if isinstance(why, tuple):
            holder, lapses = why
            break
        ask = why != POLL
    if waiting.waiters.get(channel.pk) and channel.pk not in waiting.polling:
        waiting.wake_one(channel, POLL)  # the next waiter takes the turn to poll
    try:
        yield
    finally:
        # Handed on while it outlasts a whole request; else back to Redis.
        if not (
            lapses - time.monotonic() > settings.MESSAGING_HTTP_TIMEOUT + 1
            and waiting.wake_one(channel, (holder, lapses))
        ):
            waiting.holders.setdefault(channel.pk, (channel, []))[1].append(holder)
            waiting.wake_one(channel, ASK)
            if not waiting.flush_due:
                waiting.flush_due = True
                loop.call_later(
                    RELEASE_SECONDS, lambda: loop.create_task(_flush(waiting))
                )


async def channel_pause_async(channel: "Channel", seconds: float) -> None:
    """channel_pause, on the sending loop."""
    found = _redis_async()
    if found is None:
        local_pause(channel, seconds)
    else:
        await found[2](keys=gate_keys(channel)[:1], args=[max(round(seconds * 1e6), 1)])
