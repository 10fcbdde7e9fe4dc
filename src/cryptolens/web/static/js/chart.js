// The symbol page: candles, volume, zone rectangles and a signal's levels (the one asked for
// with ?signal=N, else the newest live one), with a timeframe switcher. Everything is read from data- attributes and the /api/chart endpoints.
(function () {
  "use strict";
  var el = document.getElementById("chart");
  if (!el || !window.LightweightCharts) return;
  var LWC = window.LightweightCharts;
  var fmt = window.CryptoLensFormat;
  var data = window.CryptoLensChartData;
  var status = document.getElementById("chart-status");
  var symbol = el.dataset.symbol;
  var CANDLES = 1000;
  // Bars stay on UTC epoch seconds; only the labels are in the reader's time zone.
  var zone = el.dataset.timezone || "UTC";
  function zoned(options) {
    var base = { hourCycle: "h23" };
    try {
      return new Intl.DateTimeFormat("en-GB", Object.assign(base, options, { timeZone: zone }));
    } catch (e) {
      return new Intl.DateTimeFormat("en-GB", Object.assign(base, options, { timeZone: "UTC" }));
    }
  }
  var crosshairTime = zoned({
    year: "numeric", month: "2-digit", day: "2-digit", hour: "2-digit", minute: "2-digit",
    timeZoneName: "short",
  });
  var ticks = [
    zoned({ year: "numeric" }),
    zoned({ month: "short" }),
    zoned({ day: "numeric", month: "short" }),
    zoned({ hour: "2-digit", minute: "2-digit" }),
    zoned({ hour: "2-digit", minute: "2-digit", second: "2-digit" }),
  ];

  var chart = LWC.createChart(el, {
    localization: {
      timeFormatter: function (t) { return crosshairTime.format(new Date(t * 1000)); },
    },
    autoSize: true,
    layout: {
      background: { type: "solid", color: "#0f1217" },
      textColor: "#d8dee9",
      attributionLogo: true,
    },
    grid: { vertLines: { color: "#1c222b" }, horzLines: { color: "#1c222b" } },
    rightPriceScale: { borderColor: "#262c36" },
    timeScale: {
      borderColor: "#262c36", timeVisible: true, secondsVisible: false,
      tickMarkFormatter: function (t, kind) {
        return (ticks[kind] || ticks[3]).format(new Date(t * 1000));
      },
    },
    crosshair: { mode: LWC.CrosshairMode.Normal },
  });
  var candles = chart.addSeries(LWC.CandlestickSeries, {
    upColor: "#26a69a", downColor: "#ef5350", borderVisible: false,
    wickUpColor: "#26a69a", wickDownColor: "#ef5350",
  });
  var volume = chart.addSeries(LWC.HistogramSeries, {
    priceScaleId: "volume", priceFormat: { type: "volume" }, lastValueVisible: false,
    priceLineVisible: false,
  });
  chart.priceScale("volume").applyOptions({ scaleMargins: { top: 0.8, bottom: 0 } });

  var zones = new window.CryptoLensZones.ZonesPrimitive(function (drawn) {
    el.dataset.zonesDrawn = String(drawn);
  });
  candles.attachPrimitive(zones);
  var priceLines = [];
  var markers = LWC.createSeriesMarkers(candles, []);
  var loadSeq = 0;
  // The signal named by ?signal=N, chosen and checked by the server (null: the newest live one).
  var asked = el.dataset.signal ? JSON.parse(el.dataset.signal) : null;
  var requested = asked ? Object.assign({ live: asked.live }, asked.signal) : null;
  // What is on the chart: the series (times, bars, volumes), every zone loaded (toggles hide
  // some), the signals with markers and the one whose levels are drawn.
  var series = data.fromColumns({ open_time: [], open: [], high: [], low: [], close: [], volume: [] });
  var allZones = [];
  var signals = [];
  var drawn = null;
  var hidden = data.hiddenTypes();
  var older = { busy: false, done: false };

  chart.timeScale().subscribeVisibleTimeRangeChange(function (range) {
    el.dataset.visibleFrom = range ? String(range.from * 1000) : "";
    el.dataset.visibleTo = range ? String(range.to * 1000) : "";
  });

  function url(base, params) {
    var query = new URLSearchParams(params);
    return base + "?" + query.toString();
  }

  function getData(address) {
    return fetch(address, { headers: { Accept: "application/json" } }).then(function (answer) {
      return answer.json().then(function (body) {
        if (!body.success) throw new Error(body.error || "request failed");
        return body.data;
      });
    });
  }

  function applyPriceFormat(lastClose) {
    var decimals = Math.min(12, fmt.priceDecimals(lastClose));
    candles.applyOptions({
      priceFormat: {
        type: "custom",
        minMove: Math.pow(10, -decimals),
        formatter: function (value) { return fmt.price(value); },
      },
    });
  }

  // Seconds per candle of a timeframe name such as "15m", "4h" or "1d".
  function timeframeSeconds(timeframe) {
    var unit = { m: 60, h: 3600, d: 86400, w: 604800 }[timeframe.slice(-1)];
    return parseInt(timeframe, 10) * unit;
  }

  function drawZones() {
    var shown = data.shownZones(allZones, hidden);
    zones.setZones(series.times, shown);
    el.dataset.zones = String(allZones.length);
    el.dataset.zonesShown = String(shown.length);
  }

  function drawMarkers() {
    var list = data.markersFor(signals, series.times, drawn ? drawn.id : null);
    markers.setMarkers(list);
    el.dataset.markers = String(list.length);
  }

  function drawSeries() {
    candles.setData(series.bars);
    volume.setData(series.volumes);
    var n = series.times.length;
    el.dataset.candles = String(n);
    el.dataset.firstTime = n ? String(series.times[0] * 1000) : "";
    el.dataset.lastTime = n ? String(series.times[n - 1] * 1000) : "";
    el.dataset.lastClose = n ? String(series.bars[n - 1].close) : "";
  }

  // A live signal (pending or triggered) is drawn in colour; a finished one (closed, expired,
  // unfilled) only when its page asked for it, grey and dotted: history, not open orders.
  function drawLevels(signal) {
    priceLines.forEach(function (line) { candles.removePriceLine(line); });
    priceLines = [];
    drawn = signal;
    el.dataset.priceLines = "0";
    el.dataset.signalDrawn = signal ? (signal.live ? "live" : "historical") : "none";
    drawMarkers();
    if (!signal) return;
    var grey = "#7b8494";
    var dotted = LWC.LineStyle.Dotted;
    var levels = [
      ["entry", signal.entry, "#4fa3ff", LWC.LineStyle.Solid],
      ["stop", signal.stop, "#ef5350", LWC.LineStyle.Solid],
      ["T1", signal.target_1, "#26a69a", LWC.LineStyle.Dashed],
      ["T2", signal.target_2, "#26a69a", LWC.LineStyle.Dashed],
      ["T3", signal.target_3, "#26a69a", LWC.LineStyle.Dashed],
    ];
    var finished = signal.live ? "" : " (" + (signal.outcome || signal.status) + ")";
    levels.forEach(function (level) {
      priceLines.push(candles.createPriceLine({
        price: level[1], color: signal.live ? level[2] : grey,
        lineStyle: signal.live ? level[3] : dotted, lineWidth: 1,
        axisLabelVisible: true, title: "#" + signal.id + " " + level[0] + finished,
      }));
    });
    el.dataset.priceLines = String(priceLines.length);
  }

  function describe(signal) {
    if (!signal) {
      return requested ? "" : " · no live signal";
    }
    if (signal.live) return " · signal #" + signal.id + " (" + signal.status + ")";
    return " · signal #" + signal.id + " is finished (" + (signal.outcome || signal.status) +
      "): its levels are drawn grey and dotted, as history";
  }

  // Centre the view on the signal's time, about a hundred candles wide.
  function showSignalTime(signal, timeframe) {
    var at = Math.floor(signal.created_at / 1000);
    var step = timeframeSeconds(timeframe);
    chart.timeScale().setVisibleRange({ from: at - 60 * step, to: at + 40 * step });
  }

  function showStatus() {
    var n = series.times.length;
    var timeframe = el.dataset.timeframe;
    status.textContent = n
      ? n + " candles · " + allZones.length + " zones · " + timeframe + describe(drawn)
      : "No " + timeframe + " candles stored for " + symbol + ".";
  }

  // The newest candles in view, about eight pixels a candle (not the whole history).
  function showRecent() {
    var n = series.times.length;
    var count = Math.max(30, Math.round(el.clientWidth / 8));
    chart.timeScale().setVisibleLogicalRange({ from: n - count, to: n + 2 });
  }

  function load(timeframe) {
    var seq = ++loadSeq;
    early = null;
    el.dataset.state = "loading";
    status.textContent = "Loading " + symbol + " " + timeframe + "…";
    older = { busy: false, done: false };
    var params = { symbol: symbol, timeframe: timeframe };
    if (requested) {
      // Candles up to half a window after the signal, so that its time is inside the data.
      params.end = requested.created_at + (CANDLES / 2) * timeframeSeconds(timeframe) * 1000;
    }
    return getData(url(el.dataset.candlesUrl, Object.assign({ limit: CANDLES }, params)))
      .then(function (answer) {
        var loaded = data.fromColumns(answer);
        var start = answer.open_time.length ? answer.open_time[0] : 0;
        return Promise.all([
          getData(url(el.dataset.zonesUrl, Object.assign({ limit: 2000, start: start }, params))),
          getData(url(el.dataset.signalsUrl, { symbol: symbol, limit: 50 })),
        ]).then(function (more) {
          if (seq !== loadSeq) return;
          series = loaded;
          allZones = more[0];
          signals = more[1];
          var signal = requested || signals.find(function (s) { return s.live; }) || null;
          if (requested && !signals.some(function (s) { return s.id === requested.id; })) {
            signals.push(requested);
          }
          var n = series.times.length;
          if (n) applyPriceFormat(series.bars[n - 1].close);
          drawSeries();
          drawZones();
          drawLevels(signal);
          if (requested && n) showSignalTime(requested, timeframe);
          else showRecent();
          el.dataset.timeframe = timeframe;
          // Live candles extend the series only when it reaches the newest stored candle.
          el.dataset.atNewest = requested ? "false" : "true";
          el.dataset.state = "ready";
          showStatus();
          if (early) liveBar(early);
          early = null;
          document.dispatchEvent(new CustomEvent("chart:loaded", { detail: { timeframe: timeframe } }));
        });
      })
      .catch(function (error) {
        if (seq !== loadSeq) return;
        el.dataset.state = "error";
        status.textContent = "Could not load the chart: " + error.message;
      });
  }

  // The page of candles (and zones formed among them) before the first one shown, joined in
  // front when the reader scrolls near the left edge; the view stays on the same candles.
  function loadOlder() {
    var seq = loadSeq;
    var timeframe = el.dataset.timeframe;
    var firstMs = series.times[0] * 1000;
    var params = { symbol: symbol, timeframe: timeframe, end: firstMs };
    older.busy = true;
    el.dataset.olderState = "loading";
    getData(url(el.dataset.candlesUrl, Object.assign({ limit: CANDLES }, params)))
      .then(function (answer) {
        if (!answer.open_time.length) return [answer, []];
        var zoneParams = Object.assign({ limit: 2000, start: answer.open_time[0] }, params);
        return getData(url(el.dataset.zonesUrl, zoneParams)).then(function (found) {
          return [answer, found];
        });
      })
      .then(function (pair) {
        if (seq !== loadSeq) return;
        older = { busy: false, done: pair[0].open_time.length < CANDLES };
        if (!pair[0].open_time.length) { el.dataset.olderState = "done"; return; }
        series = data.prepend(data.fromColumns(pair[0]), series);
        allZones = data.joinZones(pair[1], allZones);
        drawSeries();
        drawZones();
        drawMarkers();
        el.dataset.olderState = older.done ? "done" : "idle";
      })
      .catch(function (error) {
        older.busy = false;
        el.dataset.olderState = "error";
        status.textContent = "Could not load older candles: " + error.message;
      });
  }

  chart.timeScale().subscribeVisibleLogicalRangeChange(function (range) {
    if (!range || el.dataset.state !== "ready" || older.busy || older.done) return;
    if (series.times.length && range.from < 20) loadOlder();
  });

  document.querySelectorAll("#zone-toggles input[data-type]").forEach(function (box) {
    box.checked = hidden.indexOf(box.dataset.type) < 0;
    box.addEventListener("change", function () {
      hidden = hidden.filter(function (t) { return t !== box.dataset.type; });
      if (!box.checked) hidden.push(box.dataset.type);
      data.setHiddenTypes(hidden);
      drawZones();
    });
  });

  // Live updates (chart-live.js): a forming or closed candle, a zone, a signal. The stream
  // opens while the candles load: the newest candle that came before them is kept and drawn
  // once they are in (the gateway sends a forming candle again only when it changes).
  var early = null;
  function liveBar(event) {
    if (el.dataset.state !== "ready") {
      if (!early || event.time >= early.time) early = event;
      return;
    }
    var n = series.times.length;
    if (el.dataset.atNewest !== "true" || !n || event.time < series.times[n - 1]) return;
    var made = data.barOf(event);
    candles.update(made.bar);
    volume.update(made.volume);
    if (event.time > series.times[n - 1]) {
      series.times.push(event.time);
      series.bars.push(made.bar);
      series.volumes.push(made.volume);
      drawZones();
    } else {
      series.bars[n - 1] = made.bar;
      series.volumes[n - 1] = made.volume;
    }
    el.dataset.candles = String(series.times.length);
    el.dataset.lastTime = String(event.time * 1000);
    el.dataset.lastClose = String(event.close);
    el.dataset.lastClosed = String(Boolean(event.closed));
  }

  function liveZone(event) {
    var n = series.times.length;
    var now = n ? series.times[n - 1] * 1000 : event.formed_at;
    allZones = data.upsertZone(allZones, data.zoneOf(event, now));
    drawZones();
  }

  function liveSignal(event) {
    var signal = {
      id: event.id, direction: event.direction, entry: event.entry, stop: event.stop,
      target_1: event.targets[0], target_2: event.targets[1], target_3: event.targets[2],
      created_at: event.created_at, status: "pending", outcome: null, live: true,
    };
    signals = signals.filter(function (s) { return s.id !== signal.id; }).concat([signal]);
    if (!requested) drawLevels(signal);
    else drawMarkers();
    showStatus();
  }

  window.CryptoLensChart = {
    symbol: symbol,
    timeframe: function () { return el.dataset.timeframe; },
    bar: liveBar, zone: liveZone, signal: liveSignal,
  };

  function select(timeframe) {
    document.querySelectorAll(".tf-switcher .tf").forEach(function (button) {
      button.classList.toggle("active", button.dataset.timeframe === timeframe);
    });
    var address = new URL(window.location.href);
    address.searchParams.set("timeframe", timeframe);
    window.history.replaceState(null, "", address.toString());
    var link = document.getElementById("zones-link");
    if (link) {
      link.href = url(el.dataset.patternsUrl, { symbol: symbol, timeframe: timeframe, status: "open" });
    }
    return load(timeframe);
  }

  document.querySelectorAll(".tf-switcher .tf").forEach(function (button) {
    button.addEventListener("click", function () { select(button.dataset.timeframe); });
  });
  load(el.dataset.timeframe);
})();
