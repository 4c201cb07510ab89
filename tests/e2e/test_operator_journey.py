"""The operator's day in the console, in a real browser: sign in, import the
README's example contacts into a new group, build, publish and preview a flow,
create a campaign, watch its messages go out, then suspend, resume and finish it.

The web server is the live server; a real Celery worker (threads of this process, on
Redis) reads the import and sends the messages through the console channel. Beat is
the only thing stood in for: the campaign's tick is called here, at its start time.
"""

import datetime as dt
import re
import time
from pathlib import Path
from typing import Any

import pytest
from django.utils import timezone
from playwright.sync_api import Dialog, Locator, Page, expect

from audiences.models import AudienceGroup, Contact
from campaigns.models import Campaign
from campaigns.runs import campaign_tick
from flows.models import Flow
from messaging.models import Channel, Message
from tests.audiences.files import SEED, write_xlsx
from tests.e2e.conftest import WORK_TIMEOUT_MS, Screens, import_writing_held, sign_in

GROUP = "Seed contacts (import)"
FLOW = "Seed welcome"
CAMPAIGN = "Seed welcome campaign"
NAMES = [row[1] for row in SEED[1:]]


def reload_until(page: Page, target: Locator, text: str) -> None:
    """Reload a page that does not refresh itself until ``target`` shows ``text``."""
    deadline = time.monotonic() + WORK_TIMEOUT_MS / 1000
    while time.monotonic() < deadline:
        if target.count() and text in (target.first.text_content() or ""):
            return
        page.wait_for_timeout(300)
        page.reload()
    expect(target.first).to_contain_text(text, timeout=1)


def choose(page: Page, field_id: str, search: str, option: str) -> None:
    """Pick ``option`` in the admin's autocomplete (select2) widget of a field."""
    page.locator(f"#{field_id} + .select2").click()
    page.locator(".select2-container--open .select2-search__field").fill(search)
    page.locator(".select2-results__option", has_text=option).click()
    expect(page.locator(f"#select2-{field_id}-container")).to_contain_text(option)


def status_badge(page: Page) -> Locator:
    return page.locator(".field-status_badge .readonly")


def create_group(page: Page, screens: Screens) -> None:
    page.goto("/admin/")
    page.get_by_role("link", name="Audience groups").click()
    page.get_by_role("link", name=re.compile("Add audience group", re.I)).click()
    page.fill("#id_name", GROUP)
    page.fill("#id_description", "The README's three example contacts.")
    # Match and the conditions are for dynamic groups; they follow the kind chosen.
    match, conditions = (
        page.locator(".form-row.field-match"),
        page.locator("#rules-group"),
    )
    expect(match).to_be_hidden()
    expect(conditions).to_be_hidden()
    page.select_option("#id_kind", "dynamic")
    expect(match).to_be_visible()
    expect(conditions).to_be_visible()
    page.select_option("#id_kind", "static")
    expect(conditions).to_be_hidden()
    screens.shot(page, "group-add-form")
    page.get_by_role("button", name="Save", exact=True).click()
    expect(page.locator(".messagelist")).to_contain_text("was added successfully")
    screens.shot(page, "group-list")


def import_contacts(page: Page, screens: Screens, tmp_path: Path) -> None:
    contacts_file = write_xlsx(tmp_path / "seed-contacts.xlsx", SEED)
    page.goto("/admin/audiences/contact/")
    page.get_by_role("link", name="Import", exact=True).click()
    expect(page.locator("h1")).to_have_text("Import contacts")
    page.set_input_files("#id_file", str(contacts_file))
    choose(page, "id_group", GROUP[:4], GROUP)
    screens.shot(page, "import-form")
    page.get_by_role("button", name="Read the file").click()

    # The job's page refreshes itself while a worker reads the file, and draws the
    # status and its buttons from one read.
    summary = page.locator("fieldset.import-state h2")
    expect(summary).to_have_text("Ready to import", timeout=WORK_TIMEOUT_MS)
    expect(page.locator(".import-summary")).to_contain_text("Would create")
    import_button = page.get_by_role("button", name="Import 3 contacts")
    expect(import_button).to_be_visible()
    expect(page.locator(".field-existing_contacts .readonly")).to_have_text("updated")
    expect(page.locator(".field-all_or_nothing_said .readonly")).to_have_text("no")
    expect(page.locator(".deletelink")).to_be_visible()
    screens.shot(page, "import-preview")
    assert not Contact.objects.exists()

    # The worker's write is held, so the page is seen while the import is under way.
    with import_writing_held(SEED[1][0]):
        import_button.click()
        expect(page.locator(".messagelist")).to_contain_text(
            f"Importing 3 contacts into {GROUP}"
        )
        expect(summary).to_have_text("Importing")
        expect(import_button).to_have_count(0)
        expect(page.locator(".deletelink")).to_have_count(0)
        screens.shot(page, "import-applying")
    # No reload: the page refreshes itself until the import is done.
    expect(summary).to_have_text("Imported", timeout=WORK_TIMEOUT_MS)
    expect(page.locator(".import-summary")).to_contain_text("Created")
    screens.shot(page, "import-done")
    group = AudienceGroup.objects.get(name=GROUP)
    imported = group.members().values_list("data__NOMBRE", flat=True)
    assert sorted(imported) == sorted(NAMES)

    page.get_by_role("link", name=f"See the contacts of {GROUP}").click()
    expect(page.locator("#result_list tbody tr")).to_have_count(3)
    page.goto("/admin/audiences/audiencegroup/")
    page.get_by_role("link", name=GROUP).click()
    for name in NAMES:
        expect(page.locator(".field-preview")).to_contain_text(name)
    expect(page.locator(".form-row.field-match")).to_have_count(0)
    expect(page.locator("#rules-group")).to_have_count(0)
    screens.shot(page, "group-members")


def build_and_publish_flow(page: Page, screens: Screens, channel: Channel) -> Flow:
    page.goto("/admin/flows/flow/add/")
    page.fill("#id_name", FLOW)
    page.fill("#id_description", "Greets each contact by name.")
    page.get_by_role("button", name="Steps table").click()  # not the canvas
    steps = page.locator("#steps-group")
    add_step = steps.get_by_role("button", name=re.compile("Add another", re.I))
    add_step.click()
    add_step.click()
    page.fill("[name=steps-0-position]", "1")
    page.select_option("[name=steps-0-kind]", "send")
    page.select_option("[name=steps-0-channel]", label=channel.name)
    page.fill("[name=steps-0-body]", "Hola {{NOMBRE}}, gracias por tu compra 🎉")
    page.fill("[name=steps-1-position]", "2")
    # Each step shows the fields of its kind, switching as the kind changes.
    expect(page.locator("[name=steps-1-channel]")).to_be_visible()
    page.select_option("[name=steps-1-kind]", "wait")
    expect(page.locator("[name=steps-1-wait]")).to_be_visible()
    expect(page.locator("[name=steps-1-channel]")).to_be_hidden()
    page.select_option("[name=steps-1-kind]", "end")
    for field in ("channel", "body", "wait", "next_step", "yes_step"):
        expect(page.locator(f"[name=steps-1-{field}]")).to_be_hidden()
    expect(page.locator("#steps-1")).to_contain_text("journey ends here")
    expect(page.locator("[name=steps-0-body]")).to_be_visible()
    expect(page.locator("[name=steps-0-wait]")).to_be_hidden()
    assert page.evaluate("document.documentElement.scrollWidth") <= 1280
    screens.shot(page, "flow-add-form")
    page.get_by_role("button", name="Save and continue editing").click()
    expect(page.locator(".messagelist")).to_contain_text("was added successfully")
    expect(page.locator(".messagelist .warning")).to_have_count(0)
    expect(status_badge(page)).to_contain_text("Draft")
    screens.shot(page, "flow-saved-draft")

    asked: list[str] = []

    def accept(dialog: Dialog) -> None:
        asked.append(dialog.message)
        dialog.accept()

    page.once("dialog", accept)
    page.get_by_role("button", name="Publish").click()
    expect(page.locator(".messagelist")).to_contain_text(
        f"{FLOW} published as version 1."
    )
    assert len(asked) == 1
    assert "Publish the saved steps" in asked[0]
    expect(status_badge(page)).to_contain_text("Published v1")
    # Nothing new to publish until the steps change.
    expect(page.locator(".object-tools")).not_to_contain_text("Publish")
    screens.shot(page, "flow-published")

    page.get_by_role("link", name="Preview flow chain").click()
    expect(page.locator("h1")).to_have_text(f"Preview of {FLOW} (version 1, published)")
    page.fill("#contact-query", "+525500998877")
    page.get_by_role("button", name="Show").click()
    expect(page.locator(".flow-picture svg")).to_be_visible()
    expect(page.locator(".preview-messages")).to_contain_text(
        "Hola Carlos, gracias por tu compra"
    )
    screens.shot(page, "flow-preview")
    return Flow.objects.get(name=FLOW)


def create_campaign(page: Page, screens: Screens, start: dt.datetime) -> Campaign:
    page.goto("/admin/campaigns/campaign/")
    page.get_by_role("link", name=re.compile("Add campaign", re.I)).click()
    page.fill("#id_name", CAMPAIGN)
    page.fill("#id_description", "Thanks the seed's contacts, once a day.")
    choose(page, "id_flow", "Seed", FLOW)
    with page.expect_popup() as opened:
        page.get_by_role("link", name="Preview flow chain").click()
    preview = opened.value
    expect(preview.locator("h1")).to_have_text(
        f"Preview of {FLOW} (version 1, published)"
    )
    screens.shot(preview, "campaign-form-flow-preview")
    preview.close()
    choose(page, "id_group", "Seed", GROUP)
    end = start + dt.timedelta(days=7)
    page.fill("#id_start_at_0", f"{start:%Y-%m-%d}")
    page.fill("#id_start_at_1", f"{start:%H:%M}")
    page.fill("#id_end_at_0", f"{end:%Y-%m-%d}")
    page.fill("#id_end_at_1", f"{end:%H:%M}")
    page.select_option("#id_schedule", "daily")
    screens.shot(page, "campaign-add-form")
    page.get_by_role("button", name="Save", exact=True).click()
    expect(page.locator(".messagelist")).to_contain_text("was added successfully")
    row = page.locator("#result_list tr", has_text=CAMPAIGN)
    expect(row).to_contain_text("Pending execution")
    screens.shot(page, "campaign-list")
    row.get_by_role("link", name=CAMPAIGN).click()
    expect(status_badge(page)).to_have_text("Pending execution")
    expect(page.locator(".campaign-monitor")).to_contain_text("No runs yet")
    screens.shot(page, "campaign-pending")
    return Campaign.objects.get(name=CAMPAIGN)


def object_tool(page: Page, label: str) -> Locator:
    return page.locator(".object-tools").get_by_role("link", name=label, exact=True)


@pytest.mark.django_db(transaction=True)
def test_an_operator_imports_builds_publishes_runs_and_finishes_a_campaign(
    page: Page,
    screens: Screens,
    make_operator: Any,
    celery_worker: Any,
    tmp_path: Path,
) -> None:
    operator = make_operator()
    channel = Channel.objects.create(name="Console (test)", kind="console")

    sign_in(page, screens, operator.username, "login")
    screens.shot(page, "home")
    create_group(page, screens)
    import_contacts(page, screens, tmp_path)
    flow = build_and_publish_flow(page, screens, channel)
    assert flow.status == Flow.Status.PUBLISHED

    start = (timezone.localtime() + dt.timedelta(minutes=2)).replace(
        second=0, microsecond=0
    )
    campaign = create_campaign(page, screens, start)
    assert campaign.start_at == start
    assert campaign.flow_version == flow.current_version

    # Beat's tick at the start time; the worker sends what it queues.
    run = campaign_tick(campaign_id=campaign.pk, now=campaign.start_at)
    assert run is not None
    page.reload()
    expect(status_badge(page)).to_have_text("In progress")
    reload_until(page, page.locator(".campaign-monitor .chips"), "Sent: 3")
    expect(page.locator(".campaign-monitor table")).to_contain_text("100%")
    screens.shot(page, "campaign-sent")
    sent = sorted(Message.objects.filter(status="sent").values_list("body", flat=True))
    assert sent == sorted(f"Hola {n}, gracias por tu compra 🎉" for n in NAMES)

    page.goto("/admin/messaging/message/")
    rows = page.locator("#result_list tbody tr")
    expect(rows).to_have_count(3)
    expect(page.locator("#result_list")).to_contain_text("Hola Carlos")
    screens.shot(page, "messages-list")

    # Suspend: a confirmation page, then the badge.
    page.goto(f"/admin/campaigns/campaign/{campaign.pk}/change/")
    object_tool(page, "Suspend").click()
    expect(page.locator("h1")).to_have_text(f"Suspend {CAMPAIGN}?")
    screens.shot(page, "suspend-confirm")
    page.get_by_role("button", name="Yes, suspend").click()
    expect(page.locator(".messagelist")).to_contain_text("suspended")
    expect(status_badge(page)).to_have_text("Suspended")
    expect(object_tool(page, "Suspend")).to_have_count(0)
    screens.shot(page, "campaign-suspended")

    # Resume: asks for a new start, later than now.
    object_tool(page, "Resume").click()
    expect(page.locator("h1")).to_have_text(f"Resume {CAMPAIGN}")
    new_start = (timezone.localtime() + dt.timedelta(hours=2)).replace(
        second=0, microsecond=0
    )
    page.fill("#id_start_at_0", f"{new_start:%Y-%m-%d}")
    page.fill("#id_start_at_1", f"{new_start:%H:%M}")
    screens.shot(page, "resume-form")
    page.get_by_role("button", name="Resume", exact=True).click()
    expect(page.locator(".messagelist")).to_contain_text(
        f"resumes at {new_start:%Y-%m-%d %H:%M}"
    )
    expect(status_badge(page)).to_have_text("Pending execution")
    screens.shot(page, "campaign-resumed")
    campaign.refresh_from_db()
    assert campaign.start_at == new_start

    # Finish: says what it terminates, and is final.
    object_tool(page, "Finish").click()
    expect(page.locator("h1")).to_have_text(f"Finish {CAMPAIGN}?")
    expect(page.locator("#content-main")).to_contain_text("This cannot be undone.")
    screens.shot(page, "finish-confirm")
    page.get_by_role("button", name="Yes, finish it").click()
    expect(page.locator(".messagelist")).to_contain_text(f"'{CAMPAIGN}' finished.")
    expect(status_badge(page)).to_have_text("Ended")
    expect(page.locator(".object-tools")).not_to_contain_text("Finish")
    screens.shot(page, "campaign-ended")

    campaign.refresh_from_db()
    assert campaign.status == Campaign.Status.ENDED
    history = list(campaign.events.order_by("pk").values_list("to_status", flat=True))
    assert history == ["pending", "in_progress", "suspended", "pending", "ended"]
