"""The event stream's settings (outgoing webhooks: the stream app), read by
config.settings."""

import os

from config.environment import env_int

# A delivery still not taken (a 2xx answer) this many hours after its event is given
# up, failed. Endpoints that look down are probed at most STREAM_MAX_PAUSE_SECONDS
# apart, so one back after an outage gets what waited within that time.
STREAM_GIVE_UP_HOURS = env_int("STREAM_GIVE_UP_HOURS", 72)
STREAM_MAX_PAUSE_SECONDS = env_int("STREAM_MAX_PAUSE_SECONDS", 300)
# An endpoint that does not answer within this many seconds is tried again later.
STREAM_HTTP_TIMEOUT = float(os.environ.get("STREAM_HTTP_TIMEOUT", "10"))
# Posts one endpoint has waiting for an answer at once (one worker delivers an
# endpoint at a time, one contact's events one after the other).
STREAM_MAX_IN_FLIGHT = env_int("STREAM_MAX_IN_FLIGHT", 100)
# Events and their delivery attempts are deleted this many days after they were
# emitted, once no delivery of theirs is pending; 0 keeps them for ever.
STREAM_RETENTION_DAYS = env_int("STREAM_RETENTION_DAYS", 30)
# After an endpoint's signing secret is rotated, the previous one still signs
# beside the new one this long.
STREAM_SECRET_OVERLAP_HOURS = env_int("STREAM_SECRET_OVERLAP_HOURS", 24)
