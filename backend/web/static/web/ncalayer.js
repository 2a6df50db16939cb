// NCALayer client: asks the national signing application on the signer's own computer for a CMS signature
// over a document, then hands that CMS to Qujat's check (POST /api/documents/<id>/cms-signature/).
//
// The protocol (module kz.gov.pki.knca.basics): the page opens a websocket to NCALayer (wss://127.0.0.1:13579),
// may receive a greeting ({"result":{"version":"1.4"}}) and heartbeats, sends
//   {"module":"kz.gov.pki.knca.basics","method":"sign","args":{"format":"cms","data":<base64 or [base64,…]>,…}}
// and receives {"status":true,"body":{"result":[cms,…]}} — or {"status":true,"body":{}} when the signer closed
// the key dialog, or {"status":false,"code":…,"message":…} when NCALayer failed. `data` as an array is
// NCALayer's multi-sign form: one key choice and one PIN for all of them, one CMS per item, in order.

export const DEFAULT_ADDRESS = "wss://127.0.0.1:13579/";
export const MODULE = "kz.gov.pki.knca.basics";

/** What went wrong, by kind: "unavailable" (NCALayer not running), "cancelled", "failed" (NCALayer said no). */
export class NCALayerError extends Error {
  constructor(kind, message = "", code = "") {
    super(message || kind);
    this.name = "NCALayerError";
    this.kind = kind;
    this.code = code;
  }
}

/** The sign request for one document (a base64 string) or many (an array: NCALayer's multi-sign form). */
export function signRequest(data, { locale = "ru", iin = "" } = {}) {
  return {
    module: MODULE,
    method: "sign",
    args: {
      allowedStorages: null,
      format: "cms",
      data,
      // decode: `data` is base64 of the bytes to sign; detached (not encapsulated); the document, not a digest.
      signingParams: { decode: true, encapsulate: false, digested: false, tsaProfile: null },
      // Signing keys only (extendedKeyUsage emailProtection, as NCA RK issues them); the holder's IIN if known.
      signerParams: { extKeyUsageOids: ["1.3.6.1.5.5.7.3.4"], iin: iin || null, chain: [] },
      locale: ["kk", "ru", "en"].includes(locale) ? locale : "ru",
    },
  };
}

/**
 * Classify one message from NCALayer: {kind: "ignore"} for greetings and heartbeats, {kind: "result", cms: […]},
 * {kind: "cancelled"} or {kind: "failed", code, message}.
 */
export function parseSignResponse(text) {
  if (typeof text !== "string" || text.startsWith("--heartbeat")) return { kind: "ignore" };
  let message;
  try {
    message = JSON.parse(text);
  } catch {
    return { kind: "failed", code: "PROTOCOL", message: "NCALayer sent something that is not JSON" };
  }
  if (message === null || typeof message !== "object") return { kind: "ignore" };
  // An NCALayer without the basics module answers {"success": false, "errorCode": "MODULE_NOT_FOUND"}.
  if (message.success === false || "errorCode" in message) {
    return { kind: "failed", code: String(message.errorCode || ""), message: String(message.errorCode || "") };
  }
  if (!("status" in message)) return { kind: "ignore" };
  if (message.status !== true) {
    return { kind: "failed", code: String(message.code || ""), message: String(message.message || message.details || "") };
  }
  const result = message.body?.result;
  if (result === undefined || result === null) return { kind: "cancelled" };
  const cms = (Array.isArray(result) ? result : [result]).map((item) => String(item).replace(/\s+/g, ""));
  if (!cms.length || cms.some((item) => !item)) return { kind: "cancelled" };
  return { kind: "result", cms };
}

/** Ask NCALayer at `address` to sign `data` (base64 string or array); resolves to the list of base64 CMS. */
export function signWithNCALayer({ address = DEFAULT_ADDRESS, data, locale, iin, WebSocketImpl = WebSocket }) {
  return new Promise((resolve, reject) => {
    let socket;
    let settled = false;
    const finish = (outcome, value) => {
      if (settled) return;
      settled = true;
      try { socket?.close(); } catch { /* already closed */ }
      outcome(value);
    };
    try {
      socket = new WebSocketImpl(address);
    } catch (error) {
      finish(reject, new NCALayerError("unavailable", String(error)));
      return;
    }
    let opened = false;
    socket.onopen = () => {
      opened = true;
      socket.send(JSON.stringify(signRequest(data, { locale, iin })));
    };
    socket.onmessage = (event) => {
      const answer = parseSignResponse(event.data);
      if (answer.kind === "ignore") return;
      if (answer.kind === "result") {
        const expected = Array.isArray(data) ? data.length : 1;
        if (answer.cms.length !== expected) {
          finish(reject, new NCALayerError("failed", `NCALayer returned ${answer.cms.length} signatures for ${expected} documents`, "COUNT"));
        } else {
          finish(resolve, answer.cms);
        }
      } else if (answer.kind === "cancelled") {
        finish(reject, new NCALayerError("cancelled"));
      } else {
        finish(reject, new NCALayerError("failed", answer.message, answer.code));
      }
    };
    // The browser gives no reason for a failed websocket (refused port, untrusted local certificate alike).
    socket.onerror = () => finish(reject, new NCALayerError(opened ? "failed" : "unavailable", "websocket error"));
    socket.onclose = () => finish(reject, new NCALayerError(opened ? "failed" : "unavailable", "connection closed"));
  });
}

export function bytesToBase64(bytes) {
  let binary = "";
  const chunk = 0x8000;
  for (let i = 0; i < bytes.length; i += chunk) {
    binary += String.fromCharCode.apply(null, bytes.subarray(i, i + chunk));
  }
  return btoa(binary);
}

function csrfToken(root) {
  const input = root.querySelector("input[name=csrfmiddlewaretoken]");
  if (input) return input.value;
  const match = document.cookie.match(/(?:^|;\s*)csrftoken=([^;]+)/);
  return match ? decodeURIComponent(match[1]) : "";
}

/** Wire one partial (web/partials/ncalayer_sign.html): a button that signs its document and a status line. */
export function attach(root) {
  const button = root.querySelector("[data-ncalayer-button]");
  const status = root.querySelector("[data-ncalayer-status]");
  const text = (name) => root.dataset[name] || "";
  const show = (state, message, details = []) => {
    root.dataset.state = state;
    status.className = `ncalayer-status small mt-2 ${state === "accepted" || state === "completed" ? "text-success" : state === "working" ? "text-body-secondary" : "text-danger"}`;
    status.replaceChildren(document.createTextNode(message));
    if (details.length) {
      const list = document.createElement("ul");
      list.className = "mb-0";
      details.forEach((detail) => {
        const item = document.createElement("li");
        item.textContent = detail;
        list.append(item);
      });
      status.append(list);
    }
  };
  button.addEventListener("click", async () => {
    button.disabled = true;
    try {
      show("working", text("msgFetching"));
      // On a signature task the server places the signer's stamp first and NCALayer signs those exact bytes, so
      // the signature goes into the PDF; elsewhere NCALayer signs the document as it is.
      const prepareUrl = root.dataset.prepareUrl;
      let data;
      let token = "";
      if (prepareUrl) {
        const prepared = await fetch(prepareUrl, {
          method: "POST",
          credentials: "same-origin",
          headers: { Accept: "application/json", "X-CSRFToken": csrfToken(root) },
        });
        const answer = await prepared.json().catch(() => ({}));
        if (!prepared.ok) {
          const reasons = Array.isArray(answer.fields?.cms) ? answer.fields.cms.map(String) : [];
          show("refused", text("msgRefused"), reasons.length ? reasons : [String(answer.detail || `HTTP ${prepared.status}`)]);
          button.disabled = false;
          return;
        }
        data = answer.content;
        token = answer.token;
      } else {
        const response = await fetch(root.dataset.documentUrl, { credentials: "same-origin" });
        if (!response.ok) throw new NCALayerError("document", `HTTP ${response.status}`);
        data = bytesToBase64(new Uint8Array(await response.arrayBuffer()));
      }
      show("working", text("msgWaiting"));
      const [cms] = await signWithNCALayer({
        address: root.dataset.ncalayerAddress || DEFAULT_ADDRESS,
        data,
        locale: document.documentElement.lang,
        iin: root.dataset.iin,
      });
      show("working", text("msgChecking"));
      const posted = await fetch(root.dataset.postUrl, {
        method: "POST",
        credentials: "same-origin",
        headers: { "Content-Type": "application/json", Accept: "application/json", "X-CSRFToken": csrfToken(root) },
        body: JSON.stringify(token ? { cms, token } : { cms }),
      });
      const answer = await posted.json().catch(() => ({}));
      if (posted.ok) {
        if (answer.task_completed) {
          // The task is done, as with the passphrase: the page shows it completed (and what comes next).
          show("completed", text("msgCompleted"));
          window.location.reload();
          return;
        }
        show("accepted", text("msgAccepted"));
        return;
      }
      const reasons = Array.isArray(answer.fields?.cms) ? answer.fields.cms.map(String) : [];
      show("refused", text("msgRefused"), reasons.length ? reasons : [String(answer.detail || `HTTP ${posted.status}`)]);
      button.disabled = false;
    } catch (error) {
      const kind = error instanceof NCALayerError ? error.kind : "failed";
      if (kind === "unavailable") show("unavailable", text("msgUnavailable"));
      else if (kind === "cancelled") show("cancelled", text("msgCancelled"));
      else if (kind === "document") show("failed", text("msgDocument"));
      else show("failed", text("msgFailed"), error.message ? [error.message] : []);
      button.disabled = false;
    }
  });
  root.dataset.state = "ready";
}

if (typeof document !== "undefined") document.querySelectorAll("[data-ncalayer-sign]").forEach((root) => attach(root));
