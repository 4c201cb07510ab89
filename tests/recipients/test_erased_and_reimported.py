"""The suppression list across the apps: a number that replied STOP, whose contact
is then erased and imported again from a file, is not messaged on SMS by the next
campaign, while its email still is (consent per channel)."""

from pathlib import Path
from typing import Any

import pytest
from django.test import Client

from audiences.erasure import contacts_delete
from audiences.importing.jobs import (
    import_job_analyse,
    import_job_apply,
    import_job_create,
)
from audiences.models import AudienceGroup, Contact, ImportJob
from campaigns.runs import campaign_tick
from messaging.models import Message
from messaging.sending import messages_send_range
from tests.audiences.files import write_text
from tests.conftest import batch_of
from tests.messaging.test_channels import Mailbox, smtp  # noqa: F401 (fixture)
from tests.messaging.test_consent import TWILIO, twilio  # noqa: F401 (fixture)
from tests.messaging.test_hooks import twilio_post

NUMBER = "+525500998877"
EMAIL = "carlos@tienda.example"


def import_file(path: Path, group: AudienceGroup) -> ImportJob:
    job = import_job_create(source=path, group=group)
    job = import_job_analyse(job_id=job.pk)
    assert job.status == ImportJob.Status.READY, job.status
    return import_job_apply(job_id=job.pk)


@pytest.mark.django_db
def test_a_stopped_number_erased_and_imported_again_gets_no_sms_but_still_email(
    tmp_path: Path,
    client: Client,
    twilio: list[dict[str, str]],  # noqa: F811
    smtp: Mailbox,  # noqa: F811
    make_channel: Any,
    make_flow: Any,
    make_campaign: Any,
    make_user: Any,
) -> None:
    group = AudienceGroup.objects.create(name="Customers")
    rows = [["CONTACT", "NAME", "EMAIL"], [NUMBER, "Carlos", EMAIL]]
    import_file(write_text(tmp_path / "first.tsv", rows), group)
    sms = make_channel(
        name="SMS", kind="sms", settings={"from": "+15005550006"}, credentials=TWILIO
    )
    email = make_channel(
        name="Mail",
        kind="email",
        settings={"from_email": "news@tienda.example", "subject": "Ofertas"},
    )

    stop = twilio_post(
        client,
        f"/hooks/{sms.pk}/inbound",
        {"From": NUMBER, "Body": "STOP", "MessageSid": "SMstop1"},
    )
    assert stop.status_code == 200
    contacts_delete(contacts=Contact.objects.all(), actor=make_user("Operator"))
    assert not Contact.objects.exists()
    job = import_file(write_text(tmp_path / "again.tsv", rows), group)
    assert job.created == 1

    runs = {}
    for name, channel in (("SMS sale", sms), ("Mail sale", email)):
        campaign = make_campaign(
            started=True, name=name, group=group, flow=make_flow(channel=channel)
        )
        runs[name] = campaign_tick(campaign_id=campaign.pk)
        assert runs[name] is not None
        messages_send_range(batch_id=batch_of(runs[name]), first_id=0, last_id=10**12)

    def outcome(name: str) -> tuple[str, str]:
        row = Message.objects.filter(batch_id=batch_of(runs[name])).values_list(
            "status", "error"
        )
        [(status, error)] = list(row)
        return status, error

    assert outcome("SMS sale") == ("skipped", "suppressed: Replied STOP")
    assert [form["To"] for form in twilio] == []  # the provider never saw it
    assert outcome("Mail sale") == ("sent", "")
    assert [mail["To"] for mail in smtp.messages] == [EMAIL]
