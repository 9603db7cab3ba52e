// Keeps an import's progress page up to date while the import runs.
// The section carries data-import-progress-url and data-import-finished; each
// number data-progress="<name>" (a dot for nested numbers, e.g. photos.embedded).
// Polls every two seconds; reloads once when the import ends, to show the
// refused rows, and keeps polling the photos until none is waiting.
(function () {
  "use strict";
  var section = document.querySelector("[data-import-progress-url]");
  if (!section) { return; }
  var url = section.getAttribute("data-import-progress-url");
  var wasFinished = section.getAttribute("data-import-finished") === "true";
  var bar = section.querySelector("[data-progress-bar]");
  var delay = 2000;

  function valueOf(data, path) {
    return path.split(".").reduce(function (node, key) {
      return node === undefined || node === null ? undefined : node[key];
    }, data);
  }

  function apply(data) {
    section.querySelectorAll("[data-progress]").forEach(function (element) {
      var value = valueOf(data, element.getAttribute("data-progress"));
      if (value === undefined || value === null) { return; }
      element.textContent = String(value);
      if (element.hasAttribute("hidden") && value) { element.removeAttribute("hidden"); }
    });
    if (bar) {
      bar.max = data.rows_total; bar.value = data.rows_processed;
      bar.className = "bar-" + data.tone;
    }
    var badge = section.querySelector("[data-progress-tone]");
    if (badge) { badge.className = "badge badge-" + data.tone; }
  }

  function poll() {
    fetch(url, { credentials: "same-origin", headers: { "Accept": "application/json" } })
      .then(function (response) { return response.ok ? response.json() : null; })
      .then(function (data) {
        if (!data) { return; }
        apply(data);
        if (data.finished && !wasFinished) { window.location.reload(); return; }
        if (data.finished && !data.photos.waiting) { delay = 0; }
      })
      .catch(function () { delay = Math.min(delay * 2, 30000); })
      .then(function () { if (delay) { window.setTimeout(poll, delay); } });
  }

  if (!wasFinished || section.querySelector('[data-progress="photos.waiting"]').textContent !== "0") {
    window.setTimeout(poll, delay);
  }
}());
