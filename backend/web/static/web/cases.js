// The case page: a click on a diagram element shows only that element's events in the timeline.
(function () {
  "use strict";
  document.addEventListener("DOMContentLoaded", () => {
    const diagram = document.getElementById("case-diagram");
    const timeline = document.getElementById("case-timeline");
    const panel = document.getElementById("element-panel");
    if (!diagram || !timeline || !panel) return;
    const names = JSON.parse(document.getElementById("element-names").textContent || "{}");
    const texts = document.getElementById("element-texts").dataset;
    const entries = Array.from(timeline.querySelectorAll("li[data-seq]"));
    function show(id) {
      let count = 0;
      for (const entry of entries) {
        const match = !id || entry.dataset.element === id;
        entry.hidden = !match;
        if (match) count += 1;
      }
      panel.hidden = !id;
      if (!id) return;
      document.getElementById("element-name").textContent = names[id] || "";
      document.getElementById("element-summary").textContent = count ? texts.runs + ": " + count : texts.none;
      const choices = document.getElementById("element-choices");
      choices.replaceChildren();
      document.querySelectorAll('[data-gateway="' + CSS.escape(id) + '"]').forEach((item) => {
        const line = document.createElement("li");
        line.textContent = item.textContent;
        choices.appendChild(line);
      });
    }
    diagram.addEventListener("qj-diagram:select", (event) => show(event.detail.id));
    document.getElementById("element-clear").addEventListener("click", () => show(""));
  });
})();
