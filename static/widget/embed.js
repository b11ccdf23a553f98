/* Paw-line web chat: the one script a business pastes.
   <script src="https://OUR-APP/widget.js?key=WIDGET_KEY" async></script>
   It adds a launcher button and, when opened, our chat page in an iframe. Everything about the
   conversation lives in that iframe, on our origin: this script reads nothing of it, sets no
   cookie and touches nothing of the page but its own two elements. */
(function () {
  "use strict";
  var me = document.currentScript;
  if (!me || !me.src) { return; }
  var src = new URL(me.src);
  var key = src.searchParams.get("key") || "";
  if (!/^[A-Za-z0-9_-]{16,64}$/.test(key) || window["pawlineWidget_" + key]) { return; }
  window["pawlineWidget_" + key] = true;
  var chatUrl = src.origin + "/widget/" + encodeURIComponent(key) + "/chat";

  function style(el, rules) {
    for (var name in rules) { if (Object.prototype.hasOwnProperty.call(rules, name)) { el.style[name] = rules[name]; } }
  }

  var button = document.createElement("button");
  button.type = "button";
  button.textContent = "Chat with us";
  button.setAttribute("aria-expanded", "false");
  button.setAttribute("data-pawline-widget", "launcher");
  style(button, {
    position: "fixed", right: "16px", bottom: "16px", zIndex: "2147483000",
    padding: "12px 18px", border: "0", borderRadius: "999px", cursor: "pointer",
    background: "#1d5c4d", color: "#fff", font: "600 15px/1.2 system-ui, sans-serif",
    boxShadow: "0 4px 14px rgba(0,0,0,.25)"
  });

  var frame = null;
  function open() {
    if (!frame) {
      frame = document.createElement("iframe");
      frame.src = chatUrl;
      frame.title = "Chat";
      frame.setAttribute("data-pawline-widget", "chat");
      style(frame, {
        position: "fixed", right: "16px", bottom: "72px", zIndex: "2147483000",
        width: "min(370px, calc(100vw - 32px))", height: "min(560px, calc(100vh - 96px))",
        border: "1px solid #c8d3cf", borderRadius: "12px", background: "#fff",
        boxShadow: "0 8px 28px rgba(0,0,0,.25)"
      });
      document.body.appendChild(frame);
    }
    frame.style.display = "block";
    frame.focus();  /* keyboard users land in the chat */
    button.setAttribute("aria-expanded", "true");
    button.textContent = "Close chat";
  }
  function close() {
    frame.style.display = "none";
    button.setAttribute("aria-expanded", "false");
    button.textContent = "Chat with us";
  }
  button.addEventListener("click", function () {
    if (frame && frame.style.display !== "none") { close(); } else { open(); }
  });

  function mount() { document.body.appendChild(button); }
  if (document.body) { mount(); } else { document.addEventListener("DOMContentLoaded", mount); }
})();
