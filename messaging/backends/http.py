"""What HTTP providers share: one pooled aiohttp session per process (on the sending
loop, base.loop), and how an answer maps to sent, retry later, wait
and try again (the provider is busy), or failed for good.

No request reaches inside (base.outbound): a URL whose host is written as an
internal address is refused before the request, a name on the addresses it resolves
to as the connection is opened (OutboundResolver: what is checked is what is
connected to), and redirects are not followed. Of a failing answer only the status
line and the provider's own error fields are kept, never the page."""

import asyncio
import atexit
import base64
import contextlib
import datetime as dt
import json
from dataclasses import dataclass
from email.utils import parsedate_to_datetime
from http import HTTPStatus
from typing import TYPE_CHECKING, Any, ClassVar

import aiohttp
from django.conf import settings

from base.loop import wait_for
from base.outbound import OutboundRefused, OutboundResolver, url_refusal

from .base import BaseBackend, DeliveryError, Receipt

if TYPE_CHECKING:
    from multidict import CIMultiDictProxy

    from messaging.models import Message

# How long a busy provider that names no time is left alone (Twilio's 20429 says
# nothing), and the longest a Retry-After is taken at its word.
DEFAULT_RETRY_AFTER = 1.0
LONGEST_RETRY_AFTER = 3600.0
# The longest each field of a provider's error is kept.
LONGEST_ERROR_FIELD = 200

_sessions: dict[asyncio.AbstractEventLoop, aiohttp.ClientSession] = {}


@dataclass(frozen=True)
class Answer:
    status: int
    headers: "CIMultiDictProxy[str]"
    text: str
    reason: str = ""

    def json(self) -> Any:
        return json.loads(self.text)


def session() -> aiohttp.ClientSession:
    """The running loop's session: keep-alive connections for every request a
    worker keeps in flight at once, so none opens a connection per message."""
    loop = asyncio.get_running_loop()
    found = _sessions.get(loop)
    if found is None or found.closed:
        width = max(settings.MESSAGING_WORKER_IN_FLIGHT, 1)
        found = aiohttp.ClientSession(
            connector=aiohttp.TCPConnector(
                limit=width,
                limit_per_host=0,
                keepalive_timeout=30,
                resolver=OutboundResolver(),
            ),
        )
        _sessions[loop] = found
        atexit.register(_close_at_exit, loop, found)
    return found


def _close_at_exit(
    loop: asyncio.AbstractEventLoop, found: aiohttp.ClientSession
) -> None:
    """Say goodbye to the providers' connections as the process ends."""
    if loop.is_running() and not found.closed:
        with contextlib.suppress(Exception):
            asyncio.run_coroutine_threadsafe(found.close(), loop).result(2)


def retry_after(answer: Answer) -> float | None:
    """Seconds the provider asks to be left alone: its Retry-After (seconds or an
    HTTP date), or a second for a 429 that names no time; None if it did not ask."""
    value = answer.headers.get("Retry-After", "").strip()
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
    if seconds is None and answer.status == 429:
        seconds = DEFAULT_RETRY_AFTER
    if seconds is None:
        return None
    return min(max(seconds, 0.0), LONGEST_RETRY_AFTER)


def _field(value: Any) -> str:
    """One field of a provider's error as text, on one line and bounded; "" for
    what is not a string or a number."""
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        return ""
    text = " ".join(str(value).split())
    if len(text) > LONGEST_ERROR_FIELD:
        text = text[: LONGEST_ERROR_FIELD - 1] + "…"
    return text


def _error_fields(answer: Answer) -> dict[str, Any]:
    """A failing answer's JSON object of error fields (inside an "error" object
    where there is one); empty for anything else."""
    try:
        found = json.loads(answer.text) if answer.text.lstrip()[:1] == "{" else None
    except ValueError:
        found = None
    if not isinstance(found, dict):
        return {}
    if isinstance(found.get("error"), dict):
        found = found["error"]
    return found


def provider_error(answer: Answer) -> str:
    """What a failing answer says of its error, in the provider's error fields of a
    JSON object (Twilio's code, message and more_info; error, message or detail
    elsewhere, also inside an "error" object); "" for anything else. Never the body
    itself: the target may be a page that is not the provider's."""
    found = _error_fields(answer)
    words = [_field(found.get(name)) for name in ("code", "error", "message", "detail")]
    more = _field(found.get("more_info"))
    if more:
        words.append(f"({more})")
    return " ".join(word for word in words if word)


def status_line(answer: Answer) -> str:
    """The status line, "HTTP 500 Internal Server Error": a known status with its
    standard phrase, whatever the target wrote."""
    try:
        phrase = HTTPStatus(answer.status).phrase
    except ValueError:
        phrase = _field(answer.reason)[:60]
    return f"HTTP {answer.status} {phrase}".rstrip()


def raise_for_answer(answer: Answer, provider: str) -> None:
    """DeliveryError for anything but 2xx: permanent for a refusal (4xx) or a
    redirect (not followed), a retry for a broken provider (408, 5xx); a wait,
    without spending an attempt, for a provider asking for one (429, or 503 with
    Retry-After). The error says the status line and the provider's error fields
    (provider_error), never the body."""
    if 200 <= answer.status < 300:
        return
    reason = f"{provider} answered {status_line(answer)}"
    if 300 <= answer.status < 400:
        reason += " (redirects are not followed)"
    detail = provider_error(answer)
    if detail:
        reason += f": {detail}"
    transient = answer.status in (408, 409, 425, 429) or answer.status >= 500
    busy = retry_after(answer) if answer.status in (429, 503) else None
    raise DeliveryError(
        reason,
        permanent=not transient,
        retry_after=busy,
        code=_field(_error_fields(answer).get("code")),
    )


async def post(
    url: str,
    provider: str,
    *,
    headers: dict[str, str],
    data: bytes | dict[str, str],
    auth: tuple[str, str] | None = None,
) -> Answer:
    """POST to a provider; its answer, or DeliveryError (permanent for a URL that
    points inside, base.outbound)."""
    refused = url_refusal(url, resolve=False)
    if refused:
        raise DeliveryError(f"{provider}'s URL is refused: {refused}", permanent=True)
    if auth:
        user, password = auth
        token = base64.b64encode(f"{user}:{password}".encode()).decode()
        headers = {**headers, "Authorization": f"Basic {token}"}
    try:
        async with session().post(
            url,
            data=data,
            headers=headers,
            timeout=aiohttp.ClientTimeout(total=settings.MESSAGING_HTTP_TIMEOUT),
            allow_redirects=False,  # each hop would need its own check
        ) as response:
            answer = Answer(
                response.status,
                response.headers,
                await response.text(errors="replace"),
                response.reason or "",
            )
    except OutboundRefused as exc:
        raise DeliveryError(
            f"{provider}'s URL is refused: {exc}", permanent=True
        ) from None
    except TimeoutError:
        raise DeliveryError(
            f"{provider} did not answer in time", timed_out=True
        ) from None
    except (aiohttp.ClientError, OSError, ValueError) as exc:
        raise DeliveryError(f"{provider} could not be reached: {exc}") from None
    raise_for_answer(answer, provider)
    return answer


class HTTPBackend(BaseBackend):
    """A provider spoken to over HTTP: ``send_async`` runs on the sending loop, many
    at once; ``send`` runs one there and waits for it."""

    concurrent: ClassVar[bool] = True

    async def send_async(self, message: "Message") -> Receipt:
        raise NotImplementedError

    def send(self, message: "Message") -> Receipt:
        return wait_for(self.send_async(message))
