// Draws a BPMN diagram with bpmn-js (the vendored navigated viewer, global `BpmnJS`) and marks its elements.
// One component for every page that shows a process: the case page (the path a case took) and the process
// monitor (durations as a heatmap).
//
// Declarative use:
//   <div class="qj-diagram" data-bpmn-url="/api/…/diagram.bpmn" data-marks="marks-json"></div>
//   {{ marks|json_script:"marks-json" }}
// where marks = {"markers": {"ElementId": ["qj-done", …]},
//                "badges": {"ElementId": [{"text": "×2", "title": "ran twice", "tone": "info"}, …]}}.
// A click on an element dispatches `qj-diagram:select` (detail: {id, type, name}) on the container.
// Script use: QujatDiagram.render(container, xml, marks) → Promise of the viewer.
(function () {
  "use strict";

  const TONES = new Set(["info", "ok", "warn", "bad", "muted"]);

  function badgeElement(badges) {
    const box = document.createElement("div");
    box.className = "qj-badges";
    for (const badge of badges) {
      const item = document.createElement("span");
      item.className = "qj-badge qj-badge-" + (TONES.has(badge.tone) ? badge.tone : "info");
      item.textContent = badge.text; // text only: nothing from the data becomes markup
      if (badge.title) item.title = badge.title;
      box.appendChild(item);
    }
    return box;
  }

  async function render(container, xml, marks) {
    const viewer = new window.BpmnJS({ container });
    await viewer.importXML(xml);
    const canvas = viewer.get("canvas");
    const overlays = viewer.get("overlays");
    const registry = viewer.get("elementRegistry");
    canvas.zoom("fit-viewport", "auto");
    const markers = (marks && marks.markers) || {};
    for (const id of Object.keys(markers)) {
      if (!registry.get(id)) continue; // an element of another version is skipped, never an error
      for (const name of markers[id]) canvas.addMarker(id, name);
    }
    const badges = (marks && marks.badges) || {};
    for (const id of Object.keys(badges)) {
      if (!registry.get(id) || !badges[id].length) continue;
      overlays.add(id, "qj-badges", {
        position: { bottom: -4, left: 0 },
        scale: { min: 1 },
        html: badgeElement(badges[id]),
      });
    }
    viewer.get("eventBus").on("element.click", (event) => {
      const element = event.element;
      if (!element || element.type === "bpmn:Process" || element.type === "bpmn:Collaboration") return;
      const name = (element.businessObject && element.businessObject.name) || "";
      container.dispatchEvent(
        new CustomEvent("qj-diagram:select", { bubbles: true, detail: { id: element.id, type: element.type, name } })
      );
    });
    container.dataset.rendered = "true";
    return viewer;
  }

  async function renderDeclared(container) {
    const failed = container.dataset.failedText || "The diagram could not be drawn.";
    try {
      const response = await fetch(container.dataset.bpmnUrl, { credentials: "same-origin" });
      if (!response.ok) throw new Error(String(response.status));
      const xml = await response.text();
      const source = container.dataset.marks && document.getElementById(container.dataset.marks);
      const marks = source ? JSON.parse(source.textContent) : {};
      await render(container, xml, marks);
    } catch (error) {
      container.dataset.rendered = "failed";
      const note = document.createElement("p");
      note.className = "text-danger small m-2";
      note.textContent = failed;
      container.replaceChildren(note);
    }
  }

  window.QujatDiagram = { render };
  document.addEventListener("DOMContentLoaded", () => {
    document.querySelectorAll(".qj-diagram[data-bpmn-url]").forEach(renderDeclared);
  });
})();
