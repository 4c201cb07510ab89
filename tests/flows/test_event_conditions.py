"""Event flows with conditions on the event's properties and its occurrences (seed
002): "the 3rd time within 7 days", counted among the contact's stored events."""

import datetime as dt
import threading
from typing import Any

import pytest
from django.db import connection, connections, transaction
from django.test import Client
from django.urls import reverse

from audiences.events import ContactEvent
from audiences.models import Contact
from flows.event_rules import FlowEventCondition
from flows.models import Flow, Journey
from flows.publishing import FlowRefused, flow_problems, flow_publish
from flows.triggers import event_record
from tests.conftest import wait_for

T0 = dt.datetime(2026, 12, 1, 15, 0, tzinfo=dt.UTC)


@pytest.fixture
def contact(db: None) -> Contact:
    return Contact.objects.create(phone="+525500998877", name="Carlos")


@pytest.fixture
def event_flow(make_flow: Any) -> Any:
    def make(
        conditions: list[tuple[str, str, str]] = (),  # type: ignore[assignment]
        **fields: Any,
    ) -> Flow:
        flow = make_flow(
            publish=False, trigger="event", event_name="cart_abandoned", **fields
        )
        for prop, op, value in conditions:
            FlowEventCondition.objects.create(
                flow=flow, property=prop, op=op, value=value
            )
        flow_publish(flow=flow)
        return flow

    return make


def report(contact: Contact, event_id: str, at: dt.datetime, **properties: Any) -> Any:
    return event_record(
        contact=contact,
        event="cart_abandoned",
        event_id=event_id,
        properties=properties,
        occurred_at=at,
        now=at + dt.timedelta(seconds=5),
    )


def test_the_third_occurrence_within_seven_days_enters_the_first_two_do_not(
    contact: Contact, event_flow: Any
) -> None:
    flow = event_flow([("total", "gt", "100")], event_occurrence=3, event_within=7)

    first = report(contact, "e1", T0, total=150)
    second = report(contact, "e2", T0 + dt.timedelta(days=2), total=120)
    assert first.entered == 0
    assert second.entered == 0
    assert first.passed_over == {flow.name: "occurrence 1 of 3 within 7 days"}
    assert second.passed_over == {flow.name: "occurrence 2 of 3 within 7 days"}
    assert not Journey.objects.exists()

    third = report(contact, "e3", T0 + dt.timedelta(days=6), total=101)

    assert third.entered == 1
    assert third.entered_flows == [flow.name]
    journey = Journey.objects.get(contact=contact)
    assert journey.cohort.flow_version.flow == flow
    assert journey.context == {"total": 101}  # the event's properties, for templates
    fourth = report(contact, "e4", T0 + dt.timedelta(days=6, hours=1), total=500)
    assert fourth.entered == 0
    assert fourth.passed_over == {
        flow.name: "occurrence 4 within 7 days; only the 3rd enters"
    }


def test_an_occurrence_outside_the_window_does_not_count(
    contact: Contact, event_flow: Any
) -> None:
    flow = event_flow(event_occurrence=3, event_within=7)

    report(contact, "e1", T0)
    report(contact, "e2", T0 + dt.timedelta(days=5))
    # e1 is 8 days before: only e2 and this one are within the 7 days.
    day8 = report(contact, "e3", T0 + dt.timedelta(days=8))
    assert day8.passed_over == {flow.name: "occurrence 2 of 3 within 7 days"}
    day9 = report(contact, "e4", T0 + dt.timedelta(days=9))
    assert day9.entered_flows == [flow.name]


def test_without_a_window_every_stored_occurrence_counts(
    contact: Contact, event_flow: Any
) -> None:
    flow = event_flow(event_occurrence=2)

    report(contact, "e1", T0)
    later = report(contact, "e2", T0 + dt.timedelta(days=60))

    assert later.entered_flows == [flow.name]


def test_an_event_reported_late_counts_in_its_own_time(
    contact: Contact, event_flow: Any
) -> None:
    event_flow(event_occurrence=2, event_within=1)
    report(contact, "e1", T0)
    report(contact, "e3", T0 + dt.timedelta(days=3))

    # Arrives after e3 but happened a few hours after e1: the 2nd within a day.
    late = report(contact, "e2", T0 + dt.timedelta(hours=3))

    assert late.entered == 1


@pytest.mark.parametrize(
    ("op", "value", "properties", "enters"),
    [
        ("equals", "gold", {"plan": "gold"}, True),
        ("equals", "gold", {"plan": "silver"}, False),
        ("equals", "5", {"plan": 5}, True),
        ("equals", "5", {"plan": 5.0}, True),
        ("equals", "5", {"plan": "5"}, True),
        ("equals", "5", {"plan": 6}, False),
        ("equals", "true", {"plan": True}, True),
        ("equals", "gold", {}, False),
        ("contains", "RED", {"plan": "dark red"}, True),
        ("contains", "red", {"plan": "blue"}, False),
        ("gt", "100", {"plan": 150}, True),
        ("gt", "100", {"plan": 100}, False),
        ("gt", "9", {"plan": 10}, True),  # as numbers, not as text
        ("gt", "100", {"plan": "abc"}, False),
        ("gt", "100", {"plan": "150"}, False),  # only JSON numbers are numbers
        ("lt", "100", {"plan": 99.5}, True),
        ("lt", "100", {"plan": 100}, False),
        ("lt", "100", {"plan": "abc"}, False),
        ("lt", "100", {}, False),
        ("in", "gold, platinum", {"plan": "platinum"}, True),
        ("in", "gold, platinum", {"plan": "silver"}, False),
        ("in", "1,2,3", {"plan": 2}, True),
    ],
)
def test_each_condition_on_a_property(
    contact: Contact,
    event_flow: Any,
    op: str,
    value: str,
    properties: dict[str, Any],
    enters: bool,
) -> None:
    flow = event_flow([("plan", op, value)])

    outcome = report(contact, "e1", T0, **properties)

    assert outcome.entered == (1 if enters else 0), outcome.passed_over
    if not enters:
        condition = flow.event_conditions.get()
        assert outcome.passed_over == {
            flow.name: f"the event's properties fail: {condition}"
        }


def test_a_property_that_does_not_match_keeps_the_contact_off_and_does_not_count(
    contact: Contact, event_flow: Any
) -> None:
    flow = event_flow(
        [("plan", "equals", "gold"), ("total", "gt", "100")], event_occurrence=2
    )

    report(contact, "e1", T0, plan="gold", total=500)
    off = report(contact, "e2", T0 + dt.timedelta(hours=1), plan="silver", total=500)
    assert off.passed_over == {
        flow.name: "the event's properties fail: plan equals gold"
    }
    # e2 did not count: this is the 2nd matching occurrence.
    on = report(contact, "e3", T0 + dt.timedelta(hours=2), plan="gold", total=200)
    assert on.entered_flows == [flow.name]
    assert Journey.objects.filter(contact=contact).count() == 1


def test_the_same_event_id_twice_is_stored_once_and_counts_once(
    contact: Contact, event_flow: Any
) -> None:
    flow = event_flow(event_occurrence=2)

    first = report(contact, "e1", T0)
    again = report(contact, "e1", T0 + dt.timedelta(minutes=1))

    assert first.stored
    assert not again.stored
    assert again.passed_over == {flow.name: "occurrence 1 of 2"}
    assert ContactEvent.objects.filter(contact=contact).count() == 1
    second = report(contact, "e2", T0 + dt.timedelta(minutes=2))
    assert second.entered_flows == [flow.name]
    # Reported again after it entered: stored once, entered once.
    repeat = report(contact, "e2", T0 + dt.timedelta(minutes=3))
    assert repeat.passed_over == {flow.name: "already entered for the event id e2"}
    assert Journey.objects.filter(contact=contact).count() == 1


def test_flows_without_conditions_enter_on_every_event(
    contact: Contact, event_flow: Any
) -> None:
    flow = event_flow()

    outcomes = [report(contact, f"e{n}", T0 + dt.timedelta(hours=n)) for n in (1, 2)]

    assert [o.entered_flows for o in outcomes] == [[flow.name], [flow.name]]


def test_publishing_refuses_unusable_conditions_and_a_window_past_retention(
    make_flow: Any, settings: Any
) -> None:
    settings.EVENTS_RETENTION_DAYS = 30
    flow = make_flow(
        publish=False, trigger="event", event_name="cart_abandoned", event_within=45
    )
    FlowEventCondition.objects.create(flow=flow, property="total", op="gt", value="x")
    FlowEventCondition.objects.create(
        flow=flow, property="9lives", op="equals", value="1"
    )

    problems = flow_problems(flow)

    assert (
        "Event condition 'total is greater than x': 'is greater than' compares "
        "numbers; 'x' is not one." in problems
    )
    assert any(p.startswith("Event condition '9lives equals 1'") for p in problems)
    assert (
        "Occurrences within 45 days cannot be counted: events are kept 30 days "
        "(EVENTS_RETENTION_DAYS)." in problems
    )
    assert any(p.startswith("'Within days' counts occurrences") for p in problems)
    with pytest.raises(FlowRefused):
        flow_publish(flow=flow)


def test_the_flow_page_shows_and_saves_the_event_conditions(
    admin_client: Client, make_channel: Any
) -> None:
    channel = make_channel()
    url = reverse("admin:flows_flow_add")
    page = admin_client.get(url).content.decode()
    assert "event_conditions-TOTAL_FORMS" in page
    assert "id_event_occurrence" in page
    assert "id_event_within" in page
    data = {
        "name": "Third cart",
        "trigger": "event",
        "event_name": "cart_abandoned",
        "event_occurrence": "3",
        "event_within": "7",
        "steps-TOTAL_FORMS": "2",
        "steps-INITIAL_FORMS": "0",
        "steps-0-position": "1",
        "steps-0-kind": "send",
        "steps-0-channel": str(channel.pk),
        "steps-0-body": "Hola",
        "steps-1-position": "2",
        "steps-1-kind": "end",
        "versions-TOTAL_FORMS": "0",
        "versions-INITIAL_FORMS": "0",
        "event_conditions-TOTAL_FORMS": "2",
        "event_conditions-INITIAL_FORMS": "0",
        "event_conditions-0-property": "total",
        "event_conditions-0-op": "gt",
        "event_conditions-0-value": "100",
        "event_conditions-1-property": "plan",
        "event_conditions-1-op": "gt",
        "event_conditions-1-value": "gold",
    }

    refused = admin_client.post(url, data)

    assert refused.status_code == 200
    assert "&#x27;is greater than&#x27; compares numbers" in refused.content.decode()
    data["event_conditions-1-op"] = "equals"
    saved = admin_client.post(url, data)
    assert saved.status_code == 302, saved.content.decode()[:3000]
    flow = Flow.objects.get(name="Third cart")
    assert (flow.event_occurrence, flow.event_within) == (3, 7)
    assert sorted(map(str, flow.event_conditions.all())) == [
        "plan equals gold",
        "total is greater than 100",
    ]


def _waiting_for_locks() -> int:
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_stat_clear_snapshot()")
        cursor.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' "
            "AND datname = current_database()"
        )
        return int(cursor.fetchone()[0])


@pytest.mark.postgresql
@pytest.mark.django_db(transaction=True)
def test_events_of_one_contact_arriving_together_are_counted_in_turn(
    make_flow: Any,
) -> None:
    make_flow(
        trigger="event", event_name="cart_abandoned", event_occurrence=2, publish=True
    )
    contact = Contact.objects.create(phone="+525500998877")
    errors: list[BaseException] = []

    def arrive(n: int) -> None:
        try:
            report(contact, f"e{n}", T0)  # the same moment: counted by arrival
        except BaseException as exc:  # reported by the test below
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=arrive, args=(n,)) for n in (1, 2)]
    with transaction.atomic():
        # Holding the contact, as an event being counted does: both wait for it.
        list(Contact.objects.select_for_update().filter(pk=contact.pk))
        for thread in threads:
            thread.start()
        both_wait = wait_for(lambda: _waiting_for_locks() == 2, timeout=10)
    for thread in threads:
        thread.join(timeout=30)

    assert both_wait
    assert not errors
    # Each counted the other if it came first: one of them is the 2nd occurrence.
    assert Journey.objects.filter(contact=contact).count() == 1
