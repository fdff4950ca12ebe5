// The colour theme (portal/theme.py): loaded synchronously in <head> so the saved choice applies before the first
// paint. The server renders <html data-theme> from the "theme" cookie; localStorage keeps the choice when the cookie
// is gone. Also marks <html class="js"> so the CSS may collapse the navigation behind its menu button.
(function () {
  "use strict";
  var KEY = "theme";
  var THEMES = ["system", "light", "dark"];
  var root = document.documentElement;
  root.classList.add("js");

  function valid(value) { return THEMES.indexOf(value) !== -1; }
  function cookieTheme() {
    var match = document.cookie.match(/(?:^|;\s*)theme=([a-z]+)/);
    return match && valid(match[1]) ? match[1] : null;
  }
  function stored() {
    try { return localStorage.getItem(KEY); } catch (e) { return null; }
  }
  function apply(theme) {
    root.setAttribute("data-theme", theme);
    var meta = document.querySelector('meta[name="color-scheme"]');
    if (meta) { meta.setAttribute("content", theme === "system" ? "dark light" : theme); }
  }
  function remember(theme) {
    try { localStorage.setItem(KEY, theme); } catch (e) { /* private mode: the cookie still works */ }
    document.cookie = KEY + "=" + theme + "; path=/; max-age=31536000; samesite=lax" +
      (location.protocol === "https:" ? "; secure" : "");
  }

  // The cookie is what the server rendered; without one, the browser's own memory brings the choice back.
  var fromCookie = cookieTheme();
  var saved = stored();
  if (fromCookie) {
    if (saved !== fromCookie) { remember(fromCookie); }
  } else if (valid(saved)) {
    apply(saved);
    remember(saved);
  }

  function show(theme) {
    document.querySelectorAll("[data-theme-form]").forEach(function (form) {
      form.querySelectorAll("button[name=theme]").forEach(function (button) {
        button.setAttribute("aria-pressed", String(button.value === theme));
      });
      var menu = form.closest("details");
      var label = menu && menu.querySelector("[data-theme-current]");
      if (label) { label.textContent = theme.charAt(0).toUpperCase() + theme.slice(1); }
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    show(root.getAttribute("data-theme") || "system");
    document.querySelectorAll("[data-theme-form]").forEach(function (form) {
      form.addEventListener("submit", function (event) {
        var button = event.submitter;
        if (!button || !valid(button.value)) { return; }
        event.preventDefault();
        apply(button.value);
        remember(button.value);
        show(button.value);
      });
    });
  });
  // Another tab changed it: follow.
  window.addEventListener("storage", function (event) {
    if (event.key === KEY && valid(event.newValue)) { apply(event.newValue); show(event.newValue); }
  });
})();
