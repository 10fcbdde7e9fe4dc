// The portfolio analytics page: the equity curve (balance after each closed trade) drawn with
// lightweight-charts from the JSON in the element's data-points attribute (no inline script:
// the page runs under a strict Content-Security-Policy). The number of points drawn is written
// back to data-drawn, and data-state says "ready" (or "empty") once the chart is built.
(function () {
  "use strict";
  var el = document.getElementById("equity-chart");
  if (!el || !window.LightweightCharts) return;
  var LWC = window.LightweightCharts;
  var fmt = window.CryptoLensFormat;

  function parsed() {
    try {
      var raw = JSON.parse(el.dataset.points || "[]");
      return Array.isArray(raw) ? raw : [];
    } catch (e) {
      return [];
    }
  }

  // The chart wants strictly increasing times: trades closed in the same second keep the last
  // balance of that second.
  function series(points) {
    var out = [];
    points.forEach(function (p) {
      var time = Math.floor(Number(p.time));
      var value = Number(p.value);
      if (!isFinite(time) || !isFinite(value)) return;
      if (out.length && out[out.length - 1].time >= time) {
        if (out[out.length - 1].time === time) out[out.length - 1].value = value;
        return;
      }
      out.push({ time: time, value: value });
    });
    return out;
  }

  var data = series(parsed());
  el.dataset.drawn = String(data.length);
  if (!data.length) {
    el.dataset.state = "empty";
    return;
  }
  var chart = LWC.createChart(el, {
    autoSize: true,
    layout: {
      background: { type: "solid", color: "#0f1217" },
      textColor: "#d8dee9",
      attributionLogo: true,
    },
    grid: { vertLines: { color: "#1c222b" }, horzLines: { color: "#1c222b" } },
    rightPriceScale: { borderColor: "#262c36" },
    timeScale: { borderColor: "#262c36", timeVisible: true, secondsVisible: false },
  });
  var line = chart.addSeries(LWC.LineSeries, {
    color: "#4fa3ff",
    lineWidth: 2,
    priceFormat: {
      type: "custom",
      formatter: function (v) { return fmt ? fmt.price(v) : String(v); },
    },
  });
  line.setData(data);
  chart.timeScale().fitContent();
  el.dataset.state = "ready";
})();
