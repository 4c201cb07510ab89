"""Users, roles, channels and variables: what every other part refers to."""

import datetime as dt
from typing import Any


def build_people() -> dict[str, Any]:
    from django.contrib.auth.models import Group, Permission, User

    from audiences.models import Variable
    from messaging.models import Channel

    admin = User.objects.create_superuser("admin", "admin@example.com", "bench-pass")
    operators = Group.objects.create(name="Operadores")
    operators.permissions.set(
        Permission.objects.filter(
            content_type__app_label__in=["audiences", "campaigns", "flows"]
        )
    )
    Group.objects.create(name="Analistas")
    for name in ("operadora", "analista"):
        user = User.objects.create_user(name, f"{name}@example.com", "bench-pass")
        user.is_staff = True
        user.save()
        user.groups.add(operators)
    Variable.objects.bulk_create(
        [
            Variable(name="NOMBRE", kind=Variable.Kind.TEXT),
            # Columns of the contact list, as an operator would choose them.
            Variable(name="MONTO", kind=Variable.Kind.NUMBER, in_contact_list=True),
            Variable(name="FECHA", kind=Variable.Kind.DATE, in_contact_list=True),
        ]
    )
    channels = {
        "sms": Channel.objects.create(
            name="SMS Twilio", kind="sms", settings={"from": "+15005550006"}
        ),
        "whatsapp": Channel.objects.create(
            name="WhatsApp negocio",
            kind="whatsapp",
            settings={"from": "+14155238886"},
            active_from=dt.time(8),
            active_until=dt.time(21),
            timezone="America/Mexico_City",
        ),
        "email": Channel.objects.create(name="Correo", kind="email"),
        "console": Channel.objects.create(name="Consola", kind="console"),
    }
    return {"admin": admin, "channels": channels}
