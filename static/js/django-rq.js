// django-rq's admin pages (templates/django_rq/), beside what its templates do:
// - a click on a job's result row opens that result, as django-rq's own onclick handler
//   did before the Content-Security-Policy refused it (the row's "View" link works
//   without script);
// - the job lists get the counter of ticked rows that Django's actions.js updates on
//   every tick (django-rq's lists lack it, and actions.js fails without it).
(function () {
  "use strict";
  document.addEventListener("click", function (event) {
    var row = event.target.closest("tr.rq-clickable");
    if (!row || event.target.closest("a, button, input, select, label")) { return; }
    var link = row.querySelector("a[href]");
    if (link) { window.location.assign(link.href); }
  });

  var actions = document.querySelector("#changelist-form div.actions");
  if (actions && !actions.querySelector("span.action-counter")) {
    var counter = document.createElement("span");
    counter.className = "action-counter";
    counter.setAttribute("aria-live", "polite");
    counter.dataset.actionsIcnt = String(document.querySelectorAll("tr input.action-select").length);
    actions.appendChild(counter);
  }
})();
