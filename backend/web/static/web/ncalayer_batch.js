// Batch signing with NCALayer: many documents, one key choice and one PIN on the signer's own computer.
//
// For each document the server first places the signer's stamp (POST …/cms-signature/prepare/ → {content, token});
// then NCALayer is asked ONCE with its multi-sign form (data = the list of prepared contents → one CMS per item, in
// order); then each CMS is posted with its token (POST …/cms-signature/), which embeds it and completes the task
// once all its documents are signed. Each document stands alone: one that cannot be prepared, or whose CMS is
// refused, is reported by name and the others go on. If NCALayer is not running or the signer cancels, nothing is
// posted, so nothing is signed.

import { DEFAULT_ADDRESS, NCALayerError, signWithNCALayer } from "./ncalayer.js";

/** Run `work(item, index)` over `items`, at most `limit` at a time; resolves to [{ok, value|reason}] in order. */
export async function eachLimited(items, limit, work) {
  const outcomes = new Array(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const index = next++;
      try {
        outcomes[index] = { ok: true, value: await work(items[index], index) };
      } catch (error) {
        outcomes[index] = { ok: false, reason: error };
      }
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, worker));
  return outcomes;
}

/**
 * Sign `items` with one NCALayer call.
 *
 *   prepare(item) → {content, token}      the bytes NCALayer signs (base64) and the server's token for them
 *   sign([content, …]) → [cms, …]         NCALayer (signWithNCALayer with an array): one CMS per content, in order
 *   post(item, {cms, token})              the server's check; throws with the reason when refused
 *   onProgress({phase, done, total})      phase "preparing", "waiting" or "posting"
 *
 * Resolves to {signed: [item…], failed: [{item, reason}…]}; an NCALayerError from `sign` (not running, cancelled,
 * failed) is thrown as it is, after no post at all. Posts go one after another: a task's documents are posted in
 * order, so the last one completes the task.
 */
export async function signBatch({ items, prepare, sign, post, onProgress = () => {}, concurrency = 3 }) {
  const total = items.length;
  const failed = [];
  let prepared = 0;
  onProgress({ phase: "preparing", done: 0, total });
  const preparations = await eachLimited(items, concurrency, async (item) => {
    try {
      return await prepare(item);
    } finally {
      prepared += 1;
      onProgress({ phase: "preparing", done: prepared, total });
    }
  });
  const ready = [];
  preparations.forEach((outcome, index) => {
    if (outcome.ok) ready.push({ item: items[index], ...outcome.value });
    else failed.push({ item: items[index], reason: reasonOf(outcome.reason) });
  });
  if (!ready.length) return { signed: [], failed };

  onProgress({ phase: "waiting", done: 0, total: ready.length });
  const signatures = await sign(ready.map((entry) => entry.content));
  if (!Array.isArray(signatures) || signatures.length !== ready.length) {
    throw new NCALayerError("failed", `NCALayer returned ${signatures?.length} signatures for ${ready.length} documents`, "COUNT");
  }

  const signed = [];
  onProgress({ phase: "posting", done: 0, total: ready.length });
  for (let index = 0; index < ready.length; index += 1) {
    const { item, token } = ready[index];
    try {
      await post(item, { cms: signatures[index], token });
      signed.push(item);
    } catch (error) {
      failed.push({ item, reason: reasonOf(error) });
    }
    onProgress({ phase: "posting", done: index + 1, total: ready.length });
  }
  // Failures in the order of the list the signer reviewed.
  failed.sort((a, b) => items.indexOf(a.item) - items.indexOf(b.item));
  return { signed, failed };
}

function reasonOf(error) {
  return error instanceof Error ? error.message : String(error ?? "");
}

function csrfToken(root) {
  const input = root.querySelector("input[name=csrfmiddlewaretoken]");
  if (input) return input.value;
  const match = document.cookie.match(/(?:^|;\s*)csrftoken=([^;]+)/);
  return match ? decodeURIComponent(match[1]) : "";
}

/** POST to Qujat's API; resolves to the JSON answer, throws an Error carrying the server's reason when refused. */
async function apiPost(url, root, body) {
  const response = await fetch(url, {
    method: "POST",
    credentials: "same-origin",
    headers: {
      Accept: "application/json",
      "X-CSRFToken": csrfToken(root),
      ...(body === undefined ? {} : { "Content-Type": "application/json" }),
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const answer = await response.json().catch(() => ({}));
  if (response.ok) return answer;
  const reasons = Array.isArray(answer.fields?.cms) ? answer.fields.cms.map(String) : [];
  throw new Error(reasons.length ? reasons.join(" ") : String(answer.detail || `HTTP ${response.status}`));
}

/** Resolves when a websocket to NCALayer opens (then closes it); rejects with NCALayerError("unavailable"). */
export function reachNCALayer(address = DEFAULT_ADDRESS, WebSocketImpl = WebSocket) {
  return new Promise((resolve, reject) => {
    let socket;
    try {
      socket = new WebSocketImpl(address);
    } catch (error) {
      reject(new NCALayerError("unavailable", String(error)));
      return;
    }
    socket.onopen = () => {
      socket.onclose = null;
      socket.close();
      resolve();
    };
    socket.onerror = () => reject(new NCALayerError("unavailable", "websocket error"));
    socket.onclose = () => reject(new NCALayerError("unavailable", "connection closed"));
  });
}

const fill = (template, values) => template.replace(/\{(\w+)\}/g, (whole, name) => (name in values ? String(values[name]) : whole));

/** Wire the batch page's NCALayer section (inbox/batch_sign.html): button, progress bar, status, failures. */
export function attachBatch(root) {
  const button = root.querySelector("[data-ncalayer-batch-button]");
  const bar = root.querySelector("[data-ncalayer-batch-progress]");
  const status = root.querySelector("[data-ncalayer-batch-status]");
  const failures = root.querySelector("[data-ncalayer-batch-failures]");
  const text = (name, values = {}) => fill(root.dataset[name] || "", values);
  const source = document.getElementById(root.dataset.items);
  const items = source ? JSON.parse(source.textContent) : [];
  const done = new Set(); // documents signed by an earlier press: a retry signs only the rest
  const otherButtons = () => Array.from(document.querySelectorAll("[data-testid=batch-sign]"));

  const progress = (fraction) => {
    const percent = Math.round(100 * fraction);
    bar.parentElement.hidden = false;
    bar.parentElement.setAttribute("aria-valuenow", String(percent));
    bar.style.width = `${percent}%`;
  };
  const show = (state, message) => {
    root.dataset.state = state;
    const tone = { working: "text-body-secondary", done: "text-success", partial: "text-warning-emphasis" }[state];
    status.className = `small mt-2 ${tone || "text-danger"}`;
    status.textContent = message;
  };
  const listFailures = (failed) => {
    failures.replaceChildren();
    failures.hidden = !failed.length;
    if (!failed.length) return;
    const heading = document.createElement("p");
    heading.className = "mb-1";
    heading.textContent = text("msgFailures");
    const list = document.createElement("ul");
    list.className = "mb-0";
    failed.forEach(({ item, reason }) => {
      const entry = document.createElement("li");
      entry.dataset.testid = "ncalayer-batch-failed";
      const name = document.createElement("strong");
      name.textContent = item.label;
      entry.append(name, document.createTextNode(reason ? `: ${reason}` : ""));
      list.append(entry);
    });
    failures.append(heading, list);
  };

  // A task whose documents are all signed: its row says so and leaves the passphrase form (nothing to sign twice).
  const markSignedTasks = () => {
    const tasks = new Set(items.map((item) => item.task));
    tasks.forEach((task) => {
      if (!items.every((item) => item.task !== task || done.has(item.document))) return;
      const row = document.querySelector(`[data-testid=batch-task][data-task-id="${task}"]`);
      if (!row || row.dataset.state === "signed") return;
      row.dataset.state = "signed";
      row.querySelectorAll("input[name=task]").forEach((input) => { input.disabled = true; });
      const badge = document.createElement("span");
      badge.className = "badge text-bg-success ms-2";
      badge.textContent = text("msgSigned");
      row.lastElementChild?.append(badge);
    });
  };

  button.addEventListener("click", async () => {
    const pending = items.filter((item) => !done.has(item.document));
    if (!pending.length) return;
    button.disabled = true;
    otherButtons().forEach((other) => { other.disabled = true; });
    listFailures([]);
    const address = root.dataset.ncalayerAddress || DEFAULT_ADDRESS;
    try {
      show("working", text("msgConnecting"));
      progress(0);
      // Before preparing sixty documents: is NCALayer there at all?
      await reachNCALayer(address);
      const { signed, failed } = await signBatch({
        items: pending,
        prepare: (item) => apiPost(item.prepare, root),
        sign: (contents) => signWithNCALayer({ address, data: contents, locale: document.documentElement.lang, iin: root.dataset.iin }),
        post: (item, body) => apiPost(item.post, root, body),
        onProgress: ({ phase, done: count, total }) => {
          if (phase === "preparing") {
            show("working", text("msgPreparing", { done: count, total }));
            progress(total ? count / total / 2 : 0);
          } else if (phase === "waiting") {
            show("working", text("msgWaiting", { total }));
          } else {
            show("working", text("msgPosting", { done: count, total }));
            progress(0.5 + (total ? count / total / 2 : 0));
          }
        },
      });
      signed.forEach((item) => done.add(item.document));
      markSignedTasks();
      progress(1);
      show(failed.length ? "partial" : "done", text("msgDone", { signed: done.size, total: items.length }));
      listFailures(failed);
    } catch (error) {
      const kind = error instanceof NCALayerError ? error.kind : "failed";
      if (kind === "unavailable") show("unavailable", text("msgUnavailable"));
      else if (kind === "cancelled") show("cancelled", text("msgCancelled"));
      else show("failed", `${text("msgFailed")} ${error.message || ""}`.trim());
      bar.parentElement.hidden = true;
    } finally {
      const remaining = items.some((item) => !done.has(item.document));
      button.disabled = !remaining;
      otherButtons().forEach((other) => { other.disabled = !remaining; });
    }
  });
  root.dataset.state = "ready";
}

if (typeof document !== "undefined") document.querySelectorAll("[data-ncalayer-batch]").forEach((root) => attachBatch(root));
