from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from messaging.models import Message


class DeliveryError(Exception):
    """The provider did not take the message.

    ``permanent=True`` means a retry cannot succeed (invalid number, rejected content);
    the message is marked failed at once instead of being retried.
    """

    def __init__(self, reason: str, *, permanent: bool = False) -> None:
        super().__init__(reason)
        self.reason = reason
        self.permanent = permanent


@dataclass(frozen=True)
class Receipt:
    provider_id: str


class BaseBackend:
    """Hands one rendered message to one provider. Knows nothing of campaigns.

    ``message.body`` holds the rendered text; ``message.pk`` is the idempotency key to
    pass to providers that accept one.
    """

    def send(self, message: "Message") -> Receipt:
        raise NotImplementedError
