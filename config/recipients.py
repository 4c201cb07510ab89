"""Settings that protect recipients (consent, suppression, frequency caps, time
zones), read by config.settings."""

import hashlib
import os

from config.environment import env_int


def address_hash_key(secret_key: str) -> bytes:
    """The key of the suppression list's hashes (ADDRESS_HASH_KEY, else derived
    from SECRET_KEY). It must never change: the list would no longer match any
    address. Set ADDRESS_HASH_KEY once before rotating SECRET_KEY."""
    given = os.environ.get("ADDRESS_HASH_KEY", "")
    seed = given or f"flowcast-addresses:{secret_key}"
    return hashlib.sha256(seed.encode()).digest()[:32]


# Soft bounces (a full mailbox, a number that cannot take messages for now) an
# address may have within SOFT_BOUNCE_DAYS before it is suppressed like a hard one.
SOFT_BOUNCE_LIMIT = env_int("SOFT_BOUNCE_LIMIT", 3)
SOFT_BOUNCE_DAYS = env_int("SOFT_BOUNCE_DAYS", 30)
# Days an email's unsubscribe link keeps working after the email was sent.
UNSUBSCRIBE_LINK_DAYS = env_int("UNSUBSCRIBE_LINK_DAYS", 365)
