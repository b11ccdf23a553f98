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

// A thread opens at its newest message. The timeline scrolls by itself on a wide screen and
// with the page on a phone (where the composer sticks to the bottom).
function ownScroll(tl) { return getComputedStyle(tl).maxHeight !== "none"; }
function visibleBottom(tl) {
  if (ownScroll(tl)) return tl.getBoundingClientRect().bottom;
  const composer = document.getElementById("composer");
  return composer ? composer.getBoundingClientRect().top : window.innerHeight;
}
function atNewest(tl) {
  const last = tl.lastElementChild;
  return !last || last.getBoundingClientRect().bottom <= visibleBottom(tl) + 48;
}
function newPill() { return document.getElementById("new-pill"); }
function hidePill() {
  const pill = newPill();
  if (pill) { pill.hidden = true; pill.dataset.count = "0"; }
}
function showNewest(tl) {
  if (ownScroll(tl)) tl.scrollTop = tl.scrollHeight;
  else window.scrollTo(0, document.documentElement.scrollHeight);
  hidePill();
}
function openThread(root) {
  const tl = root && root.querySelector && root.querySelector(".timeline");
  // A link to one conversation (the Closed tab's list) shows it, not the newest message.
  const named = tl && location.hash && document.getElementById(location.hash.slice(1));
  const asked = named && tl.contains(named) && named.matches(".conversation-group") ? named : null;
  // After htmx's own scrolling of a boosted page, which would put the page back at its top.
  if (asked) setTimeout(() => { asked.querySelector("details").open = true; asked.scrollIntoView(); });
  else if (tl) setTimeout(() => showNewest(tl));
}
document.addEventListener("DOMContentLoaded", () => openThread(document));
// htmx's settle event names the swapped-in element, not the form that asked: remember it.
let askedBy = null;
document.addEventListener("htmx:beforeRequest", (event) => {
  if (event.detail.target && event.detail.target.id === "conversation") askedBy = event.detail.elt;
});
document.addEventListener("htmx:afterSettle", (event) => {
  const root = event.target;
  if (root.id === "timeline") return; // a live refresh: see below
  if (root.id !== "conversation") { openThread(root); return; }
  // An answered, closed or snoozed thread: a phone's page moves only for the sender's answer.
  const tl = root.querySelector(".timeline");
  const sent = askedBy && askedBy.closest && askedBy.closest(".composer");
  askedBy = null;
  if (tl && (ownScroll(tl) || sent)) showNewest(tl);
});

// Live refresh of a timeline: new messages arrive in place. A reader scrolled up stays where
// they are and gets a "new message" pill; an open "Why this number" stays open.
const messageId = (li) => Number(li.id.replace("message-", "")) || 0;
const lastMessageId = (tl) => Math.max(0, ...[...tl.querySelectorAll("li.msg")].map(messageId));
let kept = null;
document.addEventListener("htmx:beforeSwap", (event) => {
  const tl = event.detail.target;
  if (!tl || tl.id !== "timeline" || !event.detail.shouldSwap) return;
  const top = ownScroll(tl) ? tl.getBoundingClientRect().top : 0;
  // A few visible messages: the first of them still shown after the refresh keeps the place.
  const anchors = [...tl.querySelectorAll("li[id]:not(.conversation-group)")]
    .filter((li) => li.getBoundingClientRect().bottom > top).slice(0, 5)
    .map((li) => ({ id: li.id, top: li.getBoundingClientRect().top }));
  kept = {
    atNewest: atNewest(tl), scrollTop: tl.scrollTop, lastId: lastMessageId(tl),
    open: [...tl.querySelectorAll("li[id] details[open]")].map((d) => d.closest("li[id]").id),
    anchors,
  };
});
document.addEventListener("htmx:afterSwap", (event) => {
  const tl = event.target;
  if (tl.id !== "timeline" || !kept) return;
  const was = kept;
  kept = null;
  was.open.forEach((id) => {
    const details = document.getElementById(id)?.querySelector("details");
    if (details) details.open = true;
  });
  if (was.atNewest) { showNewest(tl); return; }
  if (ownScroll(tl)) tl.scrollTop = was.scrollTop;
  const anchor = was.anchors.find((a) => document.getElementById(a.id));
  if (anchor) {
    const shift = document.getElementById(anchor.id).getBoundingClientRect().top - anchor.top;
    if (ownScroll(tl)) tl.scrollTop += shift; else window.scrollBy(0, shift);
  }
  const fresh = [...tl.querySelectorAll("li.msg")].filter((li) => messageId(li) > was.lastId).length;
  const pill = newPill();
  if (fresh && pill) {
    const count = Number(pill.dataset.count || 0) + fresh;
    pill.dataset.count = String(count);
    pill.textContent = `${count} new message${count === 1 ? "" : "s"} ↓`;
    pill.hidden = false;
  }
});
document.addEventListener("click", (event) => {
  const tl = document.getElementById("timeline");
  if (event.target.closest("#new-pill") && tl) showNewest(tl);
});
document.addEventListener("scroll", () => {
  const tl = document.getElementById("timeline");
  const pill = newPill();
  if (tl && pill && !pill.hidden && atNewest(tl)) hidePill();
}, true);

// A reply that joined the end of the timeline (blueprints/inbox_send.py `_appended`): the
// sender sees it, its photos leave the picker, and the reply box is ready for the next one. A
// live refresh that already brought the same message in keeps the one it brought.
document.addEventListener("htmx:oobBeforeSwap", (event) => {
  const tail = event.detail.target;
  if (!tail.matches || !tail.matches(".timeline-tail")) return;
  event.detail.fragment.querySelectorAll("li[id]").forEach((li) => {
    if (document.getElementById(li.id)) li.remove();
  });
});
document.addEventListener("replySent", () => {
  const photos = document.getElementById("reply-photos");
  if (photos && photos.value) {
    photos.value = "";
    photos.dispatchEvent(new Event("change", { bubbles: true }));
  }
  const tl = document.getElementById("timeline");
  if (tl) showNewest(tl);
  const reply = document.getElementById("reply-body");
  if (reply) reply.focus({ preventScroll: true });
});

// Clear the composer after a message was sent.
document.addEventListener("htmx:afterRequest", (event) => {
  const form = event.detail.elt;
  if (form.matches && form.matches("form[data-reset-on-success]") && event.detail.successful) form.reset();
});

// A form error answers 400/422 with the form and its message (413: files too large, with a
// message): let htmx swap it in like a 200.
document.addEventListener("htmx:beforeSwap", (event) => {
  const status = event.detail.xhr.status;
  if (status === 400 || status === 422 || status === 413) {
    event.detail.shouldSwap = true;
    event.detail.isError = false;
  }
});

// A saved reply's variable that could not be filled ({booking_start}) stays highlighted while
// it is in the reply box; the server refuses to send it either way.
function markUnfilled(box) {
  const note = document.getElementById("unfilled");
  if (!box || !note) return;
  const names = (box.dataset.variables || "").split(" ").filter(Boolean);
  const left = names.filter((name) => box.value.includes(`{${name}}`));
  note.querySelectorAll("[data-variable]").forEach((el) => { el.hidden = !left.includes(el.dataset.variable); });
  left.forEach((name) => {
    if (note.querySelector(`mark[data-variable="${name}"]`)) return;
    const mark = document.createElement("mark");
    mark.dataset.variable = name;
    mark.textContent = `{${name}}`;
    note.append(" ", mark);
  });
  note.hidden = left.length === 0;
  box.classList.toggle("has-unfilled", left.length > 0);
  if (left.length) box.setAttribute("aria-describedby", "unfilled");
}
document.addEventListener("input", (event) => {
  if (event.target.id === "reply-body") markUnfilled(event.target);
});

// A conversation's fold (pawline/conversations.py) stays as the reader left it across a live
// refresh of the timeline: an earlier one they unfolded stays open, the latest one they folded
// stays folded (the refresh answers the server's default: only the latest open).
let folds = null;
document.addEventListener("htmx:beforeSwap", (event) => {
  const tl = event.detail.target;
  if (!tl || tl.id !== "timeline" || !event.detail.shouldSwap) { folds = null; return; }
  folds = new Map([...tl.querySelectorAll("li.conversation-group")]
    .map((li) => [li.id, li.querySelector("details").open]));
});
document.addEventListener("htmx:afterSwap", (event) => {
  if (event.target.id !== "timeline" || !folds) return;
  folds.forEach((open, id) => {
    const details = document.getElementById(id)?.querySelector("details.conversation-fold");
    if (details) details.open = open;
  });
  folds = null;
});

// The scheduled list is folded into its count on a phone, where the timeline needs the room, and
// opens by itself on a wide screen; a reader's choice on a thread outlives the swaps that
// refresh the list (a reply sent, edited or cancelled).
// The state is kept here, not read back from the page before a swap: two swaps close together
// (the poll's) could read the folded copy the first had just put in.
const wideScreen = window.matchMedia("(min-width: 761px)");
let foldState = null;  // { thread, open }: the list as the reader has it
const scheduledFold = () => document.getElementById("scheduled-fold");
document.addEventListener("click", (event) => {
  const summary = event.target.closest("#scheduled-fold > summary");
  if (summary) foldState = { thread: summary.parentElement.dataset.thread, open: !summary.parentElement.open };
});
function unfoldScheduled() {
  const fold = scheduledFold();
  if (!fold) return;
  const known = foldState && foldState.thread === fold.dataset.thread;
  const open = known ? foldState.open : wideScreen.matches;
  fold.open = open;
  foldState = { thread: fold.dataset.thread, open };
}
document.addEventListener("DOMContentLoaded", unfoldScheduled);
document.addEventListener("htmx:afterSettle", unfoldScheduled);
