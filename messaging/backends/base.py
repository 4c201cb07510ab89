from dataclasses import dataclass
from typing import TYPE_CHECKING, ClassVar

if TYPE_CHECKING:
    from messaging.models import Message


@dataclass(frozen=True)
class Bounce:
    """The recipient's address is why the provider refused: a hard bounce (an
    unknown mailbox, a number that unsubscribed or does not exist) suppresses it
    once the message has failed; a ``soft`` one (a full mailbox, a server not
    taking mail for it now) counts toward SOFT_BOUNCE_LIMIT (messaging.bounces)."""

    kind: str  # the suppression list's address kind: "email" or "phone"
    address: str
    reason: str  # the suppression's reason: "bounce" or "provider"
    answer: str  # the provider's own words: "SMTP 550 5.1.1 user unknown"
    soft: bool = False


class DeliveryError(Exception):
    """The provider did not take the message.

    ``permanent=True`` means a retry cannot succeed (invalid number, rejected content);
    the message is marked failed at once instead of being retried. ``retry_after``
    (seconds) means the provider is busy and asked to be left alone that long (429,
    or 503 with Retry-After): the whole channel pauses and the message is tried again
    without spending one of its attempts. ``timed_out`` means no answer came in time:
    the provider may or may not have taken the message. ``bounce`` says the
    recipient's address was refused (see Bounce); ``code`` is the provider's own
    error code, when it gave one (Twilio's 21610).
    """

    def __init__(
        self,
        reason: str,
        *,
        permanent: bool = False,
        retry_after: float | None = None,
        timed_out: bool = False,
        bounce: Bounce | None = None,
        code: str = "",
    ) -> None:
        super().__init__(reason)
        self.reason = reason
        self.permanent = permanent
        self.retry_after = retry_after
        self.timed_out = timed_out
        self.bounce = bounce
        self.code = code


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
