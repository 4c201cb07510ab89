"""Redis servers (and proxies) drop clients idle past their "timeout" (the test
server's is 30 s): the next send must reconnect, not fail."""

import time
from typing import Any

import pytest
from django.test import override_settings

from base.loop import wait_for
from messaging import gate_loop
from messaging.shared_redis import redis_client


def test_a_connection_the_server_dropped_while_idle_is_replaced(
    broker_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(gate_loop, "HEALTH_CHECK_SECONDS", 0.2)
    monkeypatch.setattr(gate_loop, "_clients", {})

    async def ping() -> Any:
        found = gate_loop._redis_async()
        assert found is not None
        return await found[0].ping()

    with override_settings(MESSAGING_REDIS_URL=broker_url):
        assert wait_for(ping())
        # The server closes every other client, as its idle timeout would.
        redis_client(broker_url).client_kill_filter(_type="normal", skipme=True)
        time.sleep(0.4)
        assert wait_for(ping())
