from django.apps import AppConfig


class FlowsConfig(AppConfig):
    name = "flows"
    verbose_name = "Flows"

    def ready(self) -> None:
        from audiences.erasure import contact_rows_by_column, contact_rows_register
        from messaging.channels import channel_user_finders
        from messaging.inbound import reply_takers
        from messaging.media import media_user_finders
        from messaging.templating import (
            template_user_finders,
            template_version_listeners,
        )

        from .channels import flow_steps_on
        from .models import Journey
        from .replies import journeys_take_reply
        from .step_templates import (
            flow_steps_with_media,
            flow_steps_with_template,
            flows_note_template_version,
        )

        # Messaging keeps a channel while a flow sends on it.
        channel_user_finders.append(flow_steps_on)
        # ... and a template or an image while a step or a version sends it; a new
        # template version is an unpublished change of the flows that name it.
        template_user_finders.append(flow_steps_with_template)
        media_user_finders.append(flow_steps_with_media)
        template_version_listeners.append(flows_note_template_version)
        # A reply goes first to the flows waiting for it, then to the inbox.
        reply_takers.append(journeys_take_reply)
        # A deleted contact's journeys go with it, after its messages (the order
        # the audit notes name them in).
        contact_rows_register(
            contact_rows_by_column(Journey, "journeys", after=("messages",))
        )
