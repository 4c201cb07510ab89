"""Publishing: check a flow's steps and freeze them into a new FlowVersion."""

from collections.abc import Callable
from typing import Any

from django.contrib.auth.models import User
from django.db import IntegrityError, transaction
from django.db.models import Max

from audiences.models import AudienceGroup
from audiences.rules import RuleError, rule_condition
from base.audit import audit_record
from messaging.models import Channel

from .cohorts import cohorts_end
from .conditions import branch_condition
from .event_match import event_rule_problems
from .graph import graph_problems
from .models import Cohort, Flow, FlowStep, FlowVersion
from .reply_tests import reply_step_problems
from .step_templates import pinned_content, step_content_problems


class FlowRefused(Exception):
    """The flow cannot be published as it stands; the text lists every problem."""


def snapshot(step: FlowStep) -> dict[str, Any]:
    """A step as a version keeps it, and as the graph checks and the engine read it.

    The keys of the reply and group steps are there for those kinds only, so the
    snapshots of other steps are those versions published before these kinds
    existed (the flow shows no unpublished changes for them)."""
    kept = {
        "id": step.pk,
        "position": step.position,
        "kind": step.kind,
        "channel_id": step.channel_id,
        "body": step.body,
        "media_url": step.media_url,
        "wait_seconds": step.wait.total_seconds() if step.wait else None,
        "next": step.next_step,
        "condition": {
            "field": step.condition_field,
            "op": step.condition_op,
            "value": step.condition_value,
        },
        "yes": step.yes_step,
        "no": step.no_step,
        # A template's current version and an image's URL, pinned.
        **pinned_content(step),
    }
    if step.kind == FlowStep.Kind.REPLY:
        kept["reply"] = {
            "test": step.reply_test or FlowStep.ReplyTest.ANY,
            "words": step.reply_words,
            "save_as": step.save_reply_as.strip(),
        }
        kept["timeout"] = step.timeout_step
    if step.kind == FlowStep.Kind.GROUP:
        kept["group_id"] = step.group_id
        kept["group_action"] = step.group_action
    return kept


def step_problems(step: FlowStep) -> list[str]:
    """What is missing or wrong in one step, on its own."""
    where = f"Step {step.position}"
    problems: list[str] = []
    if step.kind == FlowStep.Kind.SEND:
        if step.channel is None:
            problems.append(f"{where}: choose the channel to send on.")
        elif not step.channel.enabled:
            problems.append(f"{where}: channel {step.channel.name!r} is disabled.")
        problems.extend(step_content_problems(step, where))
    elif step.kind == FlowStep.Kind.WAIT:
        if step.wait is None or step.wait.total_seconds() <= 0:
            problems.append(f"{where}: give the wait a duration (e.g. 00:01:00).")
    elif step.kind == FlowStep.Kind.BRANCH:
        if step.yes_step is None or step.no_step is None:
            problems.append(f"{where}: a branch needs both a yes and a no step.")
        try:
            rule_condition(branch_condition(snapshot(step)))
        except RuleError as exc:
            problems.append(f"{where}: the condition is not usable: {exc.message}")
    elif step.kind == FlowStep.Kind.REPLY:
        problems.extend(reply_step_problems(step, where))
    elif step.kind == FlowStep.Kind.GROUP:
        if step.group is None:
            problems.append(f"{where}: choose the group.")
        elif step.group.kind != AudienceGroup.Kind.STATIC:
            problems.append(
                f"{where}: group {step.group.name!r} is dynamic (its rules choose its "
                "members); choose a static group."
            )
        if not step.group_action:
            problems.append(f"{where}: say whether the contact is added or removed.")
    return problems


def reply_channel_problems(steps: list[FlowStep]) -> list[str]:
    """A reply comes on the channel its question went out on: a wait for a reply on
    a channel no step of the flow sends on would never be answered."""
    sending = {step.channel_id for step in steps if step.kind == FlowStep.Kind.SEND}
    return [
        f"Step {step.position} waits for a reply on {step.channel.name!r}, but no "
        "step of this flow sends on it: choose the channel of the question."
        for step in steps
        if step.kind == FlowStep.Kind.REPLY
        and step.channel is not None
        and step.channel_id not in sending
    ]


def flow_problems(flow: Flow) -> list[str]:
    """Every reason the flow cannot be published; empty when it can."""
    steps = list(flow.steps.select_related("channel", "group", "template", "media"))
    problems: list[str] = []
    if not any(step.kind == FlowStep.Kind.SEND for step in steps):
        problems.append("The flow needs at least one 'Send a message' step.")
    for step in steps:
        problems.extend(step_problems(step))
    problems.extend(reply_channel_problems(steps))
    problems.extend(graph_problems([snapshot(step) for step in steps]))
    if flow.trigger == Flow.Trigger.EVENT and not flow.event_name.strip():
        problems.append("A behavioural-event flow needs the event name it waits for.")
    problems.extend(event_rule_problems(flow))
    if flow.trigger == Flow.Trigger.AUDIENCE and (
        flow.audience_group_id is None or not flow.audience_every
    ):
        problems.append("An audience flow needs its group and how often it enters.")
    return problems


def steps_differ_from_published(flow: Flow) -> bool:
    """Whether the flow's steps differ from its current version's; True when it has
    never been published."""
    version = flow.current_version
    return version is None or version.steps != [
        snapshot(step) for step in flow.steps.all()
    ]


def flow_publish(*, flow: Flow, actor: User | None = None) -> FlowVersion:
    """Freeze the flow's current steps into a new version and mark it published.

    Refused when the flow is published and its steps are those of its current
    version: the new version would be a copy.
    """
    with transaction.atomic():
        # Checked under the lock: the admin saves a flow and its steps in one
        # transaction that holds this row, so the snapshot is of what was checked.
        locked = Flow.objects.select_for_update().get(pk=flow.pk)
        if locked.status == Flow.Status.ARCHIVED:
            raise FlowRefused(
                f"Flow {flow.name!r} is archived; it cannot be published."
            )
        current = locked.current_version
        if (
            locked.status == Flow.Status.PUBLISHED
            and current is not None
            and not steps_differ_from_published(locked)
        ):
            raise FlowRefused(
                f"Flow {flow.name!r} has no unpublished changes; version "
                f"{current.number} already has these steps."
            )
        problems = flow_problems(locked)
        if problems:
            raise FlowRefused(" ".join(problems))
        number = (locked.versions.aggregate(n=Max("number"))["n"] or 0) + 1
        version = FlowVersion.objects.create(
            flow=locked,
            number=number,
            steps=[snapshot(step) for step in locked.steps.all()],
            published_by=actor if actor is not None and actor.pk else None,
        )
        Flow.objects.filter(pk=flow.pk).update(
            status=Flow.Status.PUBLISHED,
            current_version=version,
            has_draft_changes=False,
        )
        audit_record(
            action="publish",
            target=locked,
            changes={"status": [locked.status, Flow.Status.PUBLISHED]}
            if locked.status != Flow.Status.PUBLISHED
            else {},
            note=f"version {number}, {len(version.steps)} steps",
            actor=actor,
        )
    flow.refresh_from_db()
    return version


def flow_publish_one_send(
    *,
    name: str,
    description: str,
    channel: Channel,
    body: str,
    media_url: str = "",
    actor: User | None = None,
) -> Flow:
    """A new Manual flow that sends one message and ends, published, marked as a bulk
    message's (Flow.for_bulk). Named ``name``, or ``name (2)``, ``(3)`` ... when
    taken, even by one made at the same moment."""
    with transaction.atomic():
        flow = _new_flow(name, description, for_bulk=True)
        FlowStep.objects.create(
            flow=flow,
            position=1,
            kind=FlowStep.Kind.SEND,
            channel=channel,
            body=body,
            media_url=media_url,
        )
        FlowStep.objects.create(flow=flow, position=2, kind=FlowStep.Kind.END)
        flow_publish(flow=flow, actor=actor)
    return flow


def _new_flow(name: str, description: str, *, for_bulk: bool = False) -> Flow:
    base = name[:94]
    for number in range(1, 1000):
        candidate = name[:100] if number == 1 else f"{base} ({number})"
        try:
            with transaction.atomic():
                return Flow.objects.create(
                    name=candidate,
                    description=description,
                    trigger=Flow.Trigger.MANUAL,
                    for_bulk=for_bulk,
                )
        except IntegrityError:
            continue
    raise FlowRefused(f"Too many flows are named {name!r}; choose another name.")


def flow_note_edits(*, flow: Flow) -> bool:
    """After the steps were saved: record whether they now differ from the published
    version. Return True when they do."""
    changed = flow.current_version is not None and steps_differ_from_published(flow)
    Flow.objects.filter(pk=flow.pk).update(has_draft_changes=changed)
    flow.has_draft_changes = changed
    return changed


# Whoever runs flows (campaigns) says here why a flow may not be archived yet, as a
# sentence for the operator, or None: filled in AppConfig.ready() by the apps above.
archive_refusals: list[Callable[[Flow], str | None]] = []


def flow_archive(*, flow: Flow) -> None:
    """Retire a flow: no new campaign can choose it, no event or schedule puts anyone
    on it, and contacts it holds without a campaign stop. Refused while a campaign
    that has not ended uses it."""
    with transaction.atomic():
        locked = Flow.objects.select_for_update().get(pk=flow.pk)
        if locked.status == Flow.Status.ARCHIVED:
            raise FlowRefused(f"Flow {flow.name!r} is already archived.")
        for refusal in archive_refusals:
            reason = refusal(locked)
            if reason:
                raise FlowRefused(reason)
        Flow.objects.filter(pk=flow.pk).update(status=Flow.Status.ARCHIVED)
        audit_record(
            action="status",
            target=locked,
            changes={"status": [locked.status, Flow.Status.ARCHIVED]},
        )
        # Contacts put on it by events or its audience schedule go no further.
        cohorts_end(
            cohorts=Cohort.objects.filter(flow_version__flow=locked, for_entries=True),
            reason="flow archived",
        )
    flow.refresh_from_db()


def flow_restore(*, flow: Flow) -> None:
    """Bring an archived flow back as a draft (publish it to use it again)."""
    with transaction.atomic():
        if not Flow.objects.filter(pk=flow.pk, status=Flow.Status.ARCHIVED).update(
            status=Flow.Status.DRAFT
        ):
            raise FlowRefused(f"Flow {flow.name!r} is not archived.")
        audit_record(
            action="status",
            target=flow,
            changes={"status": [Flow.Status.ARCHIVED, Flow.Status.DRAFT]},
        )
    flow.refresh_from_db()
