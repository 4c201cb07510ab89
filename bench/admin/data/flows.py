"""Flows, through the publishing code so their versions are what the engine
writes."""

import datetime as dt
from typing import Any


def build_flows(channels: dict[str, Any], admin: Any) -> dict[str, Any]:
    """Flows built step by step and published with the real code."""
    from flows.models import Flow, FlowStep
    from flows.publishing import flow_archive, flow_publish

    def make(name: str, steps: list[dict[str, Any]], **fields: Any) -> Any:
        flow = Flow.objects.create(name=name, **fields)
        FlowStep.objects.bulk_create(
            FlowStep(flow=flow, position=n, **step) for n, step in enumerate(steps, 1)
        )
        return flow

    def send(channel: str, body: str) -> dict[str, Any]:
        return {"kind": "send", "channel": channels[channel], "body": body}

    end = {"kind": "end"}
    reminder = make(
        "Recordatorio de pago",
        [
            send("sms", "Hola {{NOMBRE}}, tu saldo de ${{MONTO}} vence pronto."),
            {"kind": "wait", "wait": dt.timedelta(days=1)},
            {
                "kind": "branch",
                "condition_field": "MONTO",
                "condition_op": "gt",
                "condition_value": "1000",
                "yes_step": 4,
                "no_step": 5,
            },
            send("whatsapp", "{{NOMBRE}}, paga ${{MONTO}} hoy y evita recargos."),
            end,
        ],
        description="Cobranza: SMS, un día después WhatsApp a saldos altos",
    )
    flow_publish(flow=reminder, actor=admin)
    FlowStep.objects.filter(flow=reminder, position=1).update(
        body="Hola {{NOMBRE}}, tu saldo de ${{MONTO}} vence el {{FECHA}}."
    )
    flow_publish(flow=reminder, actor=admin)
    notice = make("Aviso general", [send("sms", "Aviso: {{NOMBRE}}, ..."), end])
    flow_publish(flow=notice, actor=admin)
    welcome = make(
        "Bienvenida",
        [
            send("email", "Bienvenido {{NOMBRE}}"),
            {"kind": "wait", "wait": dt.timedelta(hours=1)},
            send("sms", "{{NOMBRE}}, ya puedes pagar en línea."),
            end,
        ],
    )
    flow_publish(flow=welcome, actor=admin)
    promos = [welcome, notice]
    for number in range(1, 16):
        promo = make(
            f"Promoción {number:02d}",
            [
                send(
                    "sms" if number % 3 else "whatsapp", f"Promo {number}: {{NOMBRE}}"
                ),
                end,
            ],
        )
        flow_publish(flow=promo, actor=admin)
        promos.append(promo)
    event = make(
        "Carrito abandonado",
        [send("email", "{{NOMBRE}}, olvidaste tu carrito"), end],
        trigger=Flow.Trigger.EVENT,
        event_name="cart_abandoned",
    )
    flow_publish(flow=event, actor=admin)
    make("Borrador de encuesta", [send("sms", "")])
    old = make("Campaña 2023", [send("sms", "Feliz 2023 {{NOMBRE}}"), end])
    flow_publish(flow=old, actor=admin)
    flow_archive(flow=old)
    for flow in [reminder, notice, *promos]:
        flow.refresh_from_db()
    return {"reminder": reminder, "notice": notice, "promos": promos}
