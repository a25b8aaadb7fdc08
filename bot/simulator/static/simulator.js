// The phone simulator's page: what the citizen types goes to the simulator's
// JSON endpoints, which relay it to the real webhooks; what the service sent
// to the number is polled every second. Message text only ever enters the page
// through textContent, never as HTML.
"use strict";

(function () {
  const POLL_MS = 1000;
  const root = document.getElementById("simulator");
  if (!root) return;
  const texts = JSON.parse(document.getElementById("simulator-texts").textContent);
  const languages = JSON.parse(document.getElementById("simulator-languages").textContent);
  const phone = root.dataset.phone;
  const serviceCode = root.dataset.serviceCode;
  const uiLang = root.dataset.lang;
  const api = root.dataset.api;

  const $ = (id) => document.getElementById(id);

  async function post(path, body) {
    try {
      const response = await fetch(api + path, {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify(body),
      });
      let data = null;
      try {
        data = await response.json();
      } catch (_ignored) {
        data = null;
      }
      return { ok: response.ok, status: response.status, data: data };
    } catch (_offline) {
      return { ok: false, status: 0, data: null };
    }
  }

  function failure(result) {
    if (result.status === 0) return texts.unreachable;
    const data = result.data || {};
    const why = data.description || data.body || "";
    return texts.refused + " (" + result.status + ")" + (why ? " : " + why : "");
  }

  function clock(iso) {
    const moment = iso ? new Date(iso) : new Date();
    return moment.toLocaleTimeString(uiLang, {
      hour: "2-digit",
      minute: "2-digit",
      timeZone: "Africa/Porto-Novo",
    });
  }

  // WhatsApp's *bold*, as separate text nodes: the text itself is never parsed as HTML.
  function whatsappText(container, text) {
    text.split(/(\*[^*\n]+\*)/).forEach(function (part) {
      if (part.length > 2 && part.startsWith("*") && part.endsWith("*")) {
        const strong = document.createElement("strong");
        strong.textContent = part.slice(1, -1);
        container.appendChild(strong);
      } else if (part) {
        container.appendChild(document.createTextNode(part));
      }
    });
  }

  function messageItem(text, options) {
    const item = document.createElement("li");
    item.className = "message " + (options.outgoing ? "outgoing" : "incoming");
    if (options.id !== undefined) item.dataset.id = String(options.id);
    if (options.broadcast) item.classList.add("broadcast");
    const meta = document.createElement("span");
    meta.className = "meta";
    const who = options.outgoing ? texts.you : texts.service;
    meta.textContent = who + " · " + clock(options.at) + (options.broadcast ? " · " + texts.broadcast : "");
    const body = document.createElement("div");
    body.className = "body";
    if (options.whatsapp) whatsappText(body, text);
    else body.textContent = text;
    item.appendChild(meta);
    item.appendChild(body);
    return item;
  }

  function append(list, item) {
    list.appendChild(item);
    item.scrollIntoView({ block: "nearest" });
  }

  // --- USSD -----------------------------------------------------------------
  const screen = $("ussd-screen");
  const ussdInput = $("ussd-input");
  const callButton = $("ussd-call");
  const ussd = { state: "idle", sessionId: null, history: "", busy: false };

  function showScreen(text, state) {
    ussd.state = state;
    screen.dataset.state = state;
    screen.textContent = text;
    callButton.textContent = state === "open" ? texts.answer : texts.dial;
  }

  function idle() {
    ussd.sessionId = null;
    ussd.history = "";
    showScreen(texts.dial_hint, "idle");
  }

  // "*202*22#" opens the menu; "*202*22*1*1#" opens it with answers already given.
  function dialedInputs(dialed) {
    const compact = dialed.replace(/\s+/g, "");
    if (compact === serviceCode) return "";
    const base = serviceCode.replace(/#$/, "");
    if (compact.endsWith("#") && compact.startsWith(base + "*")) {
      return compact.slice(base.length + 1, -1);
    }
    return null;
  }

  async function hop(text) {
    ussd.busy = true;
    screen.dataset.busy = "true";
    const result = await post("ussd", { phone: phone, session_id: ussd.sessionId, text: text });
    ussd.busy = false;
    delete screen.dataset.busy;
    if (!result.ok) {
      idle();
      showScreen(failure(result), "ended");
      return;
    }
    ussd.sessionId = result.data.session_id;
    ussd.history = text;
    if (result.data.end) {
      showScreen(result.data.screen, "ended");
      post("ussd/end", { phone: phone, session_id: ussd.sessionId, completed: true });
      ussd.sessionId = null;
    } else {
      showScreen(result.data.screen, "open");
    }
  }

  $("ussd-form").addEventListener("submit", function (event) {
    event.preventDefault();
    if (ussd.busy) return;
    const typed = ussdInput.value.trim();
    ussdInput.value = "";
    if (ussd.state === "open") {
      if (!typed) return;
      hop(ussd.history === "" ? typed : ussd.history + "*" + typed);
      return;
    }
    if (ussd.state === "ended" && !typed) {
      idle();
      return;
    }
    const inputs = dialedInputs(typed);
    if (inputs === null) {
      showScreen(texts.unknown_code, "ended");
      return;
    }
    ussd.sessionId = null;
    hop(inputs);
  });

  $("ussd-hangup").addEventListener("click", function () {
    if (ussd.state === "open" && ussd.sessionId) {
      post("ussd/end", { phone: phone, session_id: ussd.sessionId, completed: false });
    }
    ussdInput.value = "";
    idle();
  });

  $("keypad").addEventListener("click", function (event) {
    const button = event.target.closest("button[data-key]");
    if (!button) return;
    const key = button.dataset.key;
    ussdInput.value = key === "back" ? ussdInput.value.slice(0, -1) : ussdInput.value + key;
    ussdInput.focus();
  });

  // --- SMS and WhatsApp -------------------------------------------------------
  function sender(formId, fieldId, statusId, path, list, whatsapp) {
    const form = $(formId);
    const field = $(fieldId);
    const status = $(statusId);
    form.addEventListener("submit", async function (event) {
      event.preventDefault();
      const text = field.value;
      if (!text.trim()) return;
      status.textContent = texts.sending;
      const result = await post(path, { phone: phone, text: text });
      if (!result.ok) {
        status.textContent = failure(result);
        return;
      }
      status.textContent = "";
      field.value = "";
      append(list, messageItem(text, { outgoing: true, whatsapp: whatsapp }));
    });
    field.addEventListener("keydown", function (event) {
      if (event.key === "Enter" && !event.shiftKey && field.tagName === "TEXTAREA") {
        event.preventDefault();
        form.requestSubmit();
      }
    });
  }

  const inbox = $("sms-inbox");
  const chat = $("chat-log");
  sender("sms-form", "sms-text", "sms-status", "sms", $("sms-outbox"), false);
  sender("chat-form", "chat-text", "chat-status", "whatsapp", chat, true);

  // --- What the service sent --------------------------------------------------
  const seen = new Set();
  let cursor = 0;

  function receive(message) {
    if (seen.has(message.id)) return;
    seen.add(message.id);
    const whatsapp = message.channel === "whatsapp";
    const item = messageItem(message.text, {
      id: message.id,
      at: message.at,
      broadcast: message.broadcast,
      whatsapp: whatsapp,
    });
    append(whatsapp ? chat : inbox, item);
  }

  async function poll() {
    let again = POLL_MS;
    try {
      const query = new URLSearchParams({ phone: phone, after: String(cursor) });
      const response = await fetch(api + "messages?" + query.toString());
      if (response.ok) {
        const data = await response.json();
        data.messages.forEach(receive);
        cursor = data.cursor;
        $("service-language").textContent = languages[data.language] || data.language;
        if (data.more) again = 0;
      }
    } catch (_offline) {
      again = POLL_MS;
    }
    window.setTimeout(poll, again);
  }

  idle();
  poll();
})();
