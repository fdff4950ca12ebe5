// Fields marked data-select-on-focus select their whole value when focused (a new API key, to copy in one go).
document.addEventListener("focusin", (event) => {
  if (event.target.matches && event.target.matches("[data-select-on-focus]")) event.target.select();
});
