"""Where Flowcast's own requests may go: moved to base.outbound, where the event
stream (stream) uses it too. Kept so that older imports still work."""

from base.outbound import (  # noqa: F401
    METADATA_ADDRESSES,
    METADATA_NAMES,
    RESOLVE_SECONDS,
    SCHEMES,
    AllowList,
    OutboundRefused,
    address_refusal,
    addresses_refusal,
    allow_list,
    http_url,
    literal_address,
    url_refusal,
)
