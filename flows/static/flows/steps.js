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
