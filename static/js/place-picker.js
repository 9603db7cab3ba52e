// Suggests China's divisions while a place is typed (a province, a city, a district).
// Works on the inputs marked data-place-picker="province|city|district" and grouped by
// data-place-group; the province input carries data-place-url, the public JSON list of
// divisions. Without this script the same fields take a code, a Chinese name or pinyin
// and the server resolves them, so nothing here is needed to post a place.
(function () {
  "use strict";
  var inputs = document.querySelectorAll("input[data-place-picker]");
  if (!inputs.length || !window.fetch) { return; }
  var counter = 0;

  function sibling(input, level) {
    return document.querySelector('input[data-place-group="' + input.getAttribute("data-place-group") +
      '"][data-place-picker="' + level + '"]');
  }

  function attach(input) {
    var level = input.getAttribute("data-place-picker");
    if (level === "country") { return; }
    var province = level === "province" ? input : sibling(input, "province");
    var url = province && province.getAttribute("data-place-url");
    if (!url) { return; }
    var list = document.createElement("datalist");
    counter += 1;
    list.id = "place-suggestions-" + counter;
    input.parentNode.appendChild(list);
    input.setAttribute("list", list.id);
    var timer = null;
    var asked = "";

    function show(divisions) {
      var within = level === "province" ? "" : (province.value.trim().match(/^\d+$/) || [""])[0];
      while (list.firstChild) { list.removeChild(list.firstChild); }
      divisions.forEach(function (d) {
        if (within && d.code.indexOf(within) !== 0) { return; }
        var option = document.createElement("option");
        // The province field takes the code (it names the whole place); the others a name.
        option.value = level === "province" ? d.code : d.name;
        option.textContent = d.label + " (" + d.code + ")";
        list.appendChild(option);
      });
    }

    function ask() {
      var text = input.value.trim();
      if (!text || text === asked) { return; }
      asked = text;
      var address = url + (url.indexOf("?") === -1 ? "?" : "&") + "q=" + encodeURIComponent(text);
      fetch(address, { credentials: "same-origin", headers: { "Accept": "application/json" } })
        .then(function (response) { return response.ok ? response.json() : { divisions: [] }; })
        .then(function (data) { if (input.value.trim() === text) { show(data.divisions || []); } })
        .catch(function () { /* The server still resolves what is typed. */ });
    }

    input.addEventListener("input", function () {
      window.clearTimeout(timer);
      timer = window.setTimeout(ask, 200);
    });
  }

  Array.prototype.forEach.call(inputs, attach);
}());
