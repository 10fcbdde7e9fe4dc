// The symbol page: candles, volume, zone rectangles and the latest signal's levels, with a
// timeframe switcher. Everything is read from data- attributes and the /api/chart endpoints.
(function () {
  "use strict";
  var el = document.getElementById("chart");
  if (!el || !window.LightweightCharts) return;
  var LWC = window.LightweightCharts;
  var fmt = window.CryptoLensFormat;
  var status = document.getElementById("chart-status");
  var symbol = el.dataset.symbol;
  var CANDLES = 1000;

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
  var loadSeq = 0;

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

  function drawLevels(signals) {
    priceLines.forEach(function (line) { candles.removePriceLine(line); });
    priceLines = [];
    var wanted = el.dataset.signal;
    var signal = signals.find(function (s) { return String(s.id) === wanted; }) || signals[0];
    el.dataset.priceLines = "0";
    if (!signal) return; // none visible on this plan, or none yet
    var levels = [
      ["entry", signal.entry, "#4fa3ff", LWC.LineStyle.Solid],
      ["stop", signal.stop, "#ef5350", LWC.LineStyle.Solid],
      ["T1", signal.target_1, "#26a69a", LWC.LineStyle.Dashed],
      ["T2", signal.target_2, "#26a69a", LWC.LineStyle.Dashed],
      ["T3", signal.target_3, "#26a69a", LWC.LineStyle.Dashed],
    ];
    levels.forEach(function (level) {
      priceLines.push(candles.createPriceLine({
        price: level[1], color: level[2], lineStyle: level[3], lineWidth: 1,
        axisLabelVisible: true, title: "#" + signal.id + " " + level[0],
      }));
    });
    el.dataset.priceLines = String(priceLines.length);
  }

  function load(timeframe) {
    var seq = ++loadSeq;
    el.dataset.state = "loading";
    status.textContent = "Loading " + symbol + " " + timeframe + "…";
    var params = { symbol: symbol, timeframe: timeframe };
    return getData(url(el.dataset.candlesUrl, Object.assign({ limit: CANDLES }, params)))
      .then(function (data) {
        var times = data.open_time.map(function (t) { return t / 1000; });
        var bars = times.map(function (t, i) {
          return { time: t, open: data.open[i], high: data.high[i], low: data.low[i], close: data.close[i] };
        });
        var vols = times.map(function (t, i) {
          var up = data.close[i] >= data.open[i];
          return { time: t, value: data.volume[i], color: up ? "rgba(38,166,154,0.45)" : "rgba(239,83,80,0.45)" };
        });
        var start = data.open_time.length ? data.open_time[0] : 0;
        return Promise.all([
          getData(url(el.dataset.zonesUrl, Object.assign({ limit: 2000, start: start }, params))),
          getData(url(el.dataset.signalsUrl, { symbol: symbol, limit: 10 })),
        ]).then(function (more) {
          if (seq !== loadSeq) return;
          if (bars.length) applyPriceFormat(bars[bars.length - 1].close);
          candles.setData(bars);
          volume.setData(vols);
          zones.setZones(times, more[0]);
          drawLevels(more[1]);
          chart.timeScale().fitContent();
          el.dataset.timeframe = timeframe;
          el.dataset.candles = String(bars.length);
          el.dataset.firstTime = bars.length ? String(data.open_time[0]) : "";
          el.dataset.zones = String(more[0].length);
          el.dataset.state = "ready";
          status.textContent = bars.length
            ? bars.length + " candles · " + more[0].length + " zones · " + timeframe
            : "No " + timeframe + " candles stored for " + symbol + ".";
        });
      })
      .catch(function (error) {
        if (seq !== loadSeq) return;
        el.dataset.state = "error";
        status.textContent = "Could not load the chart: " + error.message;
      });
  }

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
