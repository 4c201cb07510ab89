"""The flow steps and published versions that send on a channel, which keep it."""

from messaging.models import Channel

from .models import FlowStep, FlowVersion


def flow_steps_on(channel: Channel) -> list[str]:
    """The working-copy steps and published versions that send on ``channel``, in
    words. A version keeps its channel even when its messages are gone: campaigns
    running that version would send on it."""
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
