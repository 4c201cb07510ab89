"""Secrets at rest: moved to base.encryption, where the event stream (stream) uses
it too. Kept for messaging's migrations (0010 names messaging.encryption.SecretField)
and older imports."""

from base.encryption import (  # noqa: F401
    SecretField,
    UnreadableSecret,
    reseal,
    seal,
    unseal,
)
