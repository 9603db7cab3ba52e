// A form sent back with mistakes: the summary of them takes the focus, so a phone scrolls
// to it and a screen reader reads it; each line links to its field, and following a link
// puts the cursor in that field (not only scrolls to it).
(function () {
  "use strict";
  var summary = document.querySelector("[data-error-summary]");
  if (!summary) { return; }
  summary.focus();
  summary.addEventListener("click", function (event) {
    var link = event.target.closest("a[href^='#']");
    if (!link) { return; }
    var target = document.getElementById(decodeURIComponent(link.getAttribute("href").slice(1)));
    if (!target) { return; }
    event.preventDefault();
    target.focus();
    target.scrollIntoView({block: "center"});
  });
}());
