"""Hook ids already received: a signed hook sent again (a replay) is refused.

A ``webhook-id`` is remembered per channel for twice the signature's tolerance (a
hook may be stamped up to 5 minutes ahead and still be taken 5 minutes late). With
Redis (MESSAGING_REDIS_URL) every web process shares what it saw, by SET NX with a
time to live; without it (the embedded broker: one web process) each process keeps
its own.
"""

import logging
import threading
import time

from django.conf import settings

from base.signing import TOLERANCE_SECONDS

from .shared_redis import redis_client

logger = logging.getLogger(__name__)
REMEMBER_SECONDS = 2 * TOLERANCE_SECONDS

_lock = threading.Lock()
_seen: dict[tuple[int, str], float] = {}


def _first_here(channel_id: int, hook_id: str) -> bool:
    now = time.monotonic()
    with _lock:
        if len(_seen) > 10_000:
            for key in [k for k, until in _seen.items() if until < now]:
                del _seen[key]
        until = _seen.get((channel_id, hook_id))
        if until is not None and until >= now:
            return False
        _seen[(channel_id, hook_id)] = now + REMEMBER_SECONDS
        return True


def hook_first_seen(channel_id: int, hook_id: str) -> bool:
    """Note the hook id as received on the channel; False if it was already, within
    REMEMBER_SECONDS."""
    url = settings.MESSAGING_REDIS_URL
    if url:
        key = f"flowcast:hook:{channel_id}:{hook_id}"
        try:
            return bool(redis_client(url).set(key, 1, nx=True, ex=REMEMBER_SECONDS))
        except Exception:  # Redis away: this process's memory still refuses most
            logger.warning("hook ids checked in this process only: Redis is away")
    return _first_here(channel_id, hook_id)


def hook_forget(channel_id: int, hook_id: str) -> None:
    """Forget the hook id: the hook was not taken (refused as unclear, or failed on
    our side), so the sender may send it again."""
    url = settings.MESSAGING_REDIS_URL
    if url:
        try:
            redis_client(url).delete(f"flowcast:hook:{channel_id}:{hook_id}")
        except Exception:
            logger.warning("hook id not forgotten: Redis is away")
    with _lock:
        _seen.pop((channel_id, hook_id), None)
