"""Who is calling the API: a bearer token, or an operator signed in to the console."""

from django.contrib.auth.models import AnonymousUser, User
from django.http import HttpRequest
from django.utils import timezone
from rest_framework.authentication import BaseAuthentication, SessionAuthentication
from rest_framework.exceptions import AuthenticationFailed
from rest_framework.request import Request

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


class ApiKeyAuthentication(BaseAuthentication):
    """REST framework's view of the API keys: ``Authorization: Bearer <key>``.

    No header: the next way (a console session) is tried. A header with an unknown
    or revoked key is refused outright (401), never taken for anonymous.
    """

    def authenticate(self, request: Request) -> tuple[User, ApiToken] | None:
        header = request.headers.get("Authorization", "")
        scheme, _, key = header.partition(" ")
        if scheme.lower() != "bearer":
            return None
        key = key.strip()
        if not key:
            raise AuthenticationFailed(
                "The Authorization header has no key: send 'Bearer <key>'."
            )
        token = (
            ApiToken.objects.select_related("user")
            .filter(digest=key_digest(key), revoked=False, user__is_active=True)
            .first()
        )
        if token is None:
            raise AuthenticationFailed("The API key is unknown or revoked.")
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=timezone.now())
        return token.user, token

    def authenticate_header(self, request: Request) -> str:
        # Makes refusals 401 (with WWW-Authenticate) rather than 403.
        return 'Bearer realm="api"'


class ConsoleSessionAuthentication(SessionAuthentication):
    """An operator signed in to the console (the API reference's "Try it out").
    Writes need the console's CSRF token, as any form of the console does."""
