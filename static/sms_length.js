// The reply box's SMS length and segment counter. A message that fits the GSM-7 alphabet costs
// 160 characters in one SMS, 153 per part once split (each part carries a joining header); one
// extension character (€ [ ] { } \ ^ ~ | and form feed) costs two. Any other character sends the
// whole message as UCS-2: 70 UTF-16 units in one SMS, 67 per part, an emoji taking two units.
// A part never splits an escape pair nor a surrogate pair, so a part may hold one unit less.
(function () {
  const GSM_BASIC = "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?" +
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà";
  const GSM_EXTENDED = "^{}\\[~]|€\f";
  const LIMITS = { "GSM-7": [160, 153], "UCS-2": [70, 67] };

  // The cost of each character in units of its encoding, or null when GSM-7 cannot say it.
  function gsmCosts(text) {
    const costs = [];
    for (const ch of text) {
      if (GSM_BASIC.includes(ch)) costs.push(1);
      else if (GSM_EXTENDED.includes(ch)) costs.push(2);
      else return null;
    }
    return costs;
  }

  function smsLength(text) {
    const gsm = gsmCosts(text);
    const encoding = gsm ? "GSM-7" : "UCS-2";
    const costs = gsm || [...text].map((ch) => ch.length); // UTF-16 units: 2 for an emoji
    const units = costs.reduce((sum, cost) => sum + cost, 0);
    const [single, part] = LIMITS[encoding];
    if (units <= single) {
      return { encoding, units, segments: units ? 1 : 0, perSegment: single,
               left: single - units };
    }
    let segments = 1;
    let used = 0;
    for (const cost of costs) {
      if (used + cost > part) { segments += 1; used = 0; }
      used += cost;
    }
    return { encoding, units, segments, perSegment: part, left: part - used };
  }
  window.smsLength = smsLength;

  function describe(result) {
    if (!result.units) return "";
    const parts = `${result.segments} SMS`;
    const kind = result.encoding === "UCS-2" ? " · Unicode (emoji or special characters)" : "";
    return `${result.units} / ${result.perSegment * result.segments} · ${parts}${kind}`;
  }

  // A counter under every message box: the reply box, and the "Message anyone" dialog's.
  const FIELDS = ".composer .reply-form textarea[name=body], #new-message textarea[name=body]";
  function attach(root) {
    root.querySelectorAll(FIELDS).forEach((field) => {
      if (field.dataset.smsCounter) return;
      // a reply box swapped in afresh (a reply sent) keeps the counter already under its row
      const id = `${field.id || "body"}-sms-length`;
      let counter = document.getElementById(id);
      if (!counter) {
        counter = document.createElement("small");
        counter.className = "sms-length";
        counter.id = id;
        // under the reply's row (its box, the camera and Send), not under the whole form,
        // where "Send later" comes between them; the dialog's under its field
        (field.closest(".composer-row") || field.closest(".field") || field.closest("form")
          || field).after(counter);
      }
      field.dataset.smsCounter = counter.id;
      const described = field.getAttribute("aria-describedby");
      field.setAttribute("aria-describedby", described ? `${described} ${counter.id}` : counter.id);
      counter.textContent = describe(smsLength(field.value));
    });
  }
  document.addEventListener("DOMContentLoaded", () => attach(document));
  document.addEventListener("htmx:afterSettle", () => attach(document));
  document.addEventListener("input", (event) => {
    const field = event.target;
    const counter = field.dataset && document.getElementById(field.dataset.smsCounter || "");
    if (counter) counter.textContent = describe(smsLength(field.value));
  });
  document.addEventListener("reset", (event) => {
    // After a send the composer's form is reset: the counter goes back to nothing.
    setTimeout(() => event.target.querySelectorAll("textarea[data-sms-counter]").forEach((f) => {
      const counter = document.getElementById(f.dataset.smsCounter);
      if (counter) counter.textContent = describe(smsLength(f.value));
    }));
  });
})();
