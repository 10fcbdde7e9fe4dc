// Pages that follow the stream in place: a new signal is added at the top of the signals
// list (page one, when it matches the filters) and of the dashboard's latest signals; zone
// events move the counts of the dashboard's pattern matrix (open zones: active and touched).
(function () {
  "use strict";
  var live = window.CryptoLensLive;
  if (!live) return;
  var fmt = window.CryptoLensFormat;
  var zone = document.body.dataset.readerZone || "UTC";
  var ENDED = { filled: true, invalidated: true, expired: true };
  var SHORT = { fvg: "FVG", order_block: "OB", liquidity_sweep: "SW" };

  function localTime(ms) {
    var options = {
      year: "numeric", month: "2-digit", day: "2-digit", hour: "2-digit", minute: "2-digit",
      hourCycle: "h23", timeZoneName: "short", timeZone: zone,
    };
    var parts = {};
    try {
      new Intl.DateTimeFormat("en-GB", options).formatToParts(new Date(ms)).forEach(function (p) {
        parts[p.type] = p.value;
      });
    } catch (e) { return new Date(ms).toISOString().slice(0, 16).replace("T", " ") + " UTC"; }
    return parts.year + "-" + parts.month + "-" + parts.day + " " + parts.hour + ":" +
      parts.minute + " " + parts.timeZoneName;
  }

  function cell(text, className, href) {
    var td = document.createElement("td");
    if (className) td.className = className;
    var holder = td;
    if (href) { holder = document.createElement("a"); holder.href = href; td.appendChild(holder); }
    holder.textContent = text;
    return td;
  }

  function badge(className, text) {
    var td = document.createElement("td");
    var span = document.createElement("span");
    span.className = className;
    span.textContent = text;
    td.appendChild(span);
    return td;
  }

  // The row the signal_rows macro renders, for a signal just created (pending, no outcome).
  function signalRow(s) {
    var up = s.direction === "bullish";
    var t1 = (s.targets || [])[0];
    var risk = Math.abs(s.entry - s.stop);
    var row = document.createElement("tr");
    row.className = "signal-row live-new";
    row.dataset.id = String(Number(s.id));
    [
      cell("#" + Number(s.id), "", "/signals/" + Number(s.id)),
      cell(s.symbol, "", "/symbols/" + s.symbol),
      badge("badge " + (up ? "bull" : "bear"), (up ? "▲ " : "▼ ") + s.direction),
      cell((s.timeframes || []).join(",")),
      cell(fmt.price(s.entry), "num"),
      cell(fmt.price(s.stop), "num"),
      cell(fmt.price(t1), "num"),
      cell(risk ? (Math.abs(t1 - s.entry) / risk).toFixed(2) : "—", "num"),
      badge("status status-pending", "pending"),
      cell("—"),
      cell("—", "num"),
      cell(localTime(s.created_at)),
    ].forEach(function (td) { row.appendChild(td); });
    return row;
  }

  // The signals list shows a new signal only on its first page and when it fits the filters.
  function listShows(s) {
    var args = new URLSearchParams(window.location.search);
    var page = args.get("page");
    return (!page || page === "1") && !args.get("outcome") &&
      (!args.get("status") || args.get("status") === "pending") &&
      (!args.get("direction") || args.get("direction") === s.direction) &&
      (!args.get("symbol") || args.get("symbol").toUpperCase() === s.symbol);
  }

  function addSignal(table, s, keep) {
    var body = table && table.tBodies[0];
    if (!body || body.querySelector('tr[data-id="' + Number(s.id) + '"]')) return;
    body.insertBefore(signalRow(s), body.firstChild);
    if (keep) while (body.rows.length > keep) body.deleteRow(body.rows.length - 1);
  }

  var latest = document.getElementById("latest-signals");
  var latestSize = latest ? latest.tBodies[0].rows.length || 10 : 0;
  document.addEventListener("live:signal", function (event) {
    var s = event.detail;
    var list = document.getElementById("signals");
    if (list && listShows(s)) addSignal(list, s, 0);
    addSignal(latest, s, latestSize);
  });

  // --- the dashboard's pattern matrix ---
  var matrix = document.getElementById("pattern-matrix");
  if (!matrix) return;
  var symbols = {};
  matrix.querySelectorAll("a.cell-link").forEach(function (a) { symbols[a.dataset.symbol] = true; });
  live.want("matrix", Object.keys(symbols).map(function (s) { return "zones:" + s; }));
  var counted = {};  // zone id -> true while the matrix counts it (as far as this page knows)

  function chipFor(link, z, create) {
    var chip = null;
    link.querySelectorAll(".chip").forEach(function (c) {
      if (c.dataset.type === z.type && c.dataset.direction === z.direction) chip = c;
    });
    if (chip || !create) return chip;
    chip = document.createElement("span");
    chip.className = "chip " + (z.direction === "bullish" ? "bull" : "bear") + " type-" + z.type;
    chip.dataset.type = z.type;
    chip.dataset.direction = z.direction;
    chip.dataset.count = "0";
    var dot = link.querySelector(".muted");
    if (dot) dot.remove();
    link.appendChild(chip);
    return chip;
  }

  function setCount(link, chip, z, count) {
    chip.dataset.count = String(count);
    chip.textContent = (SHORT[z.type] || z.type) + " " + (z.direction === "bullish" ? "▲" : "▼") + count;
    if (count <= 0) chip.remove();
    var total = 0;
    link.querySelectorAll(".chip").forEach(function (c) { total += Number(c.dataset.count); });
    link.parentNode.classList.toggle("empty", total === 0);
    link.parentNode.classList.add("live-new");
  }

  document.addEventListener("live:zone", function (event) {
    var z = event.detail;
    var link = null;
    matrix.querySelectorAll("a.cell-link").forEach(function (a) {
      if (a.dataset.symbol === z.symbol && a.dataset.timeframe === z.timeframe) link = a;
    });
    if (!link) return;
    var up = z.change === "formed" && !counted[z.id];
    var down = ENDED[z.change] === true;
    var chip = chipFor(link, z, up);
    if (!chip || (!up && !down)) return;
    counted[z.id] = up;
    setCount(link, chip, z, Number(chip.dataset.count) + (up ? 1 : -1));
  });
})();
