"""Preview flow chain: the flow drawn as boxes and arrows, and its messages
rendered for a sample contact, with the variables the contact or group lacks."""

import datetime as dt
from collections.abc import Collection
from dataclasses import dataclass, field
from typing import Any

from django.db.models import Count, Q
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

from audiences.models import AudienceGroup, Contact, Variable
from audiences.rules import RuleError
from messaging.models import Channel
from messaging.rendering import BUILTINS, fallbacks, placeholders, render, unfilled
from messaging.templating import fallback_note

from .conditions import branch_q, describe
from .graph import (
    BRANCH,
    END,
    GROUP,
    REPLY,
    SEND,
    WAIT,
    Step,
    edges,
    ordered,
    reachable,
)
from .routing import Grid, polyline_path, routes

# Members looked at for the variables some members of a group have no value for.
GROUP_SAMPLE = 10_000
BOX_W, BOX_H, GAP_X, GAP_Y, MARGIN = 210, 58, 36, 52, 24
FILL = {
    SEND: "#e3f2fd",
    WAIT: "#fff8e1",
    BRANCH: "#f3e5f5",
    REPLY: "#e8f5e9",
    GROUP: "#fbe9e7",
    END: "#eceff1",
}
STROKE = {
    SEND: "#1e88e5",
    WAIT: "#f9a825",
    BRANCH: "#8e24aa",
    REPLY: "#43a047",
    GROUP: "#f4511e",
    END: "#546e7a",
}
REPLY_TESTS = {
    "any": "any reply",
    "keywords": "reply says one of",
    "number": "reply holds a number",
    "yes_no": "reply says yes",
}


def duration_text(seconds: float | None) -> str:
    if not seconds:
        return "?"
    delta = dt.timedelta(seconds=seconds)
    for unit, size in (("day", 86400), ("hour", 3600), ("min", 60)):
        if seconds >= size and seconds % size == 0:
            count = int(seconds // size)
            return f"{count} {unit}{'s' if count > 1 and unit != 'min' else ''}"
    return str(delta)


def _short(text: str, size: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= size else text[: size - 1] + "…"


def step_title(
    step: Step, channels: dict[int, str], groups: dict[int, str] | None = None
) -> tuple[str, str]:
    """Two lines for a box: what the step does, and its detail."""
    number = step["position"]
    if step["kind"] == SEND:
        channel = channels.get(step.get("channel_id") or 0, "no channel")
        return f"{number} · Send on {channel}", step.get("body") or ""
    if step["kind"] == WAIT:
        return f"{number} · Wait {duration_text(step.get('wait_seconds'))}", ""
    if step["kind"] == BRANCH:
        return f"{number} · If", describe(step) or "(no condition)"
    if step["kind"] == REPLY:
        reply = step.get("reply") or {}
        test = REPLY_TESTS.get(reply.get("test") or "any", "any reply")
        if reply.get("test") == "keywords":
            test += f" {reply.get('words') or ''}"
        waits = duration_text(step.get("wait_seconds"))
        return f"{number} · Wait {waits} for a reply", test
    if step["kind"] == GROUP:
        action = "Remove from" if step.get("group_action") == "remove" else "Add to"
        group = (groups or {}).get(step.get("group_id") or 0, "a deleted group")
        return f"{number} · {action} group", group
    return f"{number} · End", ""


def layout(steps: list[Step]) -> dict[int, tuple[int, int]]:
    """(column, row) per step: rows by distance from the first step, unreachable
    steps on a last row of their own."""
    out = edges(steps)
    depth: dict[int, int] = {}
    order = reachable(steps)
    if order:
        depth[order[0]] = 0
        queue = [order[0]]
        while queue:
            position = queue.pop(0)
            for _, target in out[position]:
                if target in out and target not in depth:
                    depth[target] = depth[position] + 1
                    queue.append(target)
    last = max(depth.values(), default=-1) + 1
    for step in ordered(steps):
        depth.setdefault(step["position"], last)
    rows: dict[int, list[int]] = {}
    for step in ordered(steps):
        rows.setdefault(depth[step["position"]], []).append(step["position"])
    return {
        position: (column, row)
        for row, positions in rows.items()
        for column, position in enumerate(positions)
    }


def flow_svg(steps: list[Step]) -> SafeString:
    """The flow as an inline SVG picture."""
    if not steps:
        return mark_safe('<p class="help">This flow has no steps yet.</p>')
    channels = dict(Channel.objects.values_list("pk", "name"))
    groups = dict(
        AudienceGroup.objects.filter(
            pk__in=[s["group_id"] for s in steps if s.get("group_id")]
        ).values_list("pk", "name")
    )
    places = layout(steps)
    columns = max(c for c, _ in places.values()) + 1
    rows = max(r for _, r in places.values()) + 1
    width = MARGIN * 2 + columns * BOX_W + (columns - 1) * GAP_X + 60
    # The bottom margin holds the arrows that leave the last row (loops back).
    height = MARGIN * 2 + rows * BOX_H + (rows - 1) * GAP_Y + 12

    grid = Grid(BOX_W, BOX_H, GAP_X, GAP_Y, MARGIN)

    def box(position: int) -> tuple[int, int]:
        return grid.corner(places[position])

    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" role="img" aria-label="Flow chain" '
        'class="flow-chain" font-family="sans-serif" font-size="12">',
        '<defs><marker id="arrow" viewBox="0 0 10 10" refX="9" refY="5" '
        'markerWidth="7" markerHeight="7" orient="auto-start-reverse">'
        '<path d="M0,0 L10,5 L0,10 z" fill="#555"/></marker></defs>',
    ]
    reached = set(reachable(steps))
    ways = [
        (step["position"], label, target)
        for step in ordered(steps)
        for label, target in edges(steps)[step["position"]]
        if target in places
    ]
    lines = routes(grid, places, [(source, target) for source, _, target in ways])
    for (source, label, target), points in zip(ways, lines, strict=True):
        colour = {"yes": "#2e7d32", "no": "#c62828"}.get(label, "#555")
        parts.append(
            f'<path d="{polyline_path(points)}" fill="none" stroke="{colour}" '
            f'stroke-width="1.6" marker-end="url(#arrow)" data-from="{source}" '
            f'data-to="{target}"/>'
        )
        if label:
            (x1, _), (_, y2) = points[0], points[1]
            parts.append(
                f'<text x="{x1 + 3}" y="{y2 - 2}" fill="{colour}" font-size="10" '
                f'font-weight="bold">{escape(label)}</text>'
            )
    for step in ordered(steps):
        x, y = box(step["position"])
        title, detail = step_title(step, channels, groups)
        kind = step["kind"]
        dashed = "" if step["position"] in reached else ' stroke-dasharray="5,4"'
        parts.append(
            f'<g class="step step-{kind}" data-position="{step["position"]}">'
            f'<rect x="{x}" y="{y}" width="{BOX_W}" '
            f'height="{BOX_H}" rx="8" fill="{FILL.get(kind, "#fff")}" '
            f'stroke="{STROKE.get(kind, "#999")}" stroke-width="1.5"{dashed}/>'
            f'<text x="{x + 10}" y="{y + 22}" font-weight="bold">'
            f"{escape(_short(title, 30))}</text>"
        )
        if detail:
            parts.append(
                f'<text x="{x + 10}" y="{y + 42}" fill="#333">'
                f"{escape(_short(detail, 32))}</text>"
            )
        parts.append("</g>")
    parts.append("</svg>")
    return mark_safe("".join(parts))


def contact_path(steps: list[Step], contact: Contact) -> tuple[list[int], list[str]]:
    """The steps ``contact`` would pass, in order, and each branch's answer for it
    (as sentences). A loop is followed once."""
    by_position = {step["position"]: step for step in steps}
    out = edges(steps)
    path: list[int] = []
    answers: list[str] = []
    position = reachable(steps)[0] if steps else None
    while position is not None and position in by_position and position not in path:
        path.append(position)
        step = by_position[position]
        if step["kind"] == BRANCH:
            try:
                yes = (
                    Contact.objects.filter(pk=contact.pk)
                    .filter(branch_q(step))
                    .exists()
                )
            except RuleError as exc:
                answers.append(f"Step {position}: cannot be decided ({exc.message}).")
                break
            answers.append(
                f"Step {position}: {describe(step)}? {'yes' if yes else 'no'}."
            )
            position = step.get("yes") if yes else step.get("no")
        else:
            ways = out[position]
            position = ways[0][1] if ways else None
    return path, answers


@dataclass
class RenderedMessage:
    step: Step
    channel: str
    text: str
    media_url: str
    on_path: bool = True
    missing_for_contact: list[str] = field(default_factory=list)
    missing_in_group: list[str] = field(default_factory=list)
    unknown: list[str] = field(default_factory=list)
    # Variables no contact has, used with a fallback: what everyone gets instead.
    fallback_notes: list[str] = field(default_factory=list)


def rendered_messages(
    steps: list[Step],
    contact: Contact | None,
    known: set[str],
    lacking: Collection[str] = (),
) -> list[RenderedMessage]:
    """Each send step's message for ``contact``, with the variables it lacks, those
    of ``lacking`` (some members of the group lack them), and those no contact has
    ever had (not ``known``)."""
    channels = dict(Channel.objects.values_list("pk", "name"))
    path = contact_path(steps, contact)[0] if contact else None
    out = []
    for step in ordered(steps):
        if step["kind"] != SEND:
            continue
        body = step.get("body") or ""
        names = [n for n in placeholders(body) if n.upper() not in BUILTINS]
        message = RenderedMessage(
            step=step,
            channel=channels.get(step.get("channel_id") or 0, "no channel"),
            text=render(body, contact) if contact else body,
            media_url=step.get("media_url") or "",
            on_path=path is None or step["position"] in path,
        )
        if contact is not None:
            message.missing_for_contact = unfilled(body, contact)
        bare = placeholders(body, bare=True)
        with_fallback = fallbacks(body)
        for name in placeholders(body):
            if name in names and name not in known and name in with_fallback:
                message.fallback_notes.append(fallback_note(name, with_fallback[name]))
            elif name in names and name not in known:
                message.unknown.append(name)
            if name in lacking and name in bare:
                message.missing_in_group.append(name)
        out.append(message)
    return out


def group_lacking(
    group: AudienceGroup | None, steps: list[Step], known: set[str]
) -> tuple[set[str], bool]:
    """The variables of the send steps that some members of ``group`` have no value
    for, looked for among its first GROUP_SAMPLE members; and whether it has that
    many, so that others may not have been looked at (one query)."""
    if group is None:
        return set(), False
    wanted: dict[str, Q] = {}
    for step in steps:
        if step["kind"] != SEND:
            continue
        for name in placeholders(step.get("body") or "", bare=True):
            if name.upper() in ("NAME", "EMAIL"):
                # Contacts without a name or email get an empty one in the text.
                wanted[name] = Q(**{name.lower(): ""})
            elif name.upper() not in BUILTINS and name in known:
                wanted[name] = ~Q(data__has_key=name)
    if not wanted:
        return set(), False
    # A group of a million members, all of whom have a value, would be read in
    # full for each variable.
    found = (
        group.members()
        .order_by("pk")[:GROUP_SAMPLE]
        .aggregate(
            checked=Count("pk"),
            **{
                f"lack_{i}": Count("pk", filter=q)
                for i, q in enumerate(wanted.values())
            },
        )
    )
    lacking = {name for i, name in enumerate(wanted) if found[f"lack_{i}"]}
    return lacking, found["checked"] >= GROUP_SAMPLE


def sample_contact(
    query: str, group: AudienceGroup | None
) -> tuple[Contact | None, str]:
    """The contact named by ``query`` (phone, or id), else the group's first member,
    else any contact; with a note when the query found nobody."""
    pool = group.members() if group is not None else Contact.objects.all()
    if query.strip():
        text = query.strip()
        found = Contact.objects.filter(phone=text).first()
        if found is None and text.isdigit():
            found = Contact.objects.filter(pk=int(text)).first()
        if found is not None:
            return found, ""
        return pool.order_by("pk").first(), f"No contact has the phone {text!r}."
    return pool.order_by("pk").first(), ""


def preview_context(
    steps: list[Step],
    contact_query: str,
    group: AudienceGroup | None,
    *,
    contacts: bool = True,
) -> dict[str, Any]:
    """What the preview page shows; without ``contacts``, no contact's data."""
    contact, note = sample_contact(contact_query, group) if contacts else (None, "")
    known = set(Variable.objects.values_list("name", flat=True))
    lacking, sampled = group_lacking(group if contacts else None, steps, known)
    # What the flow's own reply steps keep is no typo, though no one replied yet.
    saved = {
        str((s.get("reply") or {}).get("save_as") or "")
        for s in steps
        if s["kind"] == REPLY
    } - {""}
    return {
        "answers": contact_path(steps, contact)[1] if contact else [],
        "svg": flow_svg(steps),
        "contact": contact,
        "contact_note": note,
        "rendered": rendered_messages(steps, contact, known | saved, lacking),
        "group": group,
        # The members looked at for missing values, when not all of them.
        "group_sample": f"{GROUP_SAMPLE:,}" if sampled else "",
    }
