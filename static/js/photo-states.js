// Keeps each photo's face state up to date without a reload.
// The table carries data-photo-states-url; each row data-photo-id; the state
// cell data-photo-state, the match progress data-match-state. Asks once for every
// photo, then polls while any face or match search is still waiting or running.
(function () {
  "use strict";
  var table = document.querySelector("[data-photo-states-url]");
  if (!table) { return; }
  var url = table.getAttribute("data-photo-states-url");
  var busy = ["waiting", "processing"];
  var searching = ["queued", "running"];
  var delay = 2000;

  function rows() { return Array.prototype.slice.call(table.querySelectorAll("[data-photo-id]")); }

  function pending() {
    return rows().filter(function (row) {
      var cell = row.querySelector("[data-photo-state]");
      var match = row.querySelector("[data-match-state]");
      return (cell && busy.indexOf(cell.getAttribute("data-photo-state")) !== -1) ||
        (match && searching.indexOf(match.getAttribute("data-match-state")) !== -1);
    });
  }

  function apply(photo) {
    var row = table.querySelector('[data-photo-id="' + photo.id + '"]');
    if (!row) { return; }
    var cell = row.querySelector("[data-photo-state]");
    if (cell.getAttribute("data-photo-state") !== photo.state) {
      cell.setAttribute("data-photo-state", photo.state);
      cell.textContent = photo.label;
    }
    var match = row.querySelector("[data-match-state]");
    if (match && match.getAttribute("data-match-state") !== photo.match_state) {
      match.setAttribute("data-match-state", photo.match_state);
      match.textContent = photo.match_label;
    }
    var link = row.querySelector(".pick-link");
    if (link) { link.hidden = !photo.needs_pick; }
  }

  function poll(everyRow) {
    var waiting = everyRow ? rows() : pending();
    if (!waiting.length) { return; }
    var ids = waiting.map(function (row) { return row.getAttribute("data-photo-id"); });
    fetch(url + "?ids=" + ids.join(","), { credentials: "same-origin", headers: { "Accept": "application/json" } })
      .then(function (response) { return response.ok ? response.json() : { photos: [] }; })
      .then(function (data) { data.photos.forEach(apply); })
      .catch(function () { delay = Math.min(delay * 2, 30000); })
      .then(function () { window.setTimeout(function () { poll(false); }, delay); });
  }

  poll(true);
})();
