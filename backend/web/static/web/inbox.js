// The inbox pages: PDF viewers (a canvas and a selectable text layer per page), bulk selection, saved filters.

const viewers = document.querySelectorAll(".pdf-viewer[data-pdf-url]");

async function renderPdf(viewer) {
  const status = viewer.querySelector(".pdf-status");
  try {
    const pdfjs = await import(viewer.dataset.pdfjs);
    pdfjs.GlobalWorkerOptions.workerSrc = viewer.dataset.pdfjsWorker;
    const pdf = await pdfjs.getDocument({ url: viewer.dataset.pdfUrl }).promise;
    const width = Math.max(280, viewer.clientWidth - 24);
    for (let number = 1; number <= pdf.numPages; number += 1) {
      const page = await pdf.getPage(number);
      const scale = width / page.getViewport({ scale: 1 }).width;
      const viewport = page.getViewport({ scale });
      const sheet = document.createElement("div");
      sheet.className = "pdf-page";
      sheet.dataset.page = String(number);
      sheet.style.setProperty("--scale-factor", String(scale));
      sheet.style.width = `${Math.floor(viewport.width)}px`;
      sheet.style.height = `${Math.floor(viewport.height)}px`;
      // The canvas is what sighted readers see; the text layer carries the same words for selection,
      // search and screen readers, so the canvas itself is hidden from assistive technology.
      const canvas = document.createElement("canvas");
      const ratio = window.devicePixelRatio || 1;
      canvas.width = Math.floor(viewport.width * ratio);
      canvas.height = Math.floor(viewport.height * ratio);
      canvas.style.width = `${Math.floor(viewport.width)}px`;
      canvas.style.height = `${Math.floor(viewport.height)}px`;
      canvas.setAttribute("aria-hidden", "true");
      const text = document.createElement("div");
      text.className = "textLayer";
      sheet.append(canvas, text);
      viewer.append(sheet);
      const transform = ratio !== 1 ? [ratio, 0, 0, ratio, 0, 0] : null;
      await page.render({ canvas, canvasContext: canvas.getContext("2d"), viewport, transform }).promise;
      await new pdfjs.TextLayer({ textContentSource: page.streamTextContent(), container: text, viewport }).render();
    }
    status?.remove();
    viewer.dataset.rendered = "true";
  } catch (error) {
    if (status) status.textContent = viewer.dataset.errorText || "The document could not be shown; use the download link.";
    viewer.dataset.rendered = "error";
    console.error(error);
  }
}

viewers.forEach((viewer) => renderPdf(viewer));

// Bulk selection: the boxes live in the list (replaced by htmx), the form below it. What is ticked is kept
// here, so a tick survives the list being reloaded by a search or a filter.
const ticked = new Set();

function updateBulkCount() {
  document.querySelectorAll("input[data-bulk-task]").forEach((box) => {
    if (box.checked) ticked.add(box.value);
    if (ticked.has(box.value)) box.checked = true;
  });
  const count = ticked.size;
  document.querySelectorAll("[data-bulk-count]").forEach((el) => { el.textContent = String(count); });
  const button = document.querySelector("[data-testid='bulk-approve']");
  if (button) button.disabled = count === 0;
}

document.addEventListener("change", (event) => {
  const target = event.target;
  if (!(target instanceof HTMLInputElement)) return;
  if (target.matches("[data-bulk-all]")) {
    document.querySelectorAll("input[data-bulk-task]").forEach((box) => {
      box.checked = target.checked;
      if (box.checked) ticked.add(box.value); else ticked.delete(box.value);
    });
  }
  if (target.matches("[data-bulk-task]")) {
    if (target.checked) ticked.add(target.value); else ticked.delete(target.value);
  }
  if (target.matches("[data-bulk-all], [data-bulk-task]")) // Ticks the current list does not show (a search hid them) are sent too.
document.getElementById("bulk-form")?.addEventListener("submit", (event) => {
  const form = event.currentTarget;
  const shown = new Set(Array.from(document.querySelectorAll("input[data-bulk-task]:checked"), (box) => box.value));
  ticked.forEach((id) => {
    if (shown.has(id)) return;
    const hidden = document.createElement("input");
    hidden.type = "hidden";
    hidden.name = "task";
    hidden.value = id;
    form.appendChild(hidden);
  });
});

updateBulkCount();
});

// After htmx replaced the list, the "save these filters" form saves what is shown now.
document.body.addEventListener("htmx:afterSettle", () => {
  const params = new URLSearchParams(window.location.search);
  params.delete("page");
  document.querySelectorAll("#saved-filter-query, #bulk-form input[name='query']").forEach((input) => {
    input.value = params.toString();
  });
  // Ticks the current list does not show (a search hid them) are sent too.
document.getElementById("bulk-form")?.addEventListener("submit", (event) => {
  const form = event.currentTarget;
  const shown = new Set(Array.from(document.querySelectorAll("input[data-bulk-task]:checked"), (box) => box.value));
  ticked.forEach((id) => {
    if (shown.has(id)) return;
    const hidden = document.createElement("input");
    hidden.type = "hidden";
    hidden.name = "task";
    hidden.value = id;
    form.appendChild(hidden);
  });
});

updateBulkCount();
});

// Ticks the current list does not show (a search hid them) are sent too.
document.getElementById("bulk-form")?.addEventListener("submit", (event) => {
  const form = event.currentTarget;
  const shown = new Set(Array.from(document.querySelectorAll("input[data-bulk-task]:checked"), (box) => box.value));
  ticked.forEach((id) => {
    if (shown.has(id)) return;
    const hidden = document.createElement("input");
    hidden.type = "hidden";
    hidden.name = "task";
    hidden.value = id;
    form.appendChild(hidden);
  });
});

updateBulkCount();

// Batch signing: "select every signature task on this page" ticks the signature tasks' boxes.
document.addEventListener("change", (event) => {
  const box = event.target;
  if (box instanceof HTMLInputElement && box.matches("[data-sign-all]")) {
    document.querySelectorAll("input[data-sign-task]").forEach((task) => { task.checked = box.checked; });
  }
});
