from django.apps import AppConfig


class CampaignsConfig(AppConfig):
    name = "campaigns"
    verbose_name = "Campaigns"

    def ready(self) -> None:
        # The apps below ask campaigns through these, never by importing it.
        from flows.publishing import archive_refusals
        from messaging.message_filters import message_filter_register
        from messaging.windows import clash_finders

        from .message_filters import CampaignFilter, RunFilter
        from .selectors import campaigns_on_flow_refusal, channel_window_clashes
        from .stall_alerts import stall_mail
        from .stalls import stall_listeners

        archive_refusals.append(campaigns_on_flow_refusal)
        clash_finders.append(channel_window_clashes)
        stall_listeners.append(stall_mail)
        # The messages list filters by campaign and run (their batches).
        message_filter_register(CampaignFilter)
        message_filter_register(RunFilter)
