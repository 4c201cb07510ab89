"""A provider stand-in for dispatch tests: records what it is handed and fails on
request, the way a real provider answers."""

from collections.abc import Callable
from typing import ClassVar

from messaging.backends import BaseBackend, DeliveryError, Receipt
from messaging.models import Message


class RecordingBackend(BaseBackend):
    sent: ClassVar[list[tuple[int, str, str]]] = []
    # phone -> (reason, permanent)
    failures: ClassVar[dict[str, tuple[str, bool]]] = {}
    # Called with each message before it is answered: stands for what happens in
    # the world while the provider holds it (an operator ends the campaign...).
    on_send: ClassVar[list[Callable[[Message], None]]] = []

    def send(self, message: Message) -> Receipt:
        for hook in self.on_send:
            hook(message)
        failure = self.failures.get(message.contact.phone)
        if failure is not None:
            raise DeliveryError(failure[0], permanent=failure[1])
        self.sent.append((message.pk, message.contact.phone, message.body))
        return Receipt(provider_id=f"rec-{message.pk}")
