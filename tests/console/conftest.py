from collections.abc import Callable
from typing import Any

import pytest


@pytest.fixture
def make_user(db: None) -> Callable[..., Any]:
    """A staff user in the role (group) named, signed in through ``client``."""
    from django.contrib.auth.models import Group, User

    def make(role: str, username: str = "") -> User:
        user = User.objects.create_user(
            username or role.lower(), password="correct horse battery", is_staff=True
        )
        user.groups.add(Group.objects.get(name=role))
        return user

    return make
