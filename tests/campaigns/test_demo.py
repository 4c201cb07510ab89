import pytest

from audiences.models import AudienceGroup, GroupRule, Variable
from campaigns.demo import demo_load
from campaigns.models import Campaign
from flows.models import Flow
from messaging.models import Team


@pytest.mark.django_db
def test_the_demo_loads_once_with_typed_variables_usable_in_rules() -> None:
    assert demo_load() is not None
    assert demo_load() is None
    assert Campaign.objects.count() == 1
    # Replies to the demo campaign go to the Cobranza team's inbox, and the chatbot
    # flow that waits for replies is ready for a campaign.
    assert Campaign.objects.get().reply_team == Team.objects.get(name="Cobranza")
    chatbot = Flow.objects.get(name="Payment chatbot")
    assert chatbot.can_run_in_campaign
    assert chatbot.current_version is not None
    kinds = [step["kind"] for step in chatbot.current_version.steps]
    assert kinds == ["send", "reply", "send", "send", "end"]
    assert dict(Variable.objects.values_list("name", "kind")) == {
        "NOMBRE": "text",
        "MONTO": "number",
        "FECHA": "date",
    }
    group = AudienceGroup.objects.create(name="Over 1300", kind="dynamic")
    rule = GroupRule(group=group, field="MONTO", op="gt", value="1300")
    rule.full_clean()
    rule.save()
    assert group.members().count() == 2
