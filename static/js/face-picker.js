// The face picker: click a detected box (or choose it in the list), or drag
// across the photo to draw a box. Drawn boxes fill the numeric fields, in the
// stored photo's pixels, so the form works from the keyboard and without script.
// Every position is set here through the element's style object: the page's
// Content-Security-Policy allows no style attribute in the markup.
(function () {
  "use strict";
  var form = document.querySelector("[data-face-picker]");
  if (!form) { return; }
  var image = form.querySelector("[data-face-picker-image]");
  var drawn = form.querySelector("[data-drawn-box]");
  var naturalWidth = parseInt(form.getAttribute("data-natural-width"), 10);
  var naturalHeight = parseInt(form.getAttribute("data-natural-height"), 10);
  var fields = ["box_x", "box_y", "box_w", "box_h"].map(function (name) {
    return form.querySelector('[name="' + name + '"]');
  });
  var radios = Array.prototype.slice.call(form.querySelectorAll('input[name="face"]'));
  var boxes = Array.prototype.slice.call(form.querySelectorAll(".face-box"));

  // Each detected box, from its data-box (left, top, width, height in percent).
  boxes.forEach(function (box) {
    var place = box.getAttribute("data-box").split(" ");
    box.style.left = place[0] + "%";
    box.style.top = place[1] + "%";
    box.style.width = place[2] + "%";
    box.style.height = place[3] + "%";
    box.hidden = false;
  });

  function highlight() {
    boxes.forEach(function (box) {
      var radio = form.querySelector('input[name="face"][value="' + box.getAttribute("data-face-id") + '"]');
      box.classList.toggle("chosen", Boolean(radio && radio.checked));
    });
  }

  function clearBox() {
    fields.forEach(function (field) { if (field) { field.value = ""; } });
    drawn.hidden = true;
  }

  boxes.forEach(function (box) {
    box.addEventListener("click", function (event) {
      event.preventDefault();
      var radio = form.querySelector('input[name="face"][value="' + box.getAttribute("data-face-id") + '"]');
      if (radio) { radio.checked = true; radio.focus(); }
      clearBox();
      highlight();
    });
  });
  radios.forEach(function (radio) {
    radio.addEventListener("change", function () { clearBox(); highlight(); });
  });

  function scale() { return naturalWidth / image.getBoundingClientRect().width; }

  function point(event) {
    var rect = image.getBoundingClientRect();
    return {
      x: Math.min(Math.max(event.clientX - rect.left, 0), rect.width),
      y: Math.min(Math.max(event.clientY - rect.top, 0), rect.height)
    };
  }

  function show(x, y, w, h) {
    drawn.style.left = x + "px";
    drawn.style.top = y + "px";
    drawn.style.width = w + "px";
    drawn.style.height = h + "px";
    drawn.hidden = false;
  }

  var start = null;
  image.addEventListener("pointerdown", function (event) {
    event.preventDefault();
    start = point(event);
    image.setPointerCapture(event.pointerId);
  });
  image.addEventListener("pointermove", function (event) {
    if (!start) { return; }
    var now = point(event);
    show(Math.min(start.x, now.x), Math.min(start.y, now.y),
         Math.abs(now.x - start.x), Math.abs(now.y - start.y));
  });
  image.addEventListener("pointerup", function (event) {
    if (!start) { return; }
    var now = point(event);
    var x = Math.min(start.x, now.x), y = Math.min(start.y, now.y);
    var w = Math.abs(now.x - start.x), h = Math.abs(now.y - start.y);
    start = null;
    if (w < 4 || h < 4) { return; }
    var factor = scale();
    var values = [x * factor, y * factor, w * factor, h * factor].map(Math.round);
    values[2] = Math.min(values[2], naturalWidth - values[0]);
    values[3] = Math.min(values[3], naturalHeight - values[1]);
    fields.forEach(function (field, index) { if (field) { field.value = values[index]; } });
    radios.forEach(function (radio) { radio.checked = false; });
    highlight();
  });

  // Typing the numbers moves the drawn box too.
  fields.forEach(function (field) {
    if (!field) { return; }
    field.addEventListener("input", function () {
      var values = fields.map(function (f) { return parseFloat(f.value); });
      if (values.some(isNaN)) { return; }
      radios.forEach(function (radio) { radio.checked = false; });
      highlight();
      var factor = scale();
      show(values[0] / factor, values[1] / factor, values[2] / factor, values[3] / factor);
    });
  });
  highlight();
})();
