"""A channel's gate, shared by every worker: its rate, the pauses its provider asks
for, and its cap on requests in flight. One Redis round trip lets a send through.

- Rate: each send takes the channel's next free moment; moments are 1/rate seconds
  apart (GCRA), so N workers together never exceed the rate, and a backlog released
  at once (a window opening) goes out at the rate, not in a burst.
- Pauses: a provider answering "busy" (429, 503 with Retry-After) pushes the
  channel's next moment past the time it asked for: every worker waits, not only the
  one that was told. A pause longer than WAIT_OUT_PAUSE is not waited out: the
  message is put back until then (NotNow).
- In flight: at most the channel's ``max_in_flight`` sends at once across workers, as
  a sorted set of who holds a slot until when; a holder that dies (a killed worker)
  loses its slot within twice the HTTP time-out and two seconds, and nobody has to
  give it back. A slot given back on the sending loop goes straight to a send of the
  loop waiting for one, or back to Redis with the next call (or within a few
  milliseconds), not one call each.

Without Redis (the embedded broker), the same is kept in this process alone. This
module lets sends through from a thread; messaging.gate_loop from the sending loop.
"""

import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from django.conf import settings

from .shared_redis import redis_client

if TYPE_CHECKING:
    from .models import Channel

# A pause the provider asked for that is at most this long is waited out; a longer
# one puts the message back until then.
WAIT_OUT_PAUSE = 5.0

# KEYS[1]: the channel's next moment (µs since the epoch, "p" after it while a pause
# set it); KEYS[2]: its slots. ARGV: interval (µs, 0: no rate), reserve (1: take the
# next moment; 0: only wait out a pause), cap (0: no slot needed; -1: only give
# back), hold (ms), holder, then holders giving their slots back.
# Returns {µs to wait, 1 if a pause set that wait, 1 if a slot is held now}.
GATE_SCRIPT = """
local interval, reserve = tonumber(ARGV[1]), tonumber(ARGV[2])
local cap, hold = tonumber(ARGV[3]), tonumber(ARGV[4])
if #ARGV > 5 then redis.call('ZREM', KEYS[2], unpack(ARGV, 6)) end
if cap < 0 then return {0, 0, 0} end
local clock = redis.call('TIME')
local now = tonumber(clock[1]) * 1000000 + tonumber(clock[2])
local stored = redis.call('GET', KEYS[1])
local tat, paused = now, 0
if stored then
    tat = tonumber(string.match(stored, '^(%d+)')) or now
    if string.sub(stored, -1) == 'p' then paused = 1 end
end
if tat <= now then tat = now; paused = 0 end
local wait = 0
if reserve == 1 and interval > 0 then
    local mark = ''
    if paused == 1 then mark = 'p' end
    local ttl = math.ceil((tat + interval - now) / 1000) + 1000
    redis.call('SET', KEYS[1], string.format('%d', tat + interval) .. mark, 'PX', ttl)
    wait = tat - now
elseif paused == 1 then
    wait = tat - now
end
if wait > 0 then return {wait, paused, 0} end
if cap == 0 then return {0, 0, 1} end
local clock_ms = math.floor(now / 1000)
redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', clock_ms)
if redis.call('ZCARD', KEYS[2]) < cap then
    redis.call('ZADD', KEYS[2], clock_ms + hold, ARGV[5])
    redis.call('PEXPIRE', KEYS[2], hold)
    return {0, 0, 1}
end
return {0, 0, 0}
"""

# Push the channel's next moment to now + ARGV[1] µs, unless it is later already.
PAUSE_SCRIPT = """
local clock = redis.call('TIME')
local now = tonumber(clock[1]) * 1000000 + tonumber(clock[2])
local pause = tonumber(ARGV[1])
local stored = redis.call('GET', KEYS[1])
local tat = now
if stored then tat = tonumber(string.match(stored, '^(%d+)')) or now end
if now + pause > tat then
    local ends = string.format('%d', now + pause) .. 'p'
    redis.call('SET', KEYS[1], ends, 'PX', math.ceil(pause / 1000) + 1000)
end
return 1
"""


class NotNow(Exception):
    """The gate did not open: put the message back for ``later`` seconds (0: for a
    fresh task, now)."""

    def __init__(self, later: float) -> None:
        super().__init__(later)
        self.later = later


def max_in_flight(channel: "Channel") -> int:
    """The channel's cap on requests in flight (its setting, or the default)."""
    value = channel.settings.get("max_in_flight") if channel.settings else None
    try:
        cap = int(str(value)) if value not in (None, "") else 0
    except (TypeError, ValueError):
        cap = 0
    return cap if cap > 0 else settings.MESSAGING_MAX_IN_FLIGHT


def interval_us(channel: "Channel") -> int:
    rate = channel.rate_per_second
    return round(1e6 / rate) if rate else 0


def hold_ms() -> int:
    """How long a slot is held at most: two requests' time and two seconds, so a
    slot can be handed from one send to the next on a loop (while it has a whole
    request's time left) without asking Redis."""
    return round((2 * settings.MESSAGING_HTTP_TIMEOUT + 2) * 1000)


def gate_keys(channel: "Channel") -> list[str]:
    return [f"flowcast:rate:{channel.pk}", f"flowcast:inflight:{channel.pk}"]


# --- without Redis: the same rules, in this process ---------------------------

_lock = threading.Lock()
_moments: dict[int, tuple[float, bool]] = {}  # channel → (next moment, paused)
_slots: dict[int, dict[str, float]] = {}  # channel → holder → held until


def local_gate(
    channel: "Channel", args: list[Any], released: list[str]
) -> tuple[float, bool, bool]:
    interval, reserve, cap, hold = (
        args[0] / 1e6,
        args[1],
        args[2],
        args[3] / 1000,
    )
    with _lock:
        slots = _slots.setdefault(channel.pk, {})
        for holder in released:
            slots.pop(holder, None)
        if cap < 0:
            return 0.0, False, False
        now = time.monotonic()
        moment, paused = _moments.get(channel.pk, (now, False))
        if moment <= now:
            moment, paused = now, False
        wait = 0.0
        if reserve and interval:
            _moments[channel.pk] = (moment + interval, paused)
            wait = moment - now
        elif paused:
            wait = moment - now
        if wait > 0:
            return wait, paused, False
        if cap == 0:
            return 0.0, False, True
        for holder, until in list(slots.items()):
            if until <= now:
                del slots[holder]
        if len(slots) < cap:
            slots[args[4]] = now + hold
            return 0.0, False, True
        return 0.0, False, False


def local_pause(channel: "Channel", seconds: float) -> None:
    with _lock:
        now = time.monotonic()
        moment, _ = _moments.get(channel.pk, (now, False))
        if now + seconds > moment:
            _moments[channel.pk] = (now + seconds, True)


def local_gates_forget() -> None:
    """Forget what this process keeps of every channel's gate (its next moment, a
    pause its provider asked for, its slots): for tests, whose channels share ids
    once their rows are rolled back (SQLite)."""
    with _lock:
        _moments.clear()
        _slots.clear()


# --- with Redis -----------------------------------------------------------------

_clients: dict[Any, tuple[Any, Any, Any]] = {}


def _redis() -> tuple[Any, Any, Any] | None:
    """(client, gate script, pause script) for this thread's use, or None."""
    url = settings.MESSAGING_REDIS_URL
    if not url:
        return None
    with _lock:
        if url not in _clients:
            client = redis_client(url)
            _clients[url] = (
                client,
                client.register_script(GATE_SCRIPT),
                client.register_script(PAUSE_SCRIPT),
            )
    return _clients[url]


def gate_answer(found: list[Any]) -> tuple[float, bool, bool]:
    return max(int(found[0]), 0) / 1e6, bool(found[1]), bool(found[2])


# --- the gate ---------------------------------------------------------------------


def wait_or_not_now(wait: float, paused: bool, deadline: float) -> float:
    """How long to sleep before asking again, or NotNow."""
    if paused and wait > WAIT_OUT_PAUSE:
        raise NotNow(wait)
    if time.monotonic() + wait >= deadline:
        raise NotNow(0)
    return wait


@contextmanager
def gate(channel: "Channel", *, deadline: float, slot: bool = True) -> Iterator[None]:
    """Let one send on ``channel`` through, in this thread: wait for its moment (its
    rate, a pause) and, with ``slot``, hold one of its in-flight slots while the
    body runs. NotNow when it cannot open before ``deadline`` (time.monotonic()) or
    a long pause is on."""
    cap = max_in_flight(channel) if slot else 0
    holder = uuid.uuid4().hex
    args: list[Any] = [interval_us(channel), 1, cap, hold_ms(), holder]
    found = _redis()
    poll = 0.001
    while True:
        if found is None:
            wait, paused, taken = local_gate(channel, args, [])
        else:
            wait, paused, taken = gate_answer(
                found[1](keys=gate_keys(channel), args=args)
            )
        args[1] = 0  # the moment is reserved; later asks only wait out pauses
        if taken:
            break
        if wait > 0:
            time.sleep(wait_or_not_now(wait, paused, deadline))
            continue
        time.sleep(wait_or_not_now(poll, False, deadline))
        poll = min(poll * 2, 0.02)
    try:
        yield
    finally:
        if cap:
            give_back = [0, 0, -1, 0, "", holder]
            if found is None:
                local_gate(channel, give_back, [holder])
            else:
                found[1](keys=gate_keys(channel), args=give_back)


def channel_pause(channel: "Channel", seconds: float) -> None:
    """Send nothing on ``channel`` for ``seconds`` (its provider asked), from any
    worker."""
    found = _redis()
    if found is None:
        local_pause(channel, seconds)
    else:
        found[2](keys=gate_keys(channel)[:1], args=[max(round(seconds * 1e6), 1)])


def rate_limit_wait(channel: "Channel") -> float:
    """Reserve the channel's next moment; seconds to wait for it (no slot held)."""
    args: list[Any] = [interval_us(channel), 1, 0, 0, ""]
    found = _redis()
    if found is None:
        return local_gate(channel, args, [])[0]
    return gate_answer(found[1](keys=gate_keys(channel), args=args))[0]
