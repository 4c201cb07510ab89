from collections.abc import Iterator

import pytest
from django.test import override_settings

from tests.messaging.provider import RecordingBackend


@pytest.fixture
def provider() -> Iterator[type[RecordingBackend]]:
    RecordingBackend.sent = []
    RecordingBackend.failures = {}
    RecordingBackend.on_send = []
    backends = {"console": "tests.messaging.provider.RecordingBackend"}
    with override_settings(MESSAGING_BACKENDS=backends):
        yield RecordingBackend
