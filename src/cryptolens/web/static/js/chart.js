// The symbol page: candles, volume, zone rectangles and a signal's levels (the one asked for
// with ?signal=N, else the newest live one), with a timeframe switcher. Everything is read from data- attributes and the /api/chart endpoints.
(function () {
  "use strict";
  var el = document.getElementById("chart");
  if (!el || !window.LightweightCharts) return;
  var LWC = window.LightweightCharts;
  var fmt = window.CryptoLensFormat;
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

  // The open time (seconds) of the candle holding ``seconds``: markers must sit on a bar.
  function barAt(times, seconds) {
    var found = null;
    for (var i = 0; i < times.length && times[i] <= seconds; i++) found = times[i];
    return found;
  }

  // A live signal (pending or triggered) is drawn in colour; a finished one (closed, expired,
  // unfilled) only when its page asked for it, grey and dotted: history, not open orders.
  function drawLevels(signal, times) {
    priceLines.forEach(function (line) { candles.removePriceLine(line); });
    priceLines = [];
    markers.setMarkers([]);
    el.dataset.priceLines = "0";
    el.dataset.signalDrawn = signal ? (signal.live ? "live" : "historical") : "none";
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
    var at = barAt(times, Math.floor(signal.created_at / 1000));
    if (at !== null) {
      var up = signal.direction === "bullish";
      markers.setMarkers([{
        time: at, position: up ? "belowBar" : "aboveBar", shape: up ? "arrowUp" : "arrowDown",
        color: signal.live ? "#4fa3ff" : grey, text: "#" + signal.id,
      }]);
    }
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

  function load(timeframe) {
    var seq = ++loadSeq;
    el.dataset.state = "loading";
    status.textContent = "Loading " + symbol + " " + timeframe + "…";
    var params = { symbol: symbol, timeframe: timeframe };
    if (requested) {
      // Candles up to half a window after the signal, so that its time is inside the data.
      params.end = requested.created_at + (CANDLES / 2) * timeframeSeconds(timeframe) * 1000;
    }
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
          requested ? Promise.resolve([requested])
            : getData(url(el.dataset.signalsUrl, { symbol: symbol, limit: 10 })),
        ]).then(function (more) {
          var signal = requested || more[1].find(function (s) { return s.live; }) || null;
          if (seq !== loadSeq) return;
          if (bars.length) applyPriceFormat(bars[bars.length - 1].close);
          candles.setData(bars);
          volume.setData(vols);
          zones.setZones(times, more[0]);
          drawLevels(signal, times);
          if (requested && bars.length) showSignalTime(requested, timeframe);
          else chart.timeScale().fitContent();
          el.dataset.timeframe = timeframe;
          el.dataset.candles = String(bars.length);
          el.dataset.firstTime = bars.length ? String(data.open_time[0]) : "";
          el.dataset.zones = String(more[0].length);
          el.dataset.state = "ready";
          status.textContent = bars.length
            ? bars.length + " candles · " + more[0].length + " zones · " + timeframe +
              describe(signal)
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
