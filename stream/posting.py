"""Posting events to an endpoint: signed as Standard Webhooks says, many in flight
on the process's sending loop (base.loop) with keep-alive connections, each
contact's chain one post after the other, and what each answer says of the
endpoint (up, refusing one event, or down).

A 2xx answer delivers. Anything else fails the post: a redirect (not followed), a
4xx, a 5xx, no answer within STREAM_HTTP_TIMEOUT, no connection. Of those, no
connection, a time-out, 408, 429 and 5xx say the endpoint may be down, and a 429 or
503 may say for how long (Retry-After). No post reaches inside (base.outbound:
every connection's addresses are checked as it is opened).
"""

import asyncio
import atexit
import contextlib
import datetime as dt
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from email.utils import parsedate_to_datetime

import aiohttp
from django.conf import settings

from base.outbound import OutboundRefused, OutboundResolver
from base.signing import signed_headers

# Answers in a row that say the endpoint is down (no answer, 5xx, 429), after which
# it is paused; a batch with no other answer pauses it too. Ten: one whose posts
# fail now and then (a 503 in ten) is not down, one that stopped answering fails
# every post in flight at once.
DOWN_AFTER = 10
LONGEST_RETRY_AFTER = 3600.0
EXCERPT_CHARS = 500
READ_BYTES = 4096


_sessions: dict[asyncio.AbstractEventLoop, aiohttp.ClientSession] = {}


@dataclass(frozen=True)
class Due:
    delivery_id: int
    event_id: int
    contact_key: int | None
    attempts: int
    created_at: dt.datetime


@dataclass
class Result:
    due: Due
    at: dt.datetime
    duration_ms: int = 0
    status: int | None = None
    excerpt: str = ""
    error: str = ""
    # The endpoint looks down: no answer, or 5xx / 408 / 429.
    down: bool = False
    retry_after: float | None = None

    @property
    def ok(self) -> bool:
        return self.status is not None and 200 <= self.status < 300


def session() -> aiohttp.ClientSession:
    """The sending loop's session for endpoints: keep-alive connections, every
    name checked where it resolves (base.outbound.OutboundResolver)."""
    loop = asyncio.get_running_loop()
    found = _sessions.get(loop)
    if found is None or found.closed:
        found = aiohttp.ClientSession(
            connector=aiohttp.TCPConnector(
                limit=max(settings.STREAM_MAX_IN_FLIGHT, 1) * 2,
                limit_per_host=0,
                keepalive_timeout=30,
                resolver=OutboundResolver(),
            ),
            headers={"User-Agent": "Flowcast event stream"},
        )
        _sessions[loop] = found
        atexit.register(_close_at_exit, loop, found)
    return found


def _close_at_exit(
    loop: asyncio.AbstractEventLoop, found: aiohttp.ClientSession
) -> None:
    """Say goodbye to the endpoints' connections as the process ends."""
    if loop.is_running() and not found.closed:
        with contextlib.suppress(Exception):
            asyncio.run_coroutine_threadsafe(found.close(), loop).result(2)


async def post_chains(
    url: str,
    chains: list[list[Due]],
    bodies: dict[int, bytes],
    secrets: list[str],
    *,
    deadline: float,
    probing: bool,
    clock: Callable[[], dt.datetime],
) -> tuple[list[Result], bool]:
    """Post each chain's deliveries in order, the chains side by side, at most
    STREAM_MAX_IN_FLIGHT at once. A chain stops at its first failure (its contact's
    later events wait for it). Once the endpoint looks down (DOWN_AFTER such
    answers in a row, a single one while ``probing``, or a Retry-After) nothing
    more is posted. While ``probing`` one post goes alone first. Return the
    results, and whether the endpoint looks down (it stopped the posts, or answered
    nothing else)."""
    results: list[Result] = []
    limit = asyncio.Semaphore(max(settings.STREAM_MAX_IN_FLIGHT, 1))
    state = {"down_in_row": 0, "stop": False}
    threshold = 1 if probing else DOWN_AFTER

    async def run(chain: list[Due]) -> None:
        for due in chain:
            if state["stop"] or time.monotonic() > deadline:
                return
            async with limit:
                if state["stop"]:
                    return
                result = await _post(url, due, bodies.get(due.event_id), secrets, clock)
            results.append(result)
            if result.ok:
                state["down_in_row"] = 0
                continue
            if result.down:
                state["down_in_row"] += 1
                if state["down_in_row"] >= threshold or result.retry_after is not None:
                    state["stop"] = True
            else:
                state["down_in_row"] = 0
            return

    if probing:
        first, rest = chains[0], chains[1:]
        await run(first[:1])
        if state["stop"]:
            return results, True
        if not results:  # out of time before the probe
            return results, False
        threshold = DOWN_AFTER
        chains = [first[1:], *rest] if results[-1].ok else rest
    await asyncio.gather(*(run(chain) for chain in chains if chain))
    down = bool(state["stop"]) or (
        bool(results) and all(result.down for result in results)
    )
    return results, down


async def _post(
    url: str,
    due: Due,
    body: bytes | None,
    secrets: list[str],
    clock: Callable[[], dt.datetime],
) -> Result:
    at = clock()
    result = Result(due, at)
    if body is None:  # its event is gone (deleted with its contact's data)
        result.status = 204
        result.excerpt = "(the event no longer exists; not posted)"
        return result
    headers = {
        "Content-Type": "application/json",
        **signed_headers(secrets, f"evt_{due.event_id}", int(time.time()), body),
    }
    started = time.monotonic()
    try:
        async with session().post(
            url,
            data=body,
            headers=headers,
            timeout=aiohttp.ClientTimeout(total=settings.STREAM_HTTP_TIMEOUT),
            allow_redirects=False,  # each hop would need its own check
        ) as response:
            result.status = response.status
            text = (await response.content.read(READ_BYTES)).decode(errors="replace")
            result.excerpt = text.strip()[:EXCERPT_CHARS]
            if not result.ok:
                result.error = _refusal(response.status, response.reason or "")
                result.down = response.status in (408, 429) or response.status >= 500
                if response.status in (429, 503):
                    result.retry_after = _retry_after(response.headers, response.status)
    except OutboundRefused as exc:
        result.error, result.down = f"The endpoint's URL is refused: {exc}", True
    except TimeoutError:
        seconds = settings.STREAM_HTTP_TIMEOUT
        result.error = f"No answer within {seconds:g} s (STREAM_HTTP_TIMEOUT)."
        result.down = True
    except (aiohttp.ClientError, OSError, ValueError) as exc:
        result.error = f"Could not be reached: {exc}"[:1000]
        result.down = True
    result.duration_ms = int((time.monotonic() - started) * 1000)
    return result


def _refusal(status: int, reason: str) -> str:
    said = f"Answered HTTP {status} {reason}".rstrip()
    if 300 <= status < 400:
        said += " (redirects are not followed: give the final URL)"
    return said


def _retry_after(headers: Mapping[str, str], status: int) -> float | None:
    """Seconds the endpoint asks to be left alone (Retry-After: seconds or an HTTP
    date; a second for a 429 naming none); None if it did not ask."""
    value = (headers.get("Retry-After") or "").strip()
    seconds: float | None = None
    if value:
        try:
            seconds = float(value)
        except ValueError:
            try:
                when = parsedate_to_datetime(value)
            except (TypeError, ValueError):
                when = None
            if when is not None:
                if when.tzinfo is None:
                    when = when.replace(tzinfo=dt.UTC)
                seconds = (when - dt.datetime.now(dt.UTC)).total_seconds()
    if seconds is None and status == 429:
        seconds = 1.0
    if seconds is None:
        return None
    return min(max(seconds, 0.0), LONGEST_RETRY_AFTER)
