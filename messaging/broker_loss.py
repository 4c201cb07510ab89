"""Noticing that the broker lost its queue, so the sweeper need not wait out the leases.

Queued messages carry a lease (stamped at fan-out, renewed when the sweeper queues them)
so that the sweeper leaves alone rows whose send task is still in the broker. A Redis
broker restarted without its data, restored from an older snapshot or failed over to
a replica has lost some of those tasks, and their rows would stand still until their
lease ran out (15 minutes by default).

The sweeper keeps a marker in the broker's own Redis (same server, database and key
prefix as the queue, so it shares the queue's fate) holding the server's run id, which
Redis draws afresh each time it starts. A marker that is missing or holds another run
id means the queue may have lost tasks since the last sweep: the sweeper then queues
every due message nobody holds, leased or not (claims make a second task for the same
range harmless), and marks the broker again. The filesystem broker keeps its queue on
disk and has no marker.
"""

from typing import Any

from celery import current_app
from kombu.transport.redis import Channel as RedisChannel

MARKER = "flowcast:broker-epoch"
# Kept when the server will not tell its run id (INFO disabled): only a missing marker
# (a restart without data, a flush) is noticed then.
_NO_RUN_ID = "run id unknown"


def _redis_client(conn: Any) -> Any | None:
    channel = conn.default_channel
    return channel.client if isinstance(channel, RedisChannel) else None


def _run_id(client: Any) -> str:
    import redis

    try:
        return str(client.info("server")["run_id"])
    except (redis.ResponseError, KeyError):
        return _NO_RUN_ID


def broker_epoch_changed() -> str | None:
    """The broker's present epoch if it may have lost queued tasks since it was last
    marked (restarted, flushed, failed over, or never marked); None if not, or if the
    broker is not Redis. Reads only; mark it with ``broker_epoch_mark`` once the lost
    tasks are queued again."""
    with current_app.connection_for_write() as conn:
        client = _redis_client(conn)
        if client is None:
            return None
        epoch = _run_id(client)
        marked = client.get(MARKER)
        if marked is not None and marked.decode() == epoch:
            return None
        return epoch


def broker_epoch_mark(epoch: str) -> bool:
    """Record that the tasks lost before ``epoch`` are queued again, unless the broker
    changed again meanwhile (then the next sweep queues them once more). Return whether
    it was recorded."""
    with current_app.connection_for_write() as conn:
        client = _redis_client(conn)
        if client is None or _run_id(client) != epoch:
            return False
        client.set(MARKER, epoch)
        return True
