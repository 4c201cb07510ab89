"""Secrets at rest: what a channel keeps of its signing secrets and provider
credentials is ciphertext, made with the keys of FLOWCAST_SECRETS_KEY (Fernet: AES
and an HMAC). The first key encrypts; every key decrypts, so a key is replaced by
putting a new one first and resealing (``manage.py reseal_secrets``).

A secret is opened only where it is used (a send, a hook's check) and never kept on
a model in the clear; a process remembers the last few it opened (sends open the
same one for every message).
"""

from functools import lru_cache

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import models


class SecretField(models.TextField):
    """Ciphertext of a secret (``seal``), never the secret itself. The audit trail
    records only that it changed (``hides_value``)."""

    hides_value = True


class UnreadableSecret(ImproperlyConfigured):
    pass


@lru_cache(maxsize=4)
def _fernet(keys: tuple[str, ...]) -> MultiFernet:
    return MultiFernet([Fernet(key) for key in keys])


def _current() -> MultiFernet:
    return _fernet(tuple(settings.FLOWCAST_SECRETS_KEYS))


def seal(plaintext: str) -> str:
    """The ciphertext of ``plaintext``, different at every call; "" stays ""."""
    if not plaintext:
        return ""
    return _current().encrypt(plaintext.encode()).decode()


def unseal(ciphertext: str) -> str:
    """The secret ``ciphertext`` holds ("" for ""); refused when no key of
    FLOWCAST_SECRETS_KEY opens it."""
    if not ciphertext:
        return ""
    return _opened(ciphertext, tuple(settings.FLOWCAST_SECRETS_KEYS))


@lru_cache(maxsize=256)
def _opened(ciphertext: str, keys: tuple[str, ...]) -> str:
    try:
        return _fernet(keys).decrypt(ciphertext.encode()).decode()
    except InvalidToken:
        raise UnreadableSecret(
            "A stored secret cannot be decrypted with the keys in "
            "FLOWCAST_SECRETS_KEY: the key it was sealed with is gone. Put that key "
            "back (after the current one), or enter the secret again."
        ) from None


def reseal(ciphertext: str) -> str:
    """The same secret sealed with the first key (after a key was added)."""
    if not ciphertext:
        return ""
    try:
        return _current().rotate(ciphertext.encode()).decode()
    except InvalidToken:
        unseal(ciphertext)  # raises the refusal that says why
        raise
