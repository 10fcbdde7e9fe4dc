// A toast on any page for each new signal the user wants to hear about: their alert
// preferences (directions, minimum confluence, symbols, timeframes), read once from the
// server, which already cut them to what the plan shows.
(function () {
  "use strict";
  var box = document.getElementById("toasts");
  var meta = document.querySelector('meta[name="toasts-url"]');
  if (!box || !meta) return;
  var fmt = window.CryptoLensFormat;
  var SHOWN_MS = 12000;
  var MOST = 3;
  var filter = null;

  function loadFilter() {
    if (!filter) {
      filter = fetch(meta.content, { headers: { Accept: "application/json" } })
        .then(function (answer) { return answer.json(); })
        .then(function (body) { return body.success ? body.data : null; })
        .catch(function () { filter = null; return null; });
    }
    return filter;
  }

  function overlaps(chosen, present) {
    return !chosen || present.some(function (item) { return chosen.indexOf(item) >= 0; });
  }

  function wanted(prefs, signal) {
    return Boolean(prefs) &&
      prefs.directions.indexOf(signal.direction) >= 0 &&
      signal.confluence >= prefs.min_confluence &&
      overlaps(prefs.symbols, [signal.symbol]) &&
      overlaps(prefs.timeframes, signal.timeframes || []);
  }

  function line(className, text) {
    var part = document.createElement("span");
    part.className = className;
    part.textContent = text;
    return part;
  }

  function show(signal) {
    if (box.querySelector('[data-signal="' + Number(signal.id) + '"]')) return;
    var up = signal.direction === "bullish";
    var toast = document.createElement("div");
    toast.className = "toast " + (up ? "bull" : "bear");
    toast.dataset.signal = String(Number(signal.id));
    toast.setAttribute("role", "status");
    var link = document.createElement("a");
    // Only the app's own signal pages: the address comes from the stream.
    link.href = /^\/signals\/\d+$/.test(signal.url) ? signal.url : "/signals/" + Number(signal.id);
    link.appendChild(line("toast-title", (up ? "▲ " : "▼ ") + "New " + signal.direction +
      " signal · " + signal.symbol));
    link.appendChild(line("toast-detail", (signal.timeframes || []).join(", ") +
      " · entry " + fmt.price(signal.entry) + " · stop " + fmt.price(signal.stop)));
    var dismiss = document.createElement("button");
    dismiss.type = "button";
    dismiss.className = "toast-close";
    dismiss.setAttribute("aria-label", "Dismiss");
    dismiss.textContent = "×";
    dismiss.addEventListener("click", function () { toast.remove(); });
    toast.appendChild(link);
    toast.appendChild(dismiss);
    box.insertBefore(toast, box.firstChild);
    while (box.children.length > MOST) box.removeChild(box.lastChild);
    setTimeout(function () { toast.remove(); }, SHOWN_MS);
  }

  document.addEventListener("live:signal", function (event) {
    var signal = event.detail;
    loadFilter().then(function (prefs) { if (wanted(prefs, signal)) show(signal); });
  });
})();
