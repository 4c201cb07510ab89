"""A contact's timeline, a page at a time, newest first.

Events are ordered by their exact time, then by what comes first when two share
it (a contact enters a flow, then its message is written, then it replies...), then
by their row's id. A page is found from the event before or after it (keyset paging:
each kind of event read by the contact's index, its newest rows past the cursor
first), so the hundredth page of a long history costs what the first does.
"""

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.db.models import Case, F, Q, QuerySet, When
from django.db.models.functions import Coalesce
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.utils import timezone

from audiences.models import Contact
from flows.models import Journey
from messaging.models import InboundMessage, Message

from .timeline import Event, journey_events, message_event, reply_event

PER_PAGE = 50
EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
# What comes first of events at the same instant.
RANKS = {"entered": 0, "message": 1, "reply": 2, "opt-out": 3, "waiting": 4, "left": 5}


@dataclass(frozen=True, order=True)
class Key:
    """Where an event sits on the timeline; a page's cursor."""

    at: dt.datetime
    rank: int
    id: int

    def token(self) -> str:
        # Whole microseconds since the epoch: a float would round some of them.
        micros = (self.at - EPOCH) // dt.timedelta(microseconds=1)
        return f"{micros}_{self.rank}_{self.id}"

    @classmethod
    def parse(cls, token: str) -> "Key | None":
        try:
            micros, rank, pk = (int(part) for part in token.split("_"))
            return cls(EPOCH + dt.timedelta(microseconds=micros), rank, pk)
        except (ValueError, OverflowError):
            return None


@dataclass
class TimelinePage:
    events: list[Event]
    older: str  # the cursor of the next (older) page; "" on the last
    newer: str  # the cursor of the previous (newer) page; "" on the first


def _past(rows: QuerySet[Any], rank: int, cursor: Key | None, older: bool) -> Any:
    """``rows`` (annotated with ``at``) beyond ``cursor``, nearest to it first."""
    if cursor is not None:
        after = "lt" if older else "gt"
        same_time = {"at": cursor.at}
        if rank == cursor.rank:
            beyond = Q(**{f"at__{after}": cursor.at}) | Q(
                **same_time, **{f"id__{after}": cursor.id}
            )
        elif (rank < cursor.rank) == older:
            beyond = Q(**{f"at__{after}e": cursor.at})
        else:
            beyond = Q(**{f"at__{after}": cursor.at})
        rows = rows.filter(beyond)
    order = ("-at", "-id") if older else ("at", "id")
    return rows.order_by(*order)[: PER_PAGE + 1]


def _events(
    contact: Contact, now: dt.datetime, cursor: Key | None, older: bool
) -> list[tuple[Key, Event]]:
    """Up to PER_PAGE + 1 events of each kind past the cursor, with their keys."""
    found: list[tuple[Key, Event]] = []
    journeys = Journey.objects.filter(contact=contact).select_related(
        "flow", "cohort__run__campaign"
    )
    kinds = {
        "entered": journeys.annotate(at=F("entered_at")),
        "left": journeys.exclude(status=Journey.Status.ACTIVE).annotate(
            at=Coalesce("ended_at", "entered_at")
        ),
        "waiting": journeys.filter(
            status=Journey.Status.ACTIVE, due_at__gt=now
        ).annotate(at=F("due_at")),
    }
    for kind, rows in kinds.items():
        rank = RANKS[kind]
        for journey in _past(rows, rank, cursor, older):
            entered, *later = journey_events(journey, now)
            event = entered if kind == "entered" else later[0]
            found.append((Key(journey.at, rank, journey.pk), event))
    gone_out = (Message.Status.SENT, Message.Status.DELIVERED, Message.Status.FAILED)
    messages = (
        Message.objects.filter(contact=contact)
        .select_related("channel", "batch__cohort__run__campaign")
        .annotate(
            at=Case(
                When(status__in=gone_out, then=Coalesce("sent_at", "created_at")),
                default=F("created_at"),
            )
        )
    )
    for message in _past(messages, RANKS["message"], cursor, older):
        found.append(
            (Key(message.at, RANKS["message"], message.pk), message_event(message))
        )
    replies = InboundMessage.objects.filter(contact=contact).annotate(
        at=F("received_at")
    )
    for reply in _past(replies, RANKS["reply"], cursor, older):
        found.append((Key(reply.at, RANKS["reply"], reply.pk), reply_event(reply)))
    if contact.opted_out_at and not replies.filter(opted_out=True).exists():
        key = Key(contact.opted_out_at, RANKS["opt-out"], contact.pk)
        if cursor is None or (key < cursor if older else key > cursor):
            found.append(
                (
                    key,
                    Event(
                        contact.opted_out_at,
                        "opt-out",
                        "opted-out",
                        "Opted out",
                        contact.opt_out_source,
                    ),
                )
            )
    return found


def timeline_page(
    contact: Contact,
    *,
    before: str = "",
    after: str = "",
    now: dt.datetime | None = None,
) -> TimelinePage:
    """The contact's events older than the cursor ``before`` (or newer than
    ``after``; neither: the newest), PER_PAGE of them, newest first, with the
    cursors of the pages on either side. A handful of queries, however long the
    contact's history; a cursor that cannot be read gives the newest page."""
    now = now or timezone.now()
    cursor = Key.parse(after or before) if (after or before) else None
    older = not (after and cursor is not None)
    found = sorted(_events(contact, now, cursor, older), key=lambda pair: pair[0])
    if older:
        found.reverse()
    more = len(found) > PER_PAGE
    shown = found[:PER_PAGE]
    if not older:
        shown.reverse()  # newest first
    if not shown:
        return TimelinePage([], "", "")
    newest, oldest = shown[0][0], shown[-1][0]
    has_older = more if older else True
    has_newer = (cursor is not None) if older else more
    return TimelinePage(
        [event for _, event in shown],
        oldest.token() if has_older else "",
        newest.token() if has_newer else "",
    )


def contact_timeline(contact: Contact, now: dt.datetime | None = None) -> list[Event]:
    """The contact's newest PER_PAGE events, newest first."""
    return timeline_page(contact, now=now).events


def timeline_context(contact: Contact) -> dict[str, Any]:
    """What the timeline section of the contact's page reads: its first page."""
    page = timeline_page(contact)
    return {"events": page.events, "page": page, "contact": contact}


def timeline_view(request: HttpRequest, contact_id: int) -> HttpResponse:
    """A page of the contact's timeline, for those who may see its messages."""
    if not request.user.has_perm("messaging.view_message"):
        raise PermissionDenied
    contact = get_object_or_404(Contact, pk=contact_id)
    page = timeline_page(
        contact,
        before=request.GET.get("before", ""),
        after=request.GET.get("after", ""),
    )
    context = {
        **admin.site.each_context(request),
        "title": f"Timeline of {contact}",
        "contact": contact,
        "events": page.events,
        "page": page,
        "per_page": PER_PAGE,
    }
    return TemplateResponse(request, "admin/contact_timeline.html", context)
