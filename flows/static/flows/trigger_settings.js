"use strict";
// The Flow page shows only the settings of the trigger chosen: the fieldsets
// classed trigger-settings for-<trigger>, and the event conditions for event
// flows. Without this script all show; the server empties those the trigger
// does not use (flows.trigger_settings.FlowForm).
{
    function showTriggerSettings(trigger) {
        for (const fieldset of document.querySelectorAll("fieldset.trigger-settings")) {
            fieldset.classList.toggle("hidden", !fieldset.classList.contains(`for-${trigger}`));
        }
        const conditions = document.getElementById("event_conditions-group");
        if (conditions) {
            conditions.classList.toggle("hidden", trigger !== "event");
        }
    }

    document.addEventListener("DOMContentLoaded", () => {
        const select = document.getElementById("id_trigger");
        if (!select) {
            return;  // read-only: the server left out the settings not used
        }
        showTriggerSettings(select.value);
        select.addEventListener("change", () => showTriggerSettings(select.value));
    });
}
