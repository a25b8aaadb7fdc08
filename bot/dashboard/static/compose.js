/*
 * Live preview of a broadcast on the compose page (templates/dashboard/broadcasts/compose.html).
 *
 * As staff type (debounced 300 ms), the form is POSTed to the JSON preview endpoint
 * (form[data-preview-url]) with the CSRF token in the X-CSRF-Token header, and the
 * preview is rebuilt with DOM nodes and textContent only: server text never goes
 * through innerHTML. Without this script the "Prévisualiser" button does the same
 * by reloading the page; nothing is stored either way.
 *
 * Stable hooks (browser tests rely on them):
 *   form#compose-form[data-preview-url]  fields: #topic #text_fr #text_en
 *     #channel-sms #channel-whatsapp #whatsapp_template #template_variables
 *     #scheduled_at #urgent; buttons #preview-button #send-button
 *   section#preview[data-state]  "empty" | "loading" | "ready" | "invalid" | "failed"
 *   ul#preview-errors            one li per field error (hidden when none)
 *   div#preview-lines            one section.preview-line#preview-<channel>-<language>
 *                                [data-channel][data-language][data-segments][data-recipients]
 *                                holding h3, p.preview-source (UCS-2 characters in <mark>),
 *                                pre.preview-text (the text as sent), ul.preview-facts,
 *                                ul.preview-warnings
 *   p#preview-total, p#preview-held
 */
(function () {
  "use strict";

  var DELAY_MS = 300;
  var form = document.getElementById("compose-form");
  var preview = document.getElementById("preview");
  if (!form || !preview || !window.fetch || !window.FormData) {
    return;
  }
  var url = form.getAttribute("data-preview-url");
  var tokenField = form.querySelector("input[name=csrf_token]");
  var errorsList = document.getElementById("preview-errors");
  var linesBox = document.getElementById("preview-lines");
  var total = document.getElementById("preview-total");
  var held = document.getElementById("preview-held");
  var timer = null;
  var sequence = 0;

  function element(tag, className, text) {
    var node = document.createElement(tag);
    if (className) {
      node.className = className;
    }
    if (text !== undefined) {
      node.textContent = text;
    }
    return node;
  }

  function list(className, items) {
    var ul = element("ul", className);
    items.forEach(function (item) {
      ul.appendChild(element("li", null, item));
    });
    return ul;
  }

  function clear(node) {
    while (node.firstChild) {
      node.removeChild(node.firstChild);
    }
  }

  function showErrors(errors) {
    clear(errorsList);
    var messages = Object.keys(errors || {}).map(function (field) {
      return errors[field];
    });
    messages.forEach(function (message) {
      errorsList.appendChild(element("li", null, message));
    });
    errorsList.hidden = messages.length === 0;
  }

  function lineSection(line) {
    var section = element("section", "preview-line");
    section.id = "preview-" + line.id;
    section.setAttribute("data-channel", line.channel);
    section.setAttribute("data-language", line.language);
    section.setAttribute("data-segments", String(line.segments));
    section.setAttribute("data-recipients", String(line.recipients));
    section.appendChild(element("h3", null, line.heading));
    var source = element("p", "preview-source");
    line.pieces.forEach(function (piece) {
      if (piece[1]) {
        source.appendChild(element("mark", null, piece[0]));
      } else {
        source.appendChild(document.createTextNode(piece[0]));
      }
    });
    section.appendChild(source);
    section.appendChild(element("pre", "preview-text", line.text));
    section.appendChild(list("preview-facts", line.facts));
    section.appendChild(list("preview-warnings", line.warnings));
    return section;
  }

  function render(data) {
    showErrors({});
    clear(linesBox);
    data.lines.forEach(function (line) {
      linesBox.appendChild(lineSection(line));
    });
    total.textContent = data.total;
    held.textContent = data.held || "";
    preview.setAttribute("data-state", "ready");
  }

  function invalid(errors) {
    showErrors(errors);
    clear(linesBox);
    total.textContent = "";
    held.textContent = "";
    preview.setAttribute("data-state", "invalid");
  }

  function refresh() {
    var mine = ++sequence;
    preview.setAttribute("data-state", "loading");
    fetch(url, {
      method: "POST",
      body: new FormData(form),
      credentials: "same-origin",
      headers: { "X-CSRF-Token": tokenField ? tokenField.value : "", Accept: "application/json" },
    })
      .then(function (response) {
        var type = response.headers.get("Content-Type") || "";
        if (type.indexOf("application/json") === -1) {
          throw new Error("status " + response.status);
        }
        return response.json();
      })
      .then(function (data) {
        if (mine !== sequence) {
          return; // an answer to older text: a newer request is on its way
        }
        if (data.ok) {
          render(data);
        } else {
          invalid(data.errors);
        }
      })
      .catch(function () {
        if (mine === sequence) {
          preview.setAttribute("data-state", "failed");
        }
      });
  }

  function schedule() {
    window.clearTimeout(timer);
    timer = window.setTimeout(refresh, DELAY_MS);
  }

  form.addEventListener("input", schedule);
  form.addEventListener("change", schedule);
})();
