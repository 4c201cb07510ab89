import pytest

from audiences.models import AudienceGroup, GroupRule, Variable
from campaigns.demo import demo_load
from campaigns.models import Campaign


@pytest.mark.django_db
def test_the_demo_loads_once_with_typed_variables_usable_in_rules() -> None:
    assert demo_load() is not None
    assert demo_load() is None
    assert Campaign.objects.count() == 1
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
