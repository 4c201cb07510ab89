from collections.abc import Callable
from typing import Any

import pytest
from django.contrib.auth.models import Group, User
from django.test import Client

from api.models import ApiToken
from base.roles import OPERATOR, VIEWER
from tests.messaging.conftest import provider  # noqa: F401 (a recording provider)


class KeyClient(Client):
    """A client sending an API key, as an outside system does (JSON bodies)."""

    def __init__(self, key: str) -> None:
        super().__init__(enforce_csrf_checks=True, HTTP_AUTHORIZATION=f"Bearer {key}")
        self.key = key

    def send(self, method: str, path: str, body: Any = None, **extra: Any) -> Any:
        call = getattr(super(), method)
        if body is None:
            if method in ("post", "put", "patch"):
                # An empty body, as curl -X POST sends it.
                return call(path, b"", content_type="", **extra)
            return call(path, **extra)
        return call(path, body, content_type="application/json", **extra)


def key_for(name: str, role: str | None) -> str:
    user = User.objects.create_user(name)
    if role:
        user.groups.add(Group.objects.get(name=role))
    token = ApiToken(name=f"{name} key", user=user)
    key = token.issue_key()
    token.save()
    return key


@pytest.fixture
def make_key(db: None) -> Callable[[str, str | None], KeyClient]:
    def make(name: str, role: str | None = OPERATOR) -> KeyClient:
        return KeyClient(key_for(name, role))

    return make


@pytest.fixture
def operator(make_key: Callable[..., KeyClient]) -> KeyClient:
    return make_key("shop", OPERATOR)


@pytest.fixture
def viewer(make_key: Callable[..., KeyClient]) -> KeyClient:
    return make_key("looker", VIEWER)
