"""What keeps a channel: the flows that send on it."""

from flows.models import FlowStep, FlowVersion

from .models import Channel


def channel_users(channel: Channel) -> list[str]:
    """The flow steps and published versions that send on ``channel``, in words; a
    channel is deleted only when there are none.

    Messages are made only from the send steps of a published version
    (flows.engine), so a channel that no version sends on has no messages, and
    they need not be looked for: messaging_message has no index on channel_id
    (each index costs the send path), and looking would read millions of rows. A
    channel that a version sends on stays even when its messages are gone:
    campaigns running that version would send on it.
    """
    steps = (
        FlowStep.objects.filter(channel=channel)
        .select_related("flow")
        .order_by("flow__name", "position")
    )
    used = [f"Flow {s.flow.name}, step {s.position} (working copy)" for s in steps]
    # Versions are few (one a publish); their steps are JSON, read here rather
    # than searched in SQL, which SQLite cannot do.
    versions = FlowVersion.objects.select_related("flow").order_by(
        "flow__name", "number"
    )
    used += [
        f"Flow {version.flow.name}, published version {version.number}"
        for version in versions
        if any(step.get("channel_id") == channel.pk for step in version.steps)
    ]
    return used
