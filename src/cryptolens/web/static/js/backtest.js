// A backtest run's page. While the run is queued or running: the <progress> bar follows
// GET /backtests/<id>/status every second (a sweep's also as backtests done / total) and the
// page reloads when the run ends. When it is
// done: the equity curve, the drawdown curve and the price chart with the trades' markers,
// drawn with lightweight-charts from the JSON in data- attributes (no inline script: the
// page runs under a strict Content-Security-Policy). Each chart's element says
// data-state="ready" (or "empty") once built and data-drawn how many points it shows.
(function () {
  "use strict";
  var POLL_MS = 1000;

  function follow(bar) {
    var text = document.getElementById("run-progress-text");
    function poll() {
      fetch(bar.dataset.statusUrl, { headers: { Accept: "application/json" }, credentials: "same-origin" })
        .then(function (answer) {
          if (!answer.ok) throw new Error("status " + answer.status);
          return answer.json();
        })
        .then(function (body) {
          var fraction = Math.max(0, Math.min(1, Number(body.progress) || 0));
          bar.value = fraction;
          bar.textContent = Math.round(fraction * 100) + "%";
          var count = body.total ? body.done + " / " + body.total + " backtests · " : "";
          if (text) text.textContent = count + (fraction * 100).toFixed(1) + "% · " + body.status;
          if (body.status === "done" || body.status === "failed") {
            window.location.reload();
            return;
          }
          window.setTimeout(poll, POLL_MS);
        })
        .catch(function () { window.setTimeout(poll, POLL_MS * 5); });
    }
    window.setTimeout(poll, POLL_MS);
  }

  function parsed(el, name) {
    try {
      var raw = JSON.parse(el.dataset[name] || "null");
      return raw === null ? null : raw;
    } catch (e) {
      return null;
    }
  }

  var THEME = {
    autoSize: true,
    layout: { background: { type: "solid", color: "#0f1217" }, textColor: "#d8dee9", attributionLogo: true },
    grid: { vertLines: { color: "#1c222b" }, horzLines: { color: "#1c222b" } },
    rightPriceScale: { borderColor: "#262c36" },
    // A phone turned sideways keeps showing the whole run, not the same bars stretched.
    timeScale: {
      borderColor: "#262c36", timeVisible: true, secondsVisible: false,
      lockVisibleTimeRangeOnResize: true,
    },
  };

  // Strictly increasing times, finite values only (the chart refuses anything else).
  function points(times, values, scale) {
    var out = [];
    for (var i = 0; i < times.length; i++) {
      var time = Math.floor(Number(times[i]));
      var value = Number(values[i]) * scale;
      if (!isFinite(time) || !isFinite(value)) continue;
      if (out.length && out[out.length - 1].time >= time) continue;
      out.push({ time: time, value: value });
    }
    return out;
  }

  function lineChart(el, data, kind, options) {
    el.dataset.drawn = String(data.length);
    if (!data.length) {
      el.dataset.state = "empty";
      return null;
    }
    var LWC = window.LightweightCharts;
    var chart = LWC.createChart(el, THEME);
    var series = chart.addSeries(kind === "area" ? LWC.AreaSeries : LWC.LineSeries, options);
    series.setData(data);
    chart.timeScale().fitContent();
    el.dataset.state = "ready";
    return chart;
  }

  function curves() {
    var equityEl = document.getElementById("bt-equity");
    var drawdownEl = document.getElementById("bt-drawdown");
    var curve = parsed(equityEl, "series") || { time: [], equity: [], drawdown: [] };
    var fmt = window.CryptoLensFormat;
    lineChart(equityEl, points(curve.time || [], curve.equity || [], 1), "line", {
      color: "#4fa3ff", lineWidth: 2,
      priceFormat: { type: "custom", formatter: function (v) { return fmt ? fmt.price(v) : v.toFixed(2); } },
    });
    if (drawdownEl) {
      lineChart(drawdownEl, points(curve.time || [], curve.drawdown || [], 100), "area", {
        lineColor: "#ef5350", topColor: "rgba(239,83,80,0.05)", bottomColor: "rgba(239,83,80,0.45)",
        lineWidth: 1, invertFilledArea: true,
        priceFormat: { type: "custom", formatter: function (v) { return v.toFixed(1) + "%"; } },
      });
    }
  }

  function price() {
    var el = document.getElementById("bt-price");
    if (!el) return;
    var bars = parsed(el, "bars") || [];
    var markers = parsed(el, "markers") || [];
    el.dataset.drawn = String(bars.length);
    if (!bars.length) {
      el.dataset.state = "empty";
      return;
    }
    var LWC = window.LightweightCharts;
    var fmt = window.CryptoLensFormat;
    var chart = LWC.createChart(el, Object.assign({}, THEME, { crosshair: { mode: LWC.CrosshairMode.Normal } }));
    var candles = chart.addSeries(LWC.CandlestickSeries, {
      upColor: "#26a69a", downColor: "#ef5350", borderVisible: false,
      wickUpColor: "#26a69a", wickDownColor: "#ef5350",
      priceFormat: { type: "custom", formatter: function (v) { return fmt ? fmt.price(v) : String(v); } },
    });
    candles.setData(bars);
    LWC.createSeriesMarkers(candles, markers);
    el.dataset.markersDrawn = String(markers.length);
    chart.timeScale().fitContent();
    el.dataset.state = "ready";
  }

  var bar = document.getElementById("run-progress");
  if (bar) follow(bar);
  if (document.getElementById("bt-equity") && window.LightweightCharts) {
    curves();
    price();
  }
})();
