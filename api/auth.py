"""Who is calling the API: a bearer token, or an operator signed in to the console."""

from django.contrib.auth.models import AnonymousUser, User
from django.http import HttpRequest
from django.utils import timezone

from .models import ApiToken, key_digest


def api_user(request: HttpRequest) -> User | AnonymousUser:
    """The user behind ``Authorization: Bearer <key>``, else the signed-in user."""
    header = request.headers.get("Authorization", "")
    scheme, _, key = header.partition(" ")
    if scheme.lower() == "bearer" and key.strip():
        token = (
            ApiToken.objects.select_related("user")
            .filter(digest=key_digest(key.strip()), revoked=False, user__is_active=True)
            .first()
        )
        if token is None:
            return AnonymousUser()
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=timezone.now())
        return token.user
    return request.user


def bearer_given(request: HttpRequest) -> bool:
    return request.headers.get("Authorization", "").lower().startswith("bearer ")
