from audiences.models import Contact
from messaging.rendering import render, unfilled


def test_placeholders_take_custom_data_then_contact_fields() -> None:
    contact = Contact(
        phone="+525500998877",
        name="Carlos",
        data={"NOMBRE": "Carlitos", "MONTO": 1200.0, "FECHA": "2016-12-25"},
    )
    text = render(
        "Hola {{NOMBRE}} ({{ NAME }}, {{PHONE}}): ${{MONTO}} on {{FECHA}}{{MISSING}}.",
        contact,
    )
    assert text == "Hola Carlitos (Carlos, +525500998877): $1200 on 2016-12-25."


def test_text_without_placeholders_is_unchanged() -> None:
    assert render("Plain {text} {{ }}", Contact(phone="+1")) == "Plain {text} {{ }}"


def test_unfilled_names_the_placeholders_a_contact_leaves_empty() -> None:
    contact = Contact(phone="+525500998877", data={"NOMBRE": "Carlos"})
    template = "Hola {{NAME}} {{NOMBRE}} {{PHONE}} {{EMAIL}} {{MONTO}}"

    assert unfilled(template, contact) == ["NAME", "EMAIL", "MONTO"]
    named = Contact(phone="+1", name="Ana", email="a@example.com", data={"MONTO": 0})
    assert unfilled(template, named) == ["NOMBRE"]


def test_a_placeholder_may_give_a_fallback_for_contacts_without_it() -> None:
    from messaging.rendering import placeholders

    template = "Hola {{NOMBRE|cliente}}, {{ NAME | amigo 🙂 }}: {{MONTO|0}} {{NOMBRE}}."
    carlos = Contact(phone="+1", name="Carlos", data={"NOMBRE": "Carlitos", "MONTO": 5})
    nobody = Contact(phone="+2", data={"NOMBRE": ""})

    assert render(template, carlos) == "Hola Carlitos, Carlos: 5 Carlitos."
    assert render(template, nobody) == "Hola cliente, amigo 🙂: 0 ."
    assert placeholders(template) == ["NOMBRE", "NAME", "MONTO"]
    # Only a use without a fallback leaves a gap in the text.
    assert placeholders(template, bare=True) == ["NOMBRE"]
    assert unfilled(template, nobody) == ["NOMBRE"]
    assert unfilled("Hola {{NAME|amigo}}", nobody) == []
    assert render("{{NOMBRE|}}x", nobody) == "x"  # an empty fallback is empty
    assert render("{{ NOMBRE | a|b }}", carlos) == "{{ NOMBRE | a|b }}"  # no pipe in it
