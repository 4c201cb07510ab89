"""Send steps that name a message template or an image of the media library.

Publishing pins what they name: the template's current version (its id, its text
and media copied into the snapshot's body and media_url) and the image's public
URL, so a published version sends what it was published with. A newer template
version marks the published flows whose steps name it as having unpublished
changes; they send it once published again.
"""

from typing import Any

from django.conf import settings

from messaging.media import media_public_url
from messaging.templates import MediaAsset, MessageTemplate, TemplateVersion
from messaging.templating import template_current

from .graph import SEND
from .models import Flow, FlowStep, FlowVersion


def pinned_content(step: FlowStep) -> dict[str, Any]:
    """What a step's template and image add to its snapshot; empty when it names
    neither (the snapshots of such steps are those made before templates)."""
    found: dict[str, Any] = {}
    if step.template_id is not None:
        version = template_current(step.template)  # type: ignore[arg-type]
        found.update(template_id=step.template_id, template_version_id=None)
        if version is not None:
            found.update(
                template_version_id=version.pk,
                body=version.body,
                media_url=(
                    media_public_url(version.media)
                    if version.media is not None
                    else version.media_url
                ),
            )
    if step.media_id is not None:
        found.update(media_id=step.media_id, media_url=media_public_url(step.media))  # type: ignore[arg-type]
    return found


def step_content_problems(step: FlowStep, where: str) -> list[str]:
    """What is wrong with what a send step sends: text and template both, or
    neither; a URL and an image both; a template for another channel."""
    problems: list[str] = []
    template = step.template
    current = template_current(template) if template is not None else None
    if template is not None and step.body.strip():
        problems.append(
            f"{where}: give either the text or the template "
            f"{template.name!r}, not both (empty the text to send the template)."
        )
    elif template is None and not step.body.strip():
        problems.append(f"{where}: the message text is empty (or choose a template).")
    if step.media_id is not None and step.media_url:
        problems.append(
            f"{where}: give either an image URL or an image of the media library, "
            "not both."
        )
    if template is not None:
        if current is None:
            problems.append(f"{where}: template {template.name!r} has no text yet.")
        channel = step.channel
        if channel is not None and (
            (template.channel_id and template.channel_id != channel.pk)
            or (template.channel_kind and template.channel_kind != channel.kind)
        ):
            problems.append(
                f"{where}: template {template.name!r} is not for channel "
                f"{channel.name!r}; choose a template for it."
            )
    uses_image = step.media_id is not None or (
        current is not None and current.media_id is not None
    )
    if (
        uses_image
        and not settings.FLOWCAST_PUBLIC_URL
        and step.channel is not None
        and step.channel.kind != "console"
    ):
        problems.append(
            f"{where}: providers fetch the image from FLOWCAST_PUBLIC_URL, which is "
            "not set."
        )
    return problems


def flows_note_template_version(version: TemplateVersion) -> None:
    """A template has a new version: published flows whose steps name it now differ
    from what they send (templating.template_version_listeners)."""
    Flow.objects.filter(
        status=Flow.Status.PUBLISHED,
        current_version__isnull=False,
        has_draft_changes=False,
        pk__in=FlowStep.objects.filter(template_id=version.template_id).values(
            "flow_id"
        ),
    ).update(has_draft_changes=True)


def _users(key: str, pk: int, steps: Any) -> list[str]:
    used = [
        f"Flow {s.flow.name}, step {s.position} (working copy)"
        for s in steps.select_related("flow").order_by("flow__name", "position")
    ]
    # Versions are few (one a publish); their steps are JSON, read here rather
    # than searched in SQL, which SQLite cannot do.
    versions = FlowVersion.objects.select_related("flow").order_by(
        "flow__name", "number"
    )
    used += [
        f"Flow {version.flow.name}, published version {version.number}"
        for version in versions
        if any(step["kind"] == SEND and step.get(key) == pk for step in version.steps)
    ]
    return used


def flow_steps_with_template(template: MessageTemplate) -> list[str]:
    """The steps and published versions that send ``template``, in words."""
    return _users(
        "template_id", template.pk, FlowStep.objects.filter(template=template)
    )


def flow_steps_with_media(asset: MediaAsset) -> list[str]:
    """The steps and published versions that send ``asset``, in words."""
    return _users("media_id", asset.pk, FlowStep.objects.filter(media=asset))
