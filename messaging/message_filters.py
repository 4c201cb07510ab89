"""Filters of the messages list that the indexes serve on millions of rows.

Messages know their batch, not the campaign or run that wrote it: apps above
messaging contribute filters of their own (campaigns: by campaign, by run) through
``message_filter_register`` in their AppConfig.ready(), mapping what they own to
batch ids, which the (batch, status) index finds.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.contrib import admin
from django.contrib.admin.options import ModelAdmin
from django.db.models import Model, QuerySet
from django.http import HttpRequest
from django.utils import timezone

from .models import Channel, Message

_registered: list[type[admin.ListFilter]] = []


def message_filter_register(filter_class: type[admin.ListFilter]) -> None:
    """Offer ``filter_class`` on the messages list, after the status and channel
    filters; registered again, it is offered once."""
    if filter_class not in _registered:
        _registered.append(filter_class)


def message_filters() -> list[type[admin.ListFilter]]:
    return list(_registered)


# A channel alone is looked for among this many of the newest messages: no index
# serves the channel (each would cost every message's writes), and a channel with
# few messages would otherwise be looked for through the whole table.
CHANNEL_WINDOW = 250_000
# What narrows the list through an index or an id range.
NARROWING = ("campaign", "run", "date_from", "date_until", "q", "batch__id__exact")


class ChannelFilter(admin.SimpleListFilter):
    """Choices from the channels table (a handful of rows), never from the
    messages."""

    title = "channel"
    parameter_name = "channel"
    template = "admin/messaging/message/channel_filter.html"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return [
            (str(pk), name) for pk, name in Channel.objects.values_list("pk", "name")
        ]

    def alone(self, request: HttpRequest) -> bool:
        return not any(request.GET.get(name) for name in NARROWING)

    def queryset(
        self, request: HttpRequest, queryset: QuerySet[Message]
    ) -> QuerySet[Message]:
        value = self.value()
        if not value:
            return queryset
        if not value.isdigit():
            return queryset.none()
        queryset = queryset.filter(channel_id=int(value))
        if self.alone(request):
            newest = Message.objects.order_by("-id").values_list("id", flat=True)
            last = newest.first()
            if last is not None:
                queryset = queryset.filter(id__gt=last - CHANNEL_WINDOW)
        return queryset

    def choices(self, changelist: Any) -> Any:
        note = (
            f"Among the newest {CHANNEL_WINDOW:,} messages: choose a campaign, a run "
            "or dates too to look further back."
            if self.alone(self.request)
            else ""
        )
        for choice in super().choices(changelist):
            yield {**choice, "note": note if self.value() else ""}


def first_id_from(moment: dt.datetime) -> int | None:
    """The id of the first message written at ``moment`` or later, found along the
    primary key (ids grow with the time of writing): some twenty probes of one row
    each, where a filter on the unindexed ``created_at`` would read the table."""
    low = Message.objects.order_by("id").values_list("id", flat=True).first()
    high = Message.objects.order_by("-id").values_list("id", flat=True).first()
    if low is None or high is None:
        return None
    high += 1  # the answer lies in [low, high]; high: none written since
    while low < high:
        middle = (low + high) // 2
        row = (
            Message.objects.filter(id__gte=middle)
            .order_by("id")
            .values_list("id", "created_at")
            .first()
        )
        if row is None or row[1] >= moment:
            high = middle
        else:
            low = row[0] + 1
    return low


DATE_KINDS = {"written": "created_at", "sent": "sent_at"}


class DateFilter(admin.ListFilter):
    """Messages written (or sent) between two days, in the operator's time zone.

    Served by an id range (first_id_from): written messages by both ends, sent ones
    by the end alone (a message is sent after it is written)."""

    title = "date"
    template = "admin/messaging/message/date_filter.html"
    parameters = ("date_of", "date_from", "date_until")

    def __init__(
        self,
        request: HttpRequest,
        params: dict[str, Any],
        model: type[Model],
        model_admin: ModelAdmin[Any],
    ) -> None:
        super().__init__(request, params, model, model_admin)
        self.values: dict[str, str] = {}
        for name in self.parameters:
            if name in params:
                popped = params.pop(name)
                value = str(popped[-1] if isinstance(popped, list) else popped)
                self.used_parameters[name] = value
                self.values[name] = value
        self.kind = self.values.get("date_of") or "written"
        if self.kind not in DATE_KINDS:
            self.kind = "written"
        self.start = _day(self.values.get("date_from", ""))
        self.end = _day(self.values.get("date_until", ""))
        self.refusal = ""
        for name in ("date_from", "date_until"):
            typed = self.values.get(name, "")
            if typed and _day(typed) is None:
                self.refusal = f"{typed!r} is not a day written YYYY-MM-DD: ignored."

    def has_output(self) -> bool:
        return True

    def expected_parameters(self) -> list[str | None]:
        return list(self.parameters)

    def queryset(
        self, request: HttpRequest, queryset: QuerySet[Message]
    ) -> QuerySet[Message]:
        column = DATE_KINDS[self.kind]
        if self.start is not None:
            if self.kind == "written":
                first = first_id_from(self.start)
                queryset = queryset.filter(id__gte=first) if first else queryset
            queryset = queryset.filter(**{f"{column}__gte": self.start})
        if self.end is not None:
            after = self.end + dt.timedelta(days=1)
            last = first_id_from(after)
            if last is not None:
                queryset = queryset.filter(id__lt=last)
            queryset = queryset.filter(**{f"{column}__lt": after})
        return queryset

    def choices(self, changelist: Any) -> Any:
        today = timezone.localdate()
        presets = [
            ("Any date", None, None),
            ("Today", today, today),
            ("Past 7 days", today - dt.timedelta(days=6), today),
            ("Past 30 days", today - dt.timedelta(days=29), today),
        ]
        chosen = (self.values.get("date_from", ""), self.values.get("date_until", ""))
        for label, start, end in presets:
            wanted = (
                start.isoformat() if start else "",
                end.isoformat() if end else "",
            )
            yield {
                "display": label,
                "selected": chosen == wanted,
                "query_string": changelist.get_query_string(
                    {"date_from": wanted[0], "date_until": wanted[1]} if start else {},
                    remove=[] if start else list(self.parameters),
                ),
            }
        hidden = [
            (name, value)
            for name, value in changelist.params.items()
            if name not in self.parameters
        ]
        yield {
            "form": True,
            "hidden": hidden,
            "kind": self.kind,
            "kinds": [("written", "written"), ("sent", "sent")],
            "date_from": self.values.get("date_from", ""),
            "date_until": self.values.get("date_until", ""),
            "refusal": self.refusal,
        }


def _day(text: str) -> dt.datetime | None:
    """The start of the day written YYYY-MM-DD, in the current time zone."""
    try:
        day = dt.date.fromisoformat(text.strip())
    except ValueError:
        return None
    return timezone.make_aware(dt.datetime.combine(day, dt.time()))
