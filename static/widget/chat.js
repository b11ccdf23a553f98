/* The chat page inside the widget's iframe (our origin). A random visitor id kept in this
   origin's localStorage (per widget key) is sent with every request: no cookie is used, and
   requests go with credentials omitted. Text is shown with textContent only: never HTML. */
(function () {
  "use strict";
  var body = document.body;
  var key = body.dataset.key;
  var url = body.dataset.messagesUrl;
  var log = document.getElementById("log");
  var status = document.getElementById("status");
  var form = document.getElementById("send");
  var text = document.getElementById("body");
  var ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  var VISIBLE_POLL = 3000, HIDDEN_POLL = 15000;
  var shown = {}, cursor = 0, timer = null, polling = false;

  function randomId() {
    var bytes = new Uint8Array(32), out = "";
    crypto.getRandomValues(bytes);
    for (var i = 0; i < bytes.length; i++) { out += ALPHABET[bytes[i] & 63]; }
    return out;
  }
  function store() {
    try { localStorage.setItem("pawline-probe", "1"); localStorage.removeItem("pawline-probe"); return localStorage; }
    catch (blocked) { return null; }  /* storage blocked: this page load only */
  }
  var storage = store(), memory = {};
  function load(name) { return storage ? storage.getItem(name) : memory[name] || null; }
  function save(name, value) { if (storage) { storage.setItem(name, value); } else { memory[name] = value; } }

  var visitorKey = "pawline-visitor-" + key;
  var visitor = load(visitorKey);
  if (!/^[A-Za-z0-9_-]{16,64}$/.test(visitor || "")) { visitor = randomId(); save(visitorKey, visitor); }

  function bubble(from, words, id) {
    var item = document.createElement("li");
    item.className = "msg " + from;
    item.textContent = words;
    if (id) { item.dataset.id = id; }
    log.appendChild(item);
    log.scrollTop = log.scrollHeight;
    return item;
  }
  function say(words) { status.textContent = words || ""; }
  /* [response, its JSON]; a refusal that is not JSON (an HTML error page) is still a refusal */
  function answerOf(response) {
    return response.json().catch(function () { return {error: "Not sent (" + response.status + ")."}; })
      .then(function (data) { return [response, data]; });
  }

  function poll() {
    if (polling) { return; }
    polling = true;
    var query = "?visitor=" + encodeURIComponent(visitor) + "&after=" + cursor;
    fetch(url + query, {credentials: "omit", cache: "no-store"})
      .then(function (response) { return answerOf(response); })
      .then(function (pair) {
        var response = pair[0], data = pair[1];
        if (!response.ok) { say(data.error); return; }
        data.messages.forEach(function (message) {
          if (shown[message.id]) { return; }
          var pending = log.querySelector('.pending[data-id="' + message.id + '"]');
          if (pending) { pending.classList.remove("pending"); } else { bubble(message.from, message.text, message.id); }
          shown[message.id] = true;
        });
        cursor = Math.max(cursor, data.cursor);
        if (status.dataset.kind !== "send") { say(""); }
      })
      .catch(function () { say("Offline: trying again."); })
      .then(function () { polling = false; schedule(); });
  }
  function schedule() {
    clearTimeout(timer);
    timer = setTimeout(poll, document.visibilityState === "hidden" ? HIDDEN_POLL : VISIBLE_POLL);
  }
  document.addEventListener("visibilitychange", function () { if (document.visibilityState === "visible") { poll(); } });

  function details() {
    var now = {name: form.elements.name.value.trim(), phone: form.elements.phone.value.trim(),
               email: form.elements.email.value.trim()};
    var sent = load("pawline-details-" + key);
    return [now, JSON.stringify(now) === sent ? null : now];
  }

  function send(words, messageId, item, tries) {
    var pair = details(), fields = pair[1] || {};
    var data = new URLSearchParams({visitor: visitor, message_id: messageId, body: words,
                                    name: fields.name || "", phone: fields.phone || "", email: fields.email || ""});
    return fetch(url, {method: "POST", body: data, credentials: "omit", cache: "no-store"})
      .then(function (response) { return answerOf(response); })
      .then(function (result) {
        var response = result[0], answer = result[1];
        if (!response.ok) {
          item.remove();
          status.dataset.kind = "send";
          say(answer.error || "Not sent.");
          text.value = text.value || words;
          return;
        }
        status.dataset.kind = "";
        say("");
        if (pair[1]) { save("pawline-details-" + key, JSON.stringify(pair[0])); }
        if (!answer.id || shown[answer.id]) { item.remove(); }  /* a repeat: the poll shows it */
        else { item.dataset.id = answer.id; }
        poll();
      })
      .catch(function () {
        if (tries < 3) {  /* the same message id: a post that did arrive is stored once */
          return new Promise(function (done) { setTimeout(done, 1500 * (tries + 1)); })
            .then(function () { return send(words, messageId, item, tries + 1); });
        }
        item.remove();
        say("Not sent: check your connection.");
        text.value = text.value || words;
      });
  }

  form.addEventListener("submit", function (event) {
    event.preventDefault();
    var words = text.value.trim();
    if (!words) { say("Write a message."); return; }
    text.value = "";
    var item = bubble("visitor", words);
    item.classList.add("pending");
    send(words, randomId(), item, 0);
  });
  text.addEventListener("keydown", function (event) {
    if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
      event.preventDefault();
      form.requestSubmit();
    }
  });
  poll();
})();
