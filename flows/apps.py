from django.apps import AppConfig


class FlowsConfig(AppConfig):
    name = "flows"
    verbose_name = "Flows"

    def ready(self) -> None:
        # Messaging keeps a channel while a flow sends on it.
        from messaging.channels import channel_user_finders

        from .channels import flow_steps_on

        channel_user_finders.append(flow_steps_on)
