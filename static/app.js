// Small behaviours that htmx attributes do not cover; no inline scripts (strict CSP).
document.addEventListener("click", (event) => {
  const opener = event.target.closest("[data-open-dialog]");
  if (opener) {
    const dialog = document.getElementById(opener.dataset.openDialog);
    if (dialog) { event.preventDefault(); dialog.showModal(); }
  }
  const closer = event.target.closest("[data-close-dialog]");
  if (closer) { event.preventDefault(); closer.closest("dialog").close(); }
});

// A control with data-show-when="name=value" is shown only while that field has that value.
// A button with data-requires="fieldId" stays disabled until that field has text.
function syncDependents(root) {
  root.querySelectorAll("[data-show-when]").forEach((el) => {
    const [name, value] = el.dataset.showWhen.split("=");
    const form = el.closest("form");
    const field = form && form.elements[name];
    const current = field ? (field.value ?? "") : "";
    el.hidden = current !== value;
  });
  root.querySelectorAll("[data-requires]").forEach((button) => {
    const field = document.getElementById(button.dataset.requires);
    button.disabled = !field || field.value.trim() === "";
  });
}
document.addEventListener("input", () => syncDependents(document));
document.addEventListener("change", () => syncDependents(document));
document.addEventListener("DOMContentLoaded", () => syncDependents(document));
document.addEventListener("htmx:afterSettle", () => syncDependents(document));

// Keep a thread's timeline scrolled to the newest message.
function scrollTimeline() {
  document.querySelectorAll(".timeline").forEach((t) => { t.scrollTop = t.scrollHeight; });
}
document.addEventListener("DOMContentLoaded", scrollTimeline);
document.addEventListener("htmx:afterSettle", scrollTimeline);

// Clear the composer after a message was sent.
document.addEventListener("htmx:afterRequest", (event) => {
  const form = event.detail.elt;
  if (form.matches && form.matches("form[data-reset-on-success]") && event.detail.successful) form.reset();
});

// A form error answers 400/422 with the form and its message: let htmx swap it in like a 200.
document.addEventListener("htmx:beforeSwap", (event) => {
  const status = event.detail.xhr.status;
  if (status === 400 || status === 422) {
    event.detail.shouldSwap = true;
    event.detail.isError = false;
  }
});
