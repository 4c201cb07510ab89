"""Addresses as the suppression list knows them: a keyed hash of the normalised
phone number or email, so that a number stays suppressed after its contact is
erased without keeping the number itself."""

import hashlib

from django.conf import settings


def email_normal(email: str) -> str:
    """An email compared without case or surrounding spaces."""
    return email.strip().lower()


def address_key(address: str) -> str:
    """The keyed hash of a normalised address (an E.164 phone, an email as
    email_normal gives it): 32 hex digits, "" for a blank address."""
    if not address:
        return ""
    return hashlib.blake2b(
        address.encode(), key=settings.ADDRESS_HASH_KEY, digest_size=16
    ).hexdigest()


def phone_key(phone: str) -> str:
    """The key of a stored (E.164) phone number."""
    return address_key(phone.strip())


def email_key(email: str) -> str:
    return address_key(email_normal(email))


def address_hint(address: str) -> str:
    """Enough of an address for an operator to recognise it, not to reach it:
    "+52•••••••8877", "c•••@example.com"."""
    address = address.strip()
    if "@" in address:
        local, _, domain = address.partition("@")
        return f"{local[:1]}•••@{domain}"[:80]
    return f"{address[:3]}{'•' * max(len(address) - 7, 0)}{address[-4:]}"[:80]
