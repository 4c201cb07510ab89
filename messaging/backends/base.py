from dataclasses import dataclass
from typing import TYPE_CHECKING, ClassVar

if TYPE_CHECKING:
    from messaging.models import Message


class DeliveryError(Exception):
    """The provider did not take the message.

    ``permanent=True`` means a retry cannot succeed (invalid number, rejected content);
    the message is marked failed at once instead of being retried. ``retry_after``
    (seconds) means the provider is busy and asked to be left alone that long (429,
    or 503 with Retry-After): the whole channel pauses and the message is tried again
    without spending one of its attempts. ``timed_out`` means no answer came in time:
    the provider may or may not have taken the message.
    """

    def __init__(
        self,
        reason: str,
        *,
        permanent: bool = False,
        retry_after: float | None = None,
        timed_out: bool = False,
    ) -> None:
        super().__init__(reason)
        self.reason = reason
        self.permanent = permanent
        self.retry_after = retry_after
        self.timed_out = timed_out


@dataclass(frozen=True)
class Receipt:
    provider_id: str


class BaseBackend:
    """Hands one rendered message to one provider. Knows nothing of campaigns.

    ``message.body`` holds the rendered text; ``message.pk`` is the idempotency key to
    pass to providers that accept one. A backend whose ``send`` may run in several
    threads at once (no state of its own per message, a thread-safe client) says
    ``concurrent = True``: a worker then keeps many of its messages in flight.
    """

    concurrent: ClassVar[bool] = False

    def send(self, message: "Message") -> Receipt:
        raise NotImplementedError
