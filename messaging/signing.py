"""Standard Webhooks signatures: moved to base.signing, where the event stream
(stream) uses them too. Kept so that older imports still work."""

from base.signing import (  # noqa: F401
    SECRET_PREFIX,
    TOLERANCE_SECONDS,
    SignatureRefused,
    new_secret,
    secret_key,
    sign,
    signed_headers,
    verify,
)
