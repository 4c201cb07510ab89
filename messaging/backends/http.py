"""What HTTP providers share: one pooled client per process, and how an answer maps to
sent, retry later, or failed for good."""

import httpx
from django.conf import settings

from .base import DeliveryError

_client: httpx.Client | None = None


def client() -> httpx.Client:
    global _client
    if _client is None:
        _client = httpx.Client(timeout=settings.MESSAGING_HTTP_TIMEOUT)
    return _client


def raise_for_answer(response: httpx.Response, provider: str) -> None:
    """DeliveryError for anything but 2xx: permanent for a refusal (4xx), a retry for
    a busy or broken provider (408, 429, 5xx)."""
    if response.is_success:
        return
    detail = response.text.strip().replace("\n", " ")[:300]
    reason = (
        f"{provider} answered {response.status_code}: "
        f"{detail or response.reason_phrase}"
    )
    transient = (
        response.status_code in (408, 409, 425, 429) or response.status_code >= 500
    )
    raise DeliveryError(reason, permanent=not transient)


def post(url: str, provider: str, **kwargs: object) -> httpx.Response:
    try:
        response = client().post(url, **kwargs)  # type: ignore[arg-type]
    except httpx.TimeoutException:
        raise DeliveryError(f"{provider} did not answer in time") from None
    except httpx.HTTPError as exc:
        raise DeliveryError(f"{provider} could not be reached: {exc}") from None
    raise_for_answer(response, provider)
    return response
