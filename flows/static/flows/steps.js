"use strict";
// Each step row of a flow's form shows only the fields of its kind: the row is
// marked with the kind chosen (data-kind), and steps.css hides the other kinds'
// fields. Rows added with "Add another step" are copies of a marked row.
{
    const KIND = 'select[name$="-kind"]';

    function markKind(row) {
        const select = row.querySelector(KIND);
        if (select) {
            row.dataset.kind = select.value;
        }
    }

    // A row added with "Add another step" comes numbered after the last step.
    const POSITION = 'input[name$="-position"]';

    function numberNewRow(row) {
        const input = row.querySelector(POSITION);
        const table = row.closest("table.flow-steps");
        if (!input || input.value || !table) {
            return;
        }
        let last = 0;
        for (const other of table.querySelectorAll(POSITION)) {
            const value = parseInt(other.value, 10);
            if (other !== input && !Number.isNaN(value)) {
                last = Math.max(last, value);
            }
        }
        input.value = last + 1;
    }

    document.addEventListener("formset:added", (event) => {
        const row = event.target.closest ? event.target.closest("tr") : null;
        if (row) {
            numberNewRow(row);
        }
    });

    function start() {
        for (const table of document.querySelectorAll("table.flow-steps")) {
            table.querySelectorAll("tr.step-row").forEach(markKind);
            table.addEventListener("change", (event) => {
                if (event.target.matches(KIND)) {
                    markKind(event.target.closest("tr.step-row"));
                }
            });
        }
    }

    if (document.readyState === "loading") {
        document.addEventListener("DOMContentLoaded", start);
    } else {
        start();
    }
}
