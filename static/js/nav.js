// The header's menus (templates/base.html): the phone-width menu button, and the disclosure menus (<details
// data-menu>: navigation groups, theme, account). One menu open at a time; Escape closes the innermost open one and
// returns focus to its summary; a click outside or focus leaving a menu closes it. Nothing traps focus.
(function () {
  "use strict";
  var header = document.querySelector(".site-header");
  if (!header) { return; }
  var toggle = header.querySelector(".nav-toggle");
  var nav = document.getElementById("site-nav");
  var menus = Array.prototype.slice.call(header.querySelectorAll("details[data-menu]"));

  function panelOpen() { return !!toggle && toggle.getAttribute("aria-expanded") === "true"; }
  function setPanel(open) {
    if (!toggle || !nav) { return; }
    toggle.setAttribute("aria-expanded", String(open));
    nav.classList.toggle("is-open", open);
  }

  if (toggle && nav) {
    toggle.addEventListener("click", function () {
      setPanel(!panelOpen());
      // The panel opens on the group of the current page.
      var current = panelOpen() && nav.querySelector("summary[aria-current]");
      if (current) { current.parentElement.open = true; }
    });
  }
  menus.forEach(function (menu) {
    menu.addEventListener("toggle", function () {
      if (!menu.open) { return; }
      menus.forEach(function (other) { if (other !== menu) { other.open = false; } });
    });
    menu.addEventListener("focusout", function (event) {
      if (event.relatedTarget && !menu.contains(event.relatedTarget)) { menu.open = false; }
    });
  });

  document.addEventListener("keydown", function (event) {
    if (event.key !== "Escape") { return; }
    var open = menus.filter(function (menu) { return menu.open; });
    if (open.length) {
      open[0].open = false;
      open[0].querySelector("summary").focus();
    } else if (panelOpen()) {
      setPanel(false);
      toggle.focus();
    }
  });
  document.addEventListener("click", function (event) {
    if (toggle && toggle.contains(event.target)) { return; }
    menus.forEach(function (menu) { if (menu.open && !menu.contains(event.target)) { menu.open = false; } });
    if (panelOpen() && !header.contains(event.target)) { setPanel(false); }
  });
})();
