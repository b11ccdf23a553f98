// Keyboard and focus: the phone's menu button, where focus goes after an in-page update, and
// the shortcuts (Ctrl/⌘+Enter sends, Escape closes the open menu).
document.documentElement.classList.add("js"); // the phone menu folds only where this button works

document.addEventListener("click", (event) => {
  const toggle = event.target.closest(".menu-toggle");
  if (toggle) toggle.setAttribute("aria-expanded", String(toggle.getAttribute("aria-expanded") !== "true"));
  // A dialog opens on its chosen option (the quarantine's 90 days), not on the first control.
  const opener = event.target.closest("[data-open-dialog]");
  const dialog = opener && document.getElementById(opener.dataset.openDialog);
  if (dialog && dialog.open) {
    const start = dialog.querySelector("[autofocus], input[type=radio]:checked");
    if (start) start.focus();
  }
});

document.addEventListener("keydown", (event) => {
  if (event.key === "Enter" && (event.ctrlKey || event.metaKey)) {
    const form = event.target.closest && event.target.closest("textarea")?.form;
    if (form) { event.preventDefault(); form.requestSubmit(); }
    return;
  }
  if (event.key !== "Escape") return;
  const menu = document.querySelector("details.menu[open]");
  if (menu) {
    event.preventDefault();
    menu.open = false;
    menu.querySelector("summary").focus();
    return;
  }
  const toggle = document.querySelector('.menu-toggle[aria-expanded="true"]');
  if (toggle) { toggle.setAttribute("aria-expanded", "false"); toggle.focus(); }
});

function shown(el) { return el && el.getClientRects().length > 0; }
function focusHere(el) {
  if (!el.matches("a, button, input, select, textarea, [tabindex]")) el.tabIndex = -1;
  el.focus();
}
function listRows() {
  return [...document.querySelectorAll("#thread-list .threads li:not(.load-more) > a")];
}

// After a thread is closed or snoozed, focus goes to the list, on the conversation after it,
// once the list has refreshed (the thread may have left it). On a phone, where the list is
// hidden behind the open thread, it goes to the thread's heading.
let listFocus = null;
const movesOn = (elt) => elt && elt.matches && elt.matches('form[action$="/close"], form[action$="/snooze"]');
// htmx's settle event names the new element, not the form that asked: remember the form here.
let asked = null;
document.addEventListener("htmx:beforeRequest", (event) => {
  if (event.detail.target && event.detail.target.id === "conversation") asked = event.detail.elt;
  if (!movesOn(event.detail.elt)) return;
  const rows = listRows();
  const current = rows.findIndex((a) => a.getAttribute("aria-current") === "page");
  listFocus = { href: current >= 0 ? rows[current].getAttribute("href") : null,
                index: Math.max(current, 0) };
});
function focusList() {
  const wanted = listFocus;
  listFocus = null;
  const rows = listRows();
  if (!wanted || !shown(document.getElementById("thread-list"))) {
    const heading = document.querySelector("#conversation h2");
    if (heading) focusHere(heading);
    return;
  }
  const still = rows.findIndex((a) => a.getAttribute("href") === wanted.href);
  const next = still >= 0 ? Math.min(still + 1, rows.length - 1) : Math.min(wanted.index, rows.length - 1);
  focusHere(rows[next] || document.getElementById("thread-list"));
}

document.addEventListener("htmx:afterSettle", (event) => {
  const root = event.target;
  if (root.id === "thread-list" && listFocus) { focusList(); return; }
  if (root.id !== "conversation") return;
  const elt = asked;
  asked = null;
  if (elt && elt.closest && elt.closest(".composer")) {
    // After a send (or its refusal), the reply box is ready for the next message.
    const reply = document.getElementById("reply-body");
    if (reply) reply.focus({ preventScroll: true });
  } else if (movesOn(elt) && listFocus) {
    // The list reloads on threadsChanged; if it does not come, focus it as it is.
    const waiting = listFocus;
    setTimeout(() => { if (listFocus === waiting) focusList(); }, 1500);
    if (!shown(document.getElementById("thread-list"))) focusList();
  }
});

// Any other swap that removed the focused element (a live refresh of the list, an action in the
// numbers panel, Reopen): focus the same control in the new content, else the new content's
// message or heading, so a keyboard user is never dropped back at the top of the page.
let focusedBefore = null;
document.addEventListener("htmx:beforeSwap", () => {
  const active = document.activeElement;
  focusedBefore = active && active !== document.body ? active : null;
});
document.addEventListener("htmx:afterSettle", (event) => {
  const was = focusedBefore;
  focusedBefore = null;
  if (!was || was.isConnected || document.activeElement !== document.body) return;
  const root = event.target;
  const href = was.getAttribute("href");
  const same = (was.id && document.getElementById(was.id))
    || (href && root.querySelector(`a[href="${CSS.escape(href)}"]`));
  if (same) { same.focus({ preventScroll: true }); return; }
  focusHere(root.querySelector("[role=status], [role=alert], h1, h2") || root);
});
