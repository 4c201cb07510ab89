"""Starting a flow for one contact now, asked for by another system (the API): the
contact enters the flow's published version through its entries cohort, as an
event puts it there (flows.triggers), once per key."""

import datetime as dt
import hashlib
from typing import Any

from audiences.models import Contact
from messaging.transactional import opted_out_refusal

from .cohorts import entries_cohort
from .engine import journeys_enter
from .models import Flow, Journey

ENTRY_KEY_ROOM = 200  # Journey.entry_key's length


class FlowStartRefused(Exception):
    """A start that may not happen; the text says why, for the caller."""


def start_entry_key(key: str) -> str:
    """The journey's entry key for a start asked for with ``key``: "api:<key>", or
    the key's digest when it would not fit (cut short, two keys could meet)."""
    entry_key = f"api:{key}"
    if len(entry_key) <= ENTRY_KEY_ROOM:
        return entry_key
    return f"api:sha256:{hashlib.sha256(key.encode()).hexdigest()}"


def flow_start_now(
    *,
    flow: Flow,
    contact: Contact,
    key: str,
    context: dict[str, Any] | None = None,
    now: dt.datetime,
) -> Journey:
    """Put ``contact`` on the published version of ``flow`` and carry it on at once
    (its first messages are queued when the transaction commits); ``context`` is
    read by the flow's templates as an event's properties are. At most once per
    (flow, contact, key). Raise FlowStartRefused, saying why, when the flow is not
    published, the contact opted out or already entered the flow for this key;
    FlowNotRunnable when a channel the version sends on is gone."""
    flow = Flow.objects.select_related("current_version").get(pk=flow.pk)
    version = flow.current_version
    if flow.status != Flow.Status.PUBLISHED or version is None:
        raise FlowStartRefused(
            f"Flow {flow.name!r} is {flow.get_status_display().lower()}: only a "
            "published flow can be started."
        )
    refusal = opted_out_refusal(contact)
    if refusal:
        raise FlowStartRefused(refusal)
    entry_key = start_entry_key(key)
    entered = journeys_enter(
        cohort=entries_cohort(version),
        contacts=Contact.objects.filter(pk=contact.pk),
        entry_key=entry_key,
        context=context or {},
        now=now,
    )
    if not entered:
        raise FlowStartRefused(
            f"{contact} already entered flow {flow.name!r} for the key {key!r}."
        )
    return Journey.objects.select_related("flow_version").get(
        flow=flow, contact=contact, entry_key=entry_key
    )
