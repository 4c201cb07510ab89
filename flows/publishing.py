"""Publishing: check a flow's steps and freeze them into a new FlowVersion (F3)."""

from typing import Any

from django.contrib.auth.models import User
from django.db import transaction
from django.db.models import Max

from .models import Flow, FlowStep, FlowVersion

# Steps the run engine can carry today. Waits and branches need journeys that advance
# over time; until those exist, a flow holding one is refused rather than half-run.
RUNNABLE_KINDS = {FlowStep.Kind.SEND, FlowStep.Kind.END}


class FlowRefused(Exception):
    """The flow cannot be published as it stands; the text lists every problem."""


def flow_problems(flow: Flow) -> list[str]:
    """Every reason the flow cannot be published; empty when it can."""
    steps = list(flow.steps.select_related("channel"))
    problems: list[str] = []
    if not any(step.kind == FlowStep.Kind.SEND for step in steps):
        problems.append("The flow needs at least one 'Send a message' step.")
    for step in steps:
        where = f"Step {step.position}"
        if step.kind not in RUNNABLE_KINDS:
            problems.append(
                f"{where}: '{step.get_kind_display()}' steps cannot be published yet; "
                "only send and end steps run."
            )
        if step.kind == FlowStep.Kind.SEND:
            if step.channel is None:
                problems.append(f"{where}: choose the channel to send on.")
            elif not step.channel.enabled:
                problems.append(f"{where}: channel {step.channel.name!r} is disabled.")
            if not step.body.strip():
                problems.append(f"{where}: the message text is empty.")
    return problems


def _snapshot(step: FlowStep) -> dict[str, Any]:
    return {
        "id": step.pk,
        "position": step.position,
        "kind": step.kind,
        "channel_id": step.channel_id,
        "body": step.body,
        "wait_seconds": step.wait.total_seconds() if step.wait else None,
        "condition": step.condition,
    }


def flow_publish(*, flow: Flow, actor: User | None = None) -> FlowVersion:
    """Freeze the flow's current steps into a new version and mark it published."""
    with transaction.atomic():
        # Checked under the lock: the admin saves a flow and its steps in one
        # transaction that holds this row, so the snapshot is of what was checked.
        locked = Flow.objects.select_for_update().get(pk=flow.pk)
        if locked.status == Flow.Status.ARCHIVED:
            raise FlowRefused(
                f"Flow {flow.name!r} is archived; it cannot be published."
            )
        problems = flow_problems(locked)
        if problems:
            raise FlowRefused(" ".join(problems))
        number = (locked.versions.aggregate(n=Max("number"))["n"] or 0) + 1
        version = FlowVersion.objects.create(
            flow=locked,
            number=number,
            steps=[_snapshot(step) for step in locked.steps.all()],
            published_by=actor if actor is not None and actor.pk else None,
        )
        Flow.objects.filter(pk=flow.pk).update(
            status=Flow.Status.PUBLISHED, current_version=version
        )
    flow.refresh_from_db()
    return version
