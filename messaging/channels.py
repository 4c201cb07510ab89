"""What keeps a channel: whoever sends on it says so here.

Messages are only written from what a sender set up to send on a channel (flows'
send steps): a channel nobody names here has no messages, and they need not be
looked for. messaging_message has no index on channel_id (each index costs the send
path), and looking would read millions of rows.
"""

from collections.abc import Callable

from .models import Channel

# Each finder names, in words, what sends on a channel ("Flow Welcome, step 2");
# filled in AppConfig.ready() by the apps above messaging.
channel_user_finders: list[Callable[[Channel], list[str]]] = []


def channel_users(channel: Channel) -> list[str]:
    """What sends on ``channel``, in words; a channel is deleted only when nothing
    does."""
    return [used for finder in channel_user_finders for used in finder(channel)]
