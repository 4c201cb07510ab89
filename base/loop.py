"""The process's event loop for HTTP sends: one thread of its own, started on first
use in each process (a forked worker starts its own), where every request a worker
keeps in flight waits together, on pools of keep-alive connections (messaging's
providers, the event stream's endpoints).

asyncio and aiohttp, not a thread per request: measured on this project's delivery
benchmark peer, aiohttp costs about 0.15-0.3 ms of CPU a request, threads with httpx
about 1.1 ms and httpx's async client about 4 ms, and a worker's CPU is what caps
its rate once the provider's latency is hidden.
"""

import asyncio
import os
import threading
from collections.abc import Coroutine
from concurrent.futures import Future
from typing import Any, TypeVar

T = TypeVar("T")

_lock = threading.Lock()
_loops: dict[int, asyncio.AbstractEventLoop] = {}


def send_loop() -> asyncio.AbstractEventLoop:
    """This process's sending loop, running in its own daemon thread."""
    pid = os.getpid()
    found = _loops.get(pid)
    if found is not None:
        return found
    with _lock:
        if pid not in _loops:
            loop = asyncio.new_event_loop()
            started = threading.Event()

            def run() -> None:
                asyncio.set_event_loop(loop)
                loop.call_soon(started.set)
                loop.run_forever()

            threading.Thread(target=run, name="flowcast-send-loop", daemon=True).start()
            started.wait()
            _loops[pid] = loop
    return _loops[pid]


def submit(coroutine: Coroutine[Any, Any, T]) -> "Future[T]":
    """Run ``coroutine`` on the sending loop; its future."""
    return asyncio.run_coroutine_threadsafe(coroutine, send_loop())


def wait_for(coroutine: Coroutine[Any, Any, T]) -> T:
    """Run ``coroutine`` on the sending loop and wait for its result."""
    return submit(coroutine).result()
