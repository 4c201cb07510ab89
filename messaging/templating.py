"""Message templates: checking their text, and writing their versions.

A template's text is never changed in place: each edit writes the next
TemplateVersion, and what was published with an older one keeps it.
"""

from collections.abc import Callable
from dataclasses import dataclass, field

from django.contrib.auth.models import User
from django.db import transaction
from django.db.models import Max

from audiences.models import Variable
from base.audit import audit_record

from .models import Channel
from .rendering import BUILTINS, PLACEHOLDER, fallbacks, placeholders
from .templates import MediaAsset, MessageTemplate, TemplateVersion


class TemplateRefused(Exception):
    """The text cannot be kept as it stands; the text says why."""


@dataclass
class TextCheck:
    errors: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


def text_check(body: str, *, where: str = "The text") -> TextCheck:
    """Check the placeholders of ``body`` by the rendering rules: braces that make
    no placeholder are errors (they would be sent as typed); variables that are
    neither PHONE, NAME, EMAIL nor a known custom-data variable are warnings (a
    contact gets the fallback or nothing there, unless an event carries them)."""
    check = TextCheck()
    if not body.strip():
        check.errors.append(f"{where} is empty.")
        return check
    at = _stray_braces(body)
    if at is not None:
        check.errors.append(
            f"{where} has braces that make no placeholder near "
            f"{body[max(0, at - 15) : at + 15]!r}: write {{{{NOMBRE}}}} or "
            "{{NOMBRE|fallback}}, a variable name of letters, digits and _."
        )
    names = [n for n in placeholders(body) if n.upper() not in BUILTINS]
    known = set(Variable.objects.filter(name__in=names).values_list("name", flat=True))
    with_fallback = fallbacks(body)
    unknown = [n for n in names if n not in known and n not in with_fallback]
    if unknown:
        check.warnings.append(
            f"{where} names {', '.join(unknown)}, which no contact import has "
            "brought as custom data: contacts get nothing there "
            "(event properties of that name fill it on event flows)."
        )
    check.warnings.extend(
        f"{where}: {fallback_note(name, fallback)} (an event property {name} fills "
        "it on event flows)."
        for name, fallback in with_fallback.items()
        if name in names and name not in known
    )
    return check


def fallback_note(name: str, fallback: str) -> str:
    """What a placeholder of a variable no contact has, with a fallback, sends."""
    gets = repr(fallback) if fallback else "an empty text"
    return f"{name} is not a variable: every contact gets {gets}"


def _stray_braces(body: str) -> int | None:
    """Where the first {{ or }} that is part of no placeholder is, or None."""
    start = 0
    for match in [*PLACEHOLDER.finditer(body), None]:
        end = match.start() if match else len(body)
        found = [i for i in (body.find(b, start, end) for b in ("{{", "}}")) if i >= 0]
        if found:
            return min(found)
        start = match.end() if match else end
    return None


def template_kind_problem(kind: str) -> str | None:
    if kind and kind not in Channel.Kind.values:
        return f"{kind!r} is not a kind of channel ({', '.join(Channel.Kind.values)})."
    return None


def template_current(template: MessageTemplate) -> TemplateVersion | None:
    """Its newest version: the text steps that name it send once published."""
    return template.versions.order_by("-number").first()


def template_version_add(
    *,
    template: MessageTemplate,
    body: str,
    media: MediaAsset | None = None,
    media_url: str = "",
    actor: User | None = None,
) -> TemplateVersion | None:
    """Write the template's next version with this text and media, and tell the
    listeners. Return it, or None when the current version already says exactly
    this. Raises TemplateRefused when the text has errors (text_check) or names
    both an image of the library and a URL."""
    check = text_check(body)
    if media is not None and media_url:
        check.errors.append("Give either an image of the library or a URL, not both.")
    if check.errors:
        raise TemplateRefused(" ".join(check.errors))
    with transaction.atomic():
        # Locked: two edits at once must not both take the same number.
        MessageTemplate.objects.select_for_update().filter(pk=template.pk).first()
        current = template_current(template)
        if (
            current is not None
            and current.body == body
            and current.media_id == (media.pk if media else None)
            and current.media_url == media_url
        ):
            return None
        number = (template.versions.aggregate(n=Max("number"))["n"] or 0) + 1
        version = TemplateVersion.objects.create(
            template=template,
            number=number,
            body=body,
            media=media,
            media_url=media_url,
            created_by=actor,
        )
        audit_record(
            action="change",
            target=template,
            note=f"version {number}",
            actor=actor,
        )
        for listener in template_version_listeners:
            listener(version)
    return version


# Told of each new version (flows marks the published flows whose steps name the
# template as having unpublished changes); filled in AppConfig.ready() above.
template_version_listeners: list[Callable[[TemplateVersion], None]] = []

# Whoever uses templates names, in words, what uses one ("Flow Welcome, step 2");
# filled in AppConfig.ready() above. A template in use is not deleted.
template_user_finders: list[Callable[[MessageTemplate], list[str]]] = []


def templates_for_channel(channel: Channel) -> list[str]:
    """The templates written for ``channel`` alone, in words: they keep it
    (channels.channel_user_finders)."""
    return [
        f"Template {name} (for this channel only)"
        for name in MessageTemplate.objects.filter(channel=channel)
        .order_by("name")
        .values_list("name", flat=True)
    ]


def template_users(template: MessageTemplate) -> list[str]:
    return [found for finder in template_user_finders for found in finder(template)]
