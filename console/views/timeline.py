"""A contact's timeline: the events of its journeys, messages and replies
(console.views.timeline_pages reads them a page at a time)."""

import datetime as dt
from dataclasses import dataclass

from django.utils import timezone
from django.utils.formats import date_format

from flows.models import Cohort, Journey
from messaging.capping import capped_until
from messaging.models import InboundMessage, Message


@dataclass
class Event:
    at: dt.datetime
    kind: str  # "journey", "message", "reply", "opt-out"
    status: str  # a word for the badge: sent, failed, waiting ...
    title: str
    detail: str = ""
    text: str = ""


def _when(moment: dt.datetime | None) -> str:
    if moment is None:
        return ""
    return date_format(timezone.localtime(moment), "Y-m-d H:i")


def _origin(run_campaign: str | None, flow: str, entry_key: str) -> str:
    if run_campaign:
        return f"campaign {run_campaign!r}"
    if entry_key:
        return f"flow {flow!r} ({entry_key})"
    return f"flow {flow!r}"


def _campaign_of(cohort: Cohort) -> str | None:
    """The name of the campaign whose run started the cohort, if one did."""
    run = getattr(cohort, "run", None)  # the reverse one-to-one is absent otherwise
    return run.campaign.name if run is not None else None


def journey_events(journey: Journey, now: dt.datetime) -> list[Event]:
    campaign = _campaign_of(journey.cohort)
    where = _origin(campaign, journey.flow.name, journey.entry_key)
    events = [Event(journey.entered_at, "journey", "entered", f"Entered {where}")]
    if journey.status == Journey.Status.ACTIVE:
        if journey.due_at and journey.due_at > now:
            events.append(
                Event(
                    journey.due_at,
                    "journey",
                    "waiting",
                    f"Waiting on {where}",
                    f"moves on at {_when(journey.due_at)} (step {journey.step})",
                )
            )
    else:
        status = {
            Journey.Status.ENDED: "ended",
            Journey.Status.CANCELLED: "cancelled",
            Journey.Status.FAILED: "failed",
        }[Journey.Status(journey.status)]
        reason = journey.end_reason or journey.get_status_display()
        events.append(
            Event(
                journey.ended_at or journey.entered_at,
                "journey",
                status,
                f"Left {where}",
                _reason(reason),
            )
        )
    return events


def _reason(text: str) -> str:
    known = {
        "campaign ended": "cancelled when the campaign was finished",
        "opted out": "skipped: the contact opted out",
    }
    return known.get(text, text)


def message_event(message: Message) -> Event:
    channel = message.channel.name
    cohort = getattr(message.batch, "cohort", None)
    campaign = _campaign_of(cohort) if cohort is not None else None
    origin = f" (campaign {campaign!r})" if campaign else ""
    state = message.state
    if state == "sending":
        return Event(
            message.created_at, "message", "sending", f"Being sent on {channel}{origin}"
        )
    if state == Message.Status.QUEUED:
        detail = ""
        if message.not_before and message.attempts:
            retry = _when(message.not_before)
            detail = f"retry {message.attempts + 1} at {retry}: {message.error}"
        return Event(
            message.created_at,
            "message",
            "queued",
            f"Queued on {channel}{origin}",
            detail,
        )
    if state == Message.Status.DEFERRED:
        capped = capped_until(message)
        return Event(
            message.created_at,
            "message",
            "deferred",
            f"Held on {channel}{origin}",
            f"{message.error}; goes out at {_when(capped)}"
            if capped
            else "outside active hours (the channel's or the campaign's); goes out at "
            + _when(message.not_before),
        )
    if state in (Message.Status.SENT, Message.Status.DELIVERED):
        verb = "Delivered" if state == Message.Status.DELIVERED else "Sent"
        return Event(
            message.sent_at or message.created_at,
            "message",
            str(state),
            f"{verb} on {channel}{origin}",
            _how_it_went_out(message),
            text=message.body,
        )
    if state == Message.Status.FAILED:
        tries = f" after {message.attempts} attempts" if message.attempts > 1 else ""
        return Event(
            message.sent_at or message.created_at,
            "message",
            "failed",
            f"Failed on {channel}{origin}{tries}",
            message.error,
            message.body,
        )
    if state == Message.Status.SKIPPED:
        return Event(
            message.created_at,
            "message",
            "skipped",
            f"Skipped on {channel}{origin}",
            "the contact had opted out",
        )
    return Event(
        message.created_at,
        "message",
        "cancelled",
        f"Cancelled on {channel}{origin}",
        _reason(message.error) if message.error else "",
    )


def _how_it_went_out(message: Message) -> str:
    """What a sent message went through first: a wait for active hours (a deferred
    message is released with its attempt count unchanged), or failed attempts."""
    if message.attempts > 1:
        return f"on attempt {message.attempts} (the earlier ones failed)"
    if message.not_before is not None and message.not_before > message.created_at:
        return "held for active hours until " + _when(message.not_before)
    return ""


def reply_event(reply: InboundMessage) -> Event:
    return Event(
        reply.received_at,
        "reply",
        "opted-out" if reply.opted_out else "reply",
        "Replied" + (": opted out" if reply.opted_out else ""),
        text=reply.body,
    )
