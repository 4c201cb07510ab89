"use strict";
// The flow canvas: the step rows of the form drawn as nodes (Drawflow), their ways
// (then, yes, no, no reply) as edges. The form stays the one record: a node is a
// row, an edge is the number in one of its "go to" fields. Drawing an edge writes
// that field, deleting a node ticks its row's Delete (or drops a row not saved yet),
// a palette button adds a row of its kind. The selected node's row shows under the
// canvas to fill in; "Steps table" shows every row instead. The server checks the
// steps on save and publish as it does for the table; its problems are shown on
// the nodes they name (flow-canvas-data, from the page). Where the nodes are drawn
// is posted with the form (flow-canvas-layout) and kept on the flow.
{
    // The fields each kind's outputs write, in the order of the node's outputs.
    const OUTPUTS = {
        send: ["next_step"],
        wait: ["next_step"],
        group: ["next_step"],
        branch: ["yes_step", "no_step"],
        reply: ["yes_step", "no_step", "timeout_step"],
        end: [],
    };
    const WAYS = ["next_step", "yes_step", "no_step", "timeout_step"];
    const MODE_KEY = "flowcast.flow-steps-view";
    const COLUMN = 280;
    const ROW = 150;

    function escape(text) {
        const span = document.createElement("span");
        span.textContent = text;
        return span.innerHTML;
    }

    function field(row, name) {
        return row.querySelector(`[name$="-${name}"]`);
    }

    function value(row, name) {
        const input = field(row, name);
        return input ? input.value.trim() : "";
    }

    function number(row, name) {
        const parsed = parseInt(value(row, name), 10);
        return Number.isNaN(parsed) ? null : parsed;
    }

    function chosen(row, name) {
        const select = field(row, name);
        if (!select || !select.value || !select.selectedOptions) {
            return "";
        }
        return select.selectedOptions[0].textContent.trim();
    }

    function deleted(row) {
        const box = field(row, "DELETE");
        return Boolean(box && box.checked);
    }

    function kindOf(row) {
        const kind = value(row, "kind");
        return kind in OUTPUTS ? kind : "send";
    }

    // A short text saying what the step does, for its node.
    function summary(row) {
        const kind = kindOf(row);
        const cut = (text) => (text.length > 48 ? `${text.slice(0, 47)}…` : text);
        if (kind === "send") {
            return cut(value(row, "body") || chosen(row, "template") || "(no text yet)");
        }
        if (kind === "wait") {
            return value(row, "wait") ? `for ${value(row, "wait")}` : "(no duration yet)";
        }
        if (kind === "branch") {
            const test = [value(row, "condition_field"), chosen(row, "condition_op"), value(row, "condition_value")];
            return cut(test.filter(Boolean).join(" ")) || "(no condition yet)";
        }
        if (kind === "reply") {
            return cut(`reply is ${chosen(row, "reply_test") || "any text"}`);
        }
        if (kind === "group") {
            return cut(`${chosen(row, "group_action")} ${chosen(row, "group")}`.trim()) || "(no group yet)";
        }
        return "the journey ends";
    }

    function formErrors(row) {
        const errors = [...row.querySelectorAll("ul.errorlist li")];
        const above = row.previousElementSibling;
        if (above && above.classList.contains("row-form-errors")) {
            errors.push(...above.querySelectorAll("ul.errorlist li"));
        }
        return errors.map((item) => item.textContent.trim());
    }

    class Canvas {
        constructor(group, root) {
            this.group = group;
            this.root = root;
            this.table = group.querySelector("table.flow-steps");
            this.places = new Map(); // row -> {x, y}, once placed or moved
            this.nodes = new Map(); // node id (string) -> row
            this.building = false;
            this.selected = null;
            const data = document.getElementById("flow-canvas-data");
            this.problems = data ? JSON.parse(data.textContent) : { steps: {}, flow: [] };
            this.saved = this.problems.layout || {}; // position -> [x, y]
            this.draw();
            this.editor = new Drawflow(this.area);
            // Delete removes the selected node only while the canvas has the focus,
            // not while a field of the form below is being typed in.
            const key = this.editor.key;
            this.editor.key = (event) => {
                if (this.area.contains(document.activeElement)) {
                    key.call(this.editor, event);
                }
            };
            this.editor.start();
            this.listen();
            this.setMode(localStorage.getItem(MODE_KEY) === "table" ? "table" : "canvas");
            // A form sent back with errors opens on the first step that has some.
            this.select(this.rows().find((row) => formErrors(row).length) || null);
            this.render();
        }

        // The toolbar (view toggle, palette), the general problems and the area.
        draw() {
            const kinds = [...(this.table.querySelector("tr.empty-form select[name$='-kind']") || { options: [] }).options];
            this.root.hidden = false;
            this.root.innerHTML = `
              <div class="flow-canvas-toolbar">
                <span class="flow-view-toggle" role="group" aria-label="Show the steps as">
                  <button type="button" data-mode="canvas">Canvas</button>
                  <button type="button" data-mode="table">Steps table</button>
                </span>
                <span class="flow-canvas-palette" role="group" aria-label="Add a step">
                  <span class="flow-canvas-palette-label">Add a step:</span>
                  ${kinds.filter((o) => o.value).map((o) => `<button type="button" data-kind="${escape(o.value)}">${escape(o.textContent)}</button>`).join("")}
                </span>
              </div>
              <p class="flow-canvas-help">Drag from a step's outputs (right side: then, or yes / no / no reply)
                to another step's input (left side) to say where it goes; a step with no "then" goes to the next
                one down. Click a step to fill it in below; select it and press Delete to remove it.
                Save to keep the changes.</p>
              <ul class="flow-canvas-problems errorlist">${this.problems.flow.map((p) => `<li>${escape(p)}</li>`).join("")}</ul>
              <div class="flow-canvas-area" tabindex="0" aria-label="Flow canvas"></div>
              <input type="hidden" name="flow-canvas-layout">`;
            this.area = this.root.querySelector(".flow-canvas-area");
        }

        listen() {
            this.root.querySelector(".flow-view-toggle").addEventListener("click", (event) => {
                const mode = event.target.dataset.mode;
                if (mode) {
                    localStorage.setItem(MODE_KEY, mode);
                    this.setMode(mode);
                }
            });
            this.root.querySelector(".flow-canvas-palette").addEventListener("click", (event) => {
                if (event.target.dataset.kind) {
                    this.addStep(event.target.dataset.kind);
                }
            });
            this.table.addEventListener("change", () => this.later());
            const form = this.root.closest("form");
            if (form) {
                form.addEventListener("submit", () => this.keepLayout());
            }
            document.addEventListener("formset:added", () => this.later());
            document.addEventListener("formset:removed", () => this.later());
            const on = (name, handler) => this.editor.on(name, (detail) => {
                if (!this.building) {
                    handler(detail);
                }
            });
            on("connectionCreated", (c) => this.connect(c));
            on("connectionRemoved", (c) => this.disconnect(c));
            on("nodeRemoved", (id) => this.removeStep(id));
            on("nodeMoved", (id) => {
                // Where it is drawn (Drawflow's own pos_x / pos_y run one move ahead).
                const node = this.area.querySelector(`#node-${id}`);
                this.places.set(this.nodes.get(String(id)), {
                    x: parseFloat(node.style.left),
                    y: parseFloat(node.style.top),
                });
            });
            on("nodeSelected", (id) => this.select(this.nodes.get(String(id))));
        }

        setMode(mode) {
            this.mode = mode;
            this.group.classList.toggle("flow-canvas-mode", mode === "canvas");
            for (const button of this.root.querySelectorAll(".flow-view-toggle button")) {
                button.setAttribute("aria-pressed", String(button.dataset.mode === mode));
            }
            this.root.querySelector(".flow-canvas-palette").hidden = mode !== "canvas";
            this.area.hidden = mode !== "canvas";
            this.root.querySelector(".flow-canvas-help").hidden = mode !== "canvas";
        }

        rows() {
            return [...this.table.querySelectorAll("tr.step-row")].filter(
                (row) => !row.classList.contains("empty-form") && !row.id.endsWith("-empty") && !deleted(row),
            );
        }

        // Where a step goes by its "then": the field, or the next position down.
        implicitNext(row, rows) {
            const position = number(row, "position");
            const later = rows.map((r) => number(r, "position")).filter((p) => p !== null && position !== null && p > position);
            return later.length ? Math.min(...later) : null;
        }

        target(row, name, rows) {
            const given = number(row, name);
            if (given !== null || name !== "next_step") {
                return { position: given, implicit: false };
            }
            return { position: this.implicitNext(row, rows), implicit: true };
        }

        // Steps not placed yet are laid out in columns by their distance from the first.
        layout(rows) {
            const byPosition = new Map();
            for (const row of rows) {
                const position = number(row, "position");
                if (position !== null && !byPosition.has(position)) {
                    byPosition.set(position, row);
                }
            }
            const depth = new Map();
            const sorted = [...byPosition.keys()].sort((a, b) => a - b);
            if (sorted.length) {
                const queue = [byPosition.get(sorted[0])];
                depth.set(queue[0], 0);
                while (queue.length) {
                    const row = queue.shift();
                    for (const name of OUTPUTS[kindOf(row)]) {
                        const next = byPosition.get(this.target(row, name, rows).position);
                        if (next && !depth.has(next)) {
                            depth.set(next, depth.get(row) + 1);
                            queue.push(next);
                        }
                    }
                }
            }
            const deepest = Math.max(0, ...depth.values());
            const filled = new Map();
            for (const row of rows) {
                if (this.places.has(row)) {
                    continue;
                }
                const saved = this.saved[String(number(row, "position"))];
                if (Array.isArray(saved) && saved.length === 2) {
                    this.places.set(row, { x: saved[0], y: saved[1] });
                    continue;
                }
                const column = depth.has(row) ? depth.get(row) : deepest + 1;
                const index = filled.get(column) || 0;
                filled.set(column, index + 1);
                this.places.set(row, { x: 30 + column * COLUMN, y: 30 + index * ROW });
            }
        }

        // Where each step is drawn, by position, for the flow to keep.
        keepLayout() {
            const layout = {};
            for (const row of this.rows()) {
                const position = number(row, "position");
                const place = this.places.get(row);
                if (position !== null && place && !(String(position) in layout)) {
                    layout[String(position)] = [Math.round(place.x), Math.round(place.y)];
                }
            }
            this.root.querySelector("input[name='flow-canvas-layout']").value = JSON.stringify(layout);
        }

        // Drawn again once the current event is done (marked meanwhile, for tests).
        later() {
            clearTimeout(this.pending);
            this.root.dataset.pending = "true";
            this.pending = setTimeout(() => this.render(), 0);
        }

        render() {
            this.building = true;
            try {
                this.editor.clear();
                this.nodes.clear();
                const rows = this.rows();
                this.layout(rows);
                const ids = new Map();
                for (const row of rows) {
                    const kind = kindOf(row);
                    const position = number(row, "position");
                    // The saved flow's problems, and the errors of this row's form.
                    const problems = [
                        ...(this.problems.steps[String(position)] || []),
                        ...formErrors(row),
                    ];
                    const label = chosen(row, "kind") || kind;
                    const html = `
                      <div class="step-node-title">${position === null ? "?" : position} · ${escape(label)}</div>
                      <div class="step-node-text">${escape(summary(row))}</div>
                      ${problems.length ? `<ul class="step-node-problems">${problems.map((p) => `<li>${escape(p)}</li>`).join("")}</ul>` : ""}`;
                    const place = this.places.get(row);
                    const classes = `step-node step-${kind}${problems.length ? " has-problems" : ""}${row === this.selected ? " is-selected" : ""}`;
                    const id = this.editor.addNode(kind, 1, OUTPUTS[kind].length, place.x, place.y, classes, { position }, html);
                    this.nodes.set(String(id), row);
                    row.dataset.node = id;
                    if (position !== null && !ids.has(position)) {
                        ids.set(position, id);
                    }
                }
                for (const row of rows) {
                    OUTPUTS[kindOf(row)].forEach((name, index) => {
                        const { position, implicit } = this.target(row, name, rows);
                        if (!ids.has(position)) {
                            return;
                        }
                        const from = row.dataset.node;
                        this.editor.addConnection(from, ids.get(position), `output_${index + 1}`, "input_1");
                        if (implicit) {
                            const path = this.area.querySelector(`.connection.node_out_node-${from}.output_${index + 1}`);
                            if (path) {
                                path.classList.add("implicit");
                            }
                        }
                    });
                }
                // The nodes drawn before are gone: nothing of them stays selected.
                this.editor.node_selected = null;
                this.editor.connection_selected = null;
            } finally {
                this.building = false;
                delete this.root.dataset.pending;
            }
        }

        way(connection) {
            const row = this.nodes.get(String(connection.output_id));
            const index = parseInt(connection.output_class.replace("output_", ""), 10) - 1;
            return { row, name: row ? OUTPUTS[kindOf(row)][index] : undefined };
        }

        write(row, name, text) {
            const input = field(row, name);
            if (input) {
                input.value = text;
            }
        }

        connect(connection) {
            const { row, name } = this.way(connection);
            const to = this.nodes.get(String(connection.input_id));
            if (row && name && to) {
                const position = number(to, "position");
                // The next one down is where a step goes anyway: left empty, as typed.
                const same = name === "next_step" && position === this.implicitNext(row, this.rows());
                this.write(row, name, same ? "" : String(position));
            }
            this.later();
        }

        disconnect(connection) {
            const { row, name } = this.way(connection);
            if (row && name) {
                this.write(row, name, "");
            }
            this.later();
        }

        removeStep(id) {
            const row = this.nodes.get(String(id));
            if (!row) {
                return;
            }
            const position = value(row, "position");
            for (const other of this.rows()) {
                for (const name of WAYS) {
                    if (other !== row && position && value(other, name) === position) {
                        this.write(other, name, "");
                    }
                }
            }
            this.places.delete(row);
            if (this.selected === row) {
                this.select(null);
            }
            const box = field(row, "DELETE");
            if (box) {
                box.checked = true;
            } else {
                const remove = row.querySelector("a.inline-deletelink");
                if (remove) {
                    remove.click();
                }
            }
            this.later();
        }

        select(row) {
            if (this.selected) {
                this.selected.classList.remove("flow-canvas-selected");
            }
            this.selected = row || null;
            if (this.selected) {
                this.selected.classList.add("flow-canvas-selected");
            }
            for (const node of this.area.querySelectorAll(".drawflow-node")) {
                node.classList.toggle("is-selected", Boolean(row) && node.id === `node-${row.dataset.node}`);
            }
        }

        addStep(kind) {
            const add = this.group.querySelector(".add-row a");
            if (!add) {
                return;
            }
            const below = this.selected ? this.places.get(this.selected) : null;
            const lowest = Math.max(0, ...[...this.places.values()].map((p) => p.y + ROW));
            add.click(); // Django's own "Add another step": the row comes numbered (steps.js)
            const rows = this.rows();
            const row = rows[rows.length - 1];
            const select = field(row, "kind");
            select.value = kind;
            select.dispatchEvent(new Event("change", { bubbles: true }));
            // Right of the selected step while the canvas is wide enough, else below.
            const wide = below && below.x + 2 * COLUMN < this.area.clientWidth;
            this.places.set(row, wide ? { x: below.x + COLUMN, y: below.y } : { x: 30, y: rows.length > 1 ? lowest : 30 });
            this.select(row);
            this.render();
        }
    }

    function start() {
        for (const root of document.querySelectorAll(".flow-canvas-root")) {
            const group = root.closest(".inline-group");
            // Only where the steps can be changed: a page shown read-only keeps its table.
            if (typeof Drawflow === "undefined" || !group || !group.querySelector("select[name$='-kind']")) {
                continue;
            }
            new Canvas(group, root);
        }
    }

    // After Django's inlines.js (it adds the "Add another step" button on ready).
    window.addEventListener("load", start);
}
