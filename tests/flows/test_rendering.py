from audiences.models import Contact
from flows.rendering import render


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
