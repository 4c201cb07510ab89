"""Handing rendered messages to their backends: one at a time in the calling thread,
or, for backends that can take several at once (HTTP providers, SMTP), many in flight
from a pool of threads, under each channel's in-flight cap, rate and pauses.

The threads only wait and talk to the provider; everything the database records
(sent, failed, retried, put back) is written by the thread that claimed the
messages, from the outcomes handed back here.

A provider that asks to be left alone (429, 503 with Retry-After) pauses its channel
for every worker; the message waits and is tried again, without spending one of its
attempts, or, for a long pause, is put back until then. A provider that stops
answering (several time-outs in a row) pauses its channel for the HTTP time-out, and
the rest of the chunk's messages for it are put back rather than each waiting out its
own time-out.
"""

import asyncio
import time
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from contextlib import nullcontext
from dataclasses import dataclass
from queue import SimpleQueue

from django.conf import settings

from base.loop import submit

from .backends import BaseBackend, DeliveryError, Receipt, get_backend
from .backends.http import HTTPBackend
from .gate import NotNow, channel_pause, gate, max_in_flight
from .gate_loop import channel_pause_async, gate_async
from .models import Message
from .optouts import opting_out, opting_out_async

# A message refused as "busy" this many times in a row is put back.
BUSY_TRIES = 20
# Time-outs in a row after which a channel's provider counts as hanging.
HANGING_AFTER = 3
# HTTP messages handed to the sending loop together, at most.
HAND_OVER_TOGETHER = 16


@dataclass
class Outcome:
    """What became of one hand-over: a receipt, a provider's refusal, an unexpected
    error; or nothing sent: the contact is opting out, or the message is to be put
    back for ``later`` seconds (0: for a fresh task now), its attempt not spent."""

    message: Message
    receipt: Receipt | None = None
    error: DeliveryError | None = None
    crash: Exception | None = None
    later: float | None = None
    opted_out: bool = False


def _refused(message: Message, exc: Exception) -> "Outcome | float":
    """What a send that raised ``exc`` came to, or the seconds its busy provider
    asked the channel to pause before it is tried again."""
    if isinstance(exc, NotNow):
        return Outcome(message, later=exc.later)
    if isinstance(exc, DeliveryError):
        if exc.retry_after is None:
            return Outcome(message, error=exc)
        return exc.retry_after
    return Outcome(message, crash=exc)  # a bug or an unexpected answer: retried


def hand_over(message: Message, backend: BaseBackend, deadline: float) -> Outcome:
    """Send ``message`` through ``backend`` in this thread, through its channel's
    gate; never raises. A backend sending one message at a time per process
    (``concurrent`` False) needs no in-flight slot, and, as no provider of its asks
    for pauses, no gate at all unless its channel has a rate."""
    channel = message.channel
    gated = backend.concurrent or bool(channel.rate_per_second)
    busy = 0.0
    for _ in range(BUSY_TRIES):
        try:
            with (
                gate(channel, deadline=deadline, slot=backend.concurrent)
                if gated
                else nullcontext()
            ):
                # The last look before the provider: a STOP committed by now wins.
                if opting_out(message.contact_id, message.channel.address_kind):
                    return Outcome(message, opted_out=True)
                return Outcome(message, receipt=backend.send(message))
        except Exception as exc:
            found = _refused(message, exc)
            if isinstance(found, Outcome):
                return found
            busy = found
            channel_pause(channel, busy)
    return Outcome(message, later=busy)


async def hand_over_async(
    message: Message, backend: HTTPBackend, deadline: float
) -> Outcome:
    """hand_over, on the sending loop, for HTTP backends."""
    channel = message.channel
    busy = 0.0
    for _ in range(BUSY_TRIES):
        try:
            async with gate_async(channel, deadline=deadline):
                # The last look before the provider: a STOP committed by now wins.
                if await opting_out_async(
                    message.contact_id, message.channel.address_kind
                ):
                    return Outcome(message, opted_out=True)
                return Outcome(message, receipt=await backend.send_async(message))
        except Exception as exc:
            found = _refused(message, exc)
            if isinstance(found, Outcome):
                return found
            busy = found
            await channel_pause_async(channel, busy)
    return Outcome(message, later=busy)


async def _start_all(
    messages: list[tuple[Message, HTTPBackend]],
    deadline: float,
    landed: Callable[[Outcome], None],
) -> None:
    """Start sending ``messages`` on the sending loop; each outcome to ``landed``."""
    for message, backend in messages:
        task = asyncio.get_running_loop().create_task(
            hand_over_async(message, backend, deadline)
        )
        _running.add(task)
        task.add_done_callback(_running.discard)
        task.add_done_callback(lambda done: landed(done.result()))


# The sends under way on the loop (the loop itself keeps only weak references).
_running: set["asyncio.Task[Outcome]"] = set()


class Courier:
    """Hands a chunk's messages over, keeping up to MESSAGING_WORKER_IN_FLIGHT of
    them in flight at once: HTTP providers' on the process's sending loop, other
    backends that allow it (SMTP) from a pool of threads, the rest one at a time
    here. Outcomes come back in the order they finish, from ``send``, ``finished``
    and ``finish``."""

    def __init__(self, *, deadline: float) -> None:
        self.deadline = deadline
        self.width = settings.MESSAGING_WORKER_IN_FLIGHT
        self.pool: ThreadPoolExecutor | None = None
        self.done: SimpleQueue[Outcome] = SimpleQueue()
        # HTTP messages not yet handed to the sending loop: handed over together,
        # one wake-up of the loop for several of them.
        self.waiting: list[tuple[Message, HTTPBackend]] = []
        # Each channel's messages in flight from here: never more than its cap.
        self.in_flight: Counter[int] = Counter()
        # Channels whose messages are put back unsent until (monotonic) then.
        self.held: dict[int, float] = {}
        self.timeouts: dict[int, int] = {}

    def send(self, message: Message) -> list[Outcome]:
        """Hand ``message`` over; return the outcomes that are in by now (this one's
        too when it was not sent from elsewhere)."""
        until = self.held.get(message.channel_id)
        if until is not None:
            later = until - time.monotonic()
            if later > 0:
                return [Outcome(message, later=later), *self.finished()]
            del self.held[message.channel_id]
        backend = get_backend(message.channel.kind)
        if not backend.concurrent or self.width <= 1:
            outcomes = self.finish() if self.in_flight else []
            outcomes.append(self._watched(hand_over(message, backend, self.deadline)))
            return outcomes
        done: list[Outcome] = []
        cap = min(self.width, max_in_flight(message.channel))
        while (
            self.in_flight.total() >= self.width
            or self.in_flight[message.channel_id] >= cap
        ):
            done += self._collect(block=True)
        self.in_flight[message.channel_id] += 1
        if isinstance(backend, HTTPBackend):
            self.waiting.append((message, backend))
            if len(self.waiting) >= HAND_OVER_TOGETHER:
                self._hand_waiting()
        else:
            if self.pool is None:
                self.pool = ThreadPoolExecutor(
                    self.width, thread_name_prefix="flowcast-send"
                )
            future = self.pool.submit(hand_over, message, backend, self.deadline)
            future.add_done_callback(lambda landed: self.done.put(landed.result()))
        done += self._collect(block=False)
        if not done and len(self.waiting) == self.in_flight.total():
            self._hand_waiting()  # nothing else in flight: do not keep it waiting
        return done

    def _hand_waiting(self) -> None:
        if self.waiting:
            waiting, self.waiting = self.waiting, []
            submit(_start_all(waiting, self.deadline, self.done.put))

    def finished(self) -> list[Outcome]:
        """The outcomes in by now, without waiting."""
        return self._collect(block=False)

    def finish(self) -> list[Outcome]:
        """Wait for every message in flight; their outcomes."""
        outcomes: list[Outcome] = []
        while self.in_flight.total():
            outcomes += self._collect(block=True)
        return outcomes

    def close(self) -> list[Outcome]:
        outcomes = self.finish()
        if self.pool is not None:
            self.pool.shutdown(wait=True)
            self.pool = None
        return outcomes

    def _collect(self, *, block: bool) -> list[Outcome]:
        outcomes: list[Outcome] = []
        if block and self.in_flight.total():
            self._hand_waiting()
            outcomes.append(self._landed(self.done.get()))
        while not self.done.empty():
            outcomes.append(self._landed(self.done.get()))
        return outcomes

    def _landed(self, outcome: Outcome) -> Outcome:
        channel_id = outcome.message.channel_id
        self.in_flight[channel_id] -= 1
        if not self.in_flight[channel_id]:
            del self.in_flight[channel_id]  # an empty Counter: nothing in flight
        return self._watched(outcome)

    def _watched(self, outcome: Outcome) -> Outcome:
        """Count the channel's time-outs in a row; a hanging provider pauses its
        channel for everyone and holds the rest of this chunk's messages for it."""
        channel = outcome.message.channel
        if outcome.error is not None and outcome.error.timed_out:
            count = self.timeouts.get(channel.pk, 0) + 1
            self.timeouts[channel.pk] = count
            if count >= HANGING_AFTER and channel.pk not in self.held:
                pause = settings.MESSAGING_HTTP_TIMEOUT
                channel_pause(channel, pause)
                self.held[channel.pk] = time.monotonic() + pause
        elif outcome.receipt is not None:
            self.timeouts.pop(channel.pk, None)
        return outcome
