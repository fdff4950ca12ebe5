/* Before/after view: a <figure data-compare> holding a .before-after__stage and an <input type=range class="before-after__range">.
   The range (mouse, touch or arrow keys) moves the line: the "after" layer shows right of it. */
(function () {
  "use strict";

  function init(figure) {
    if (figure.getAttribute("data-compare-ready")) return;
    figure.setAttribute("data-compare-ready", "1");
    var stage = figure.querySelector(".before-after__stage");
    var range = figure.querySelector(".before-after__range");
    if (!stage || !range) return;
    function update() {
      var value = Number(range.value);
      stage.style.setProperty("--before-after-position", value + "%");
      range.setAttribute("aria-valuetext", (100 - value) + "% shows Real-ESRGAN");
    }
    range.addEventListener("input", update);
    update();
  }

  function initAll(root) {
    Array.prototype.forEach.call((root || document).querySelectorAll("[data-compare]"), init);
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", function () { initAll(document); });
  } else {
    initAll(document);
  }
  document.addEventListener("htmx:afterSwap", function (event) { initAll(event.target); });
})();
