from django.apps import AppConfig


class FlowsConfig(AppConfig):
    name = "flows"
    verbose_name = "Flows"

    def ready(self) -> None:
        from audiences.erasure import contact_rows_by_column, contact_rows_register
        from messaging.channels import channel_user_finders
        from messaging.inbound import reply_takers

        from .channels import flow_steps_on
        from .models import Journey
        from .replies import journeys_take_reply

        # Messaging keeps a channel while a flow sends on it.
        channel_user_finders.append(flow_steps_on)
        # A reply goes first to the flows waiting for it, then to the inbox.
        reply_takers.append(journeys_take_reply)
        # A deleted contact's journeys go with it, after its messages (the order
        # the audit notes name them in).
        contact_rows_register(
            contact_rows_by_column(Journey, "journeys", after=("messages",))
        )
