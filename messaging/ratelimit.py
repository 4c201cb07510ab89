"""Per-channel rate limits, shared by every worker.

Each send takes the next free slot of its channel: slots are 1/rate seconds apart, kept
in Redis (GCRA), so N workers together never exceed the rate, and a backlog released at
once (a sending window opening) goes out at the rate, not in a burst. Without Redis
(the embedded broker), the slots are kept in this process only.
"""

import threading
import time
from typing import TYPE_CHECKING

from django.conf import settings

if TYPE_CHECKING:
    from .models import Channel

# Reserve the next slot; return how many microseconds to wait for it.
_RESERVE = """
local interval = tonumber(ARGV[1])
local clock = redis.call('TIME')
local now = tonumber(clock[1]) * 1000000 + tonumber(clock[2])
local tat = tonumber(redis.call('GET', KEYS[1]) or now)
if tat < now then tat = now end
local ttl = math.ceil((tat + interval - now) / 1000) + 1000
redis.call('SET', KEYS[1], tat + interval, 'PX', ttl)
return tat - now
"""

_lock = threading.Lock()
_local_slots: dict[int, float] = {}
_scripts: dict[str, object] = {}


def _redis_script() -> object | None:
    url = settings.MESSAGING_REDIS_URL
    if not url:
        return None
    if url not in _scripts:
        import redis

        _scripts[url] = redis.Redis.from_url(url).register_script(_RESERVE)
    return _scripts[url]


def rate_limit_wait(channel: "Channel") -> float:
    """Seconds to wait before sending the next message on ``channel``."""
    rate = channel.rate_per_second
    if not rate:
        return 0.0
    interval = 1.0 / rate
    script = _redis_script()
    if script is not None:
        waited = script(
            keys=[f"flowcast:rate:{channel.pk}"], args=[round(interval * 1e6)]
        )  # type: ignore[operator]
        return max(int(waited), 0) / 1e6
    with _lock:
        now = time.monotonic()
        slot = max(_local_slots.get(channel.pk, now), now)
        _local_slots[channel.pk] = slot + interval
        return slot - now
