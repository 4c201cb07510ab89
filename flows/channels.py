"""What flows need of channels: that those a version sends on still exist, and which
steps and versions send on a channel (they keep it)."""

from collections.abc import Iterable

from django.core.exceptions import ImproperlyConfigured

from messaging.models import Channel

from .graph import SEND, Step
from .models import FlowStep, FlowVersion


class FlowNotRunnable(ImproperlyConfigured):
    """The version cannot be run (a channel it sends on is gone)."""


def _sent_on(steps: Iterable[Step]) -> set[int]:
    """The channels the send steps of ``steps`` send on."""
    return {step["channel_id"] for step in steps if step["kind"] == SEND}


def check_channels(steps: Iterable[Step]) -> None:
    """Refuse steps that send on a channel which no longer exists."""
    wanted = _sent_on(steps)
    if not wanted:
        return
    gone = wanted - set(
        Channel.objects.filter(pk__in=wanted).values_list("pk", flat=True)
    )
    if gone:
        raise FlowNotRunnable(
            f"channel(s) {sorted(gone)} this flow version sends on no longer exist; "
            "publish the flow again"
        )


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


def versions_send_channels(version_ids: Iterable[int]) -> set[int]:
    """The channels the versions ``version_ids`` send on: the only ones their runs'
    messages go out on."""
    versions = FlowVersion.objects.filter(pk__in=set(version_ids))
    return set().union(
        *(_sent_on(steps) for steps in versions.values_list("steps", flat=True))
    )
