"""One Redis client per URL in a process, for what messaging keeps in Redis (the
channel gate, opt-out news, hook ids seen): a redis-py client is thread-safe and
pools its connections, so one serves every thread."""

import threading
from typing import Any

_lock = threading.Lock()
_clients: dict[str, Any] = {}


def redis_client(url: str) -> Any:
    """The process's client for ``url``, made on first use."""
    with _lock:
        if url not in _clients:
            import redis

            # Pinged before use after 10 s idle: a server that dropped idle
            # clients (its "timeout") costs a reconnect, not an error.
            _clients[url] = redis.Redis.from_url(url, health_check_interval=10)
        return _clients[url]
