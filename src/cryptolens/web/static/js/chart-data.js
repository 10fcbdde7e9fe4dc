// The symbol chart's data, kept apart from the drawing: candle arrays from /api/chart/candles
// as bars, older pages joined in front, zones from the stream in the /api/chart/zones shape,
// signal markers, and the zone types the reader hid (remembered in localStorage).
(function (global) {
  "use strict";
  var HIDDEN_KEY = "cryptolens.chart.hiddenZoneTypes";
  var ENDED = { filled: true, invalidated: true, expired: true };
  var UP = "rgba(38,166,154,0.45)", DOWN = "rgba(239,83,80,0.45)";

  // {times, bars, volumes} from the columns of /api/chart/candles (times in seconds).
  function fromColumns(data) {
    var times = data.open_time.map(function (t) { return t / 1000; });
    return {
      times: times,
      bars: times.map(function (t, i) {
        return { time: t, open: data.open[i], high: data.high[i], low: data.low[i], close: data.close[i] };
      }),
      volumes: times.map(function (t, i) { return volumeOf(t, data.open[i], data.close[i], data.volume[i]); }),
    };
  }

  function volumeOf(time, open, close, value) {
    return { time: time, value: value, color: close >= open ? UP : DOWN };
  }

  // `older` in front of `series`, both as fromColumns answers; older ends before series starts.
  function prepend(older, series) {
    var first = series.times.length ? series.times[0] : Infinity;
    var keep = older.times.filter(function (t) { return t < first; }).length;
    return {
      times: older.times.slice(0, keep).concat(series.times),
      bars: older.bars.slice(0, keep).concat(series.bars),
      volumes: older.volumes.slice(0, keep).concat(series.volumes),
    };
  }

  // A stream `price` or `candle` event as a bar and a volume bar.
  function barOf(event) {
    return {
      bar: { time: event.time, open: event.open, high: event.high, low: event.low, close: event.close },
      volume: volumeOf(event.time, event.open, event.close, event.volume),
    };
  }

  // A stream `zone` event in the shape of /api/chart/zones; `nowMs` ends a finished zone.
  function zoneOf(event, nowMs) {
    return {
      id: event.id, pattern_type: event.type, direction: event.direction,
      zone_low: event.low, zone_high: event.high, candle_time: event.candle_time,
      formed_at: event.formed_at, status: event.status,
      ended_at: ENDED[event.change] ? nowMs : null,
    };
  }

  // `zones` with `zone` added, or replacing the one with its id; oldest formed first.
  function upsertZone(zones, zone) {
    var kept = zones.filter(function (z) { return z.id !== zone.id; });
    kept.push(zone);
    return kept.sort(function (a, b) { return a.formed_at - b.formed_at || a.id - b.id; });
  }

  // Zones ahead of `known` (by id), for a page of older zones joined in front.
  function joinZones(older, known) {
    var ids = {};
    known.forEach(function (z) { ids[z.id] = true; });
    return older.filter(function (z) { return !ids[z.id]; }).concat(known);
  }

  // The open time of the candle holding `seconds` (binary search), or null before the first.
  function barAt(times, seconds) {
    var lo = 0, hi = times.length - 1, found = null;
    while (lo <= hi) {
      var mid = (lo + hi) >> 1;
      if (times[mid] <= seconds) { found = times[mid]; lo = mid + 1; } else { hi = mid - 1; }
    }
    return found;
  }

  // A marker at the candle where each signal fired, oldest first; `drawnId` is the one whose
  // levels are drawn; finished signals are grey.
  function markersFor(signals, times, drawnId) {
    var markers = [];
    signals.forEach(function (s) {
      var at = barAt(times, Math.floor(s.created_at / 1000));
      if (at === null) return;
      var up = s.direction === "bullish";
      markers.push({
        time: at, position: up ? "belowBar" : "aboveBar", shape: up ? "arrowUp" : "arrowDown",
        color: !s.live ? "#7b8494" : (up ? "#26a69a" : "#ef5350"),
        text: s.id === drawnId ? "#" + s.id : "", id: String(s.id),
      });
    });
    return markers.sort(function (a, b) { return a.time - b.time; });
  }

  function hiddenTypes() {
    try {
      var stored = JSON.parse(global.localStorage.getItem(HIDDEN_KEY) || "[]");
      return Array.isArray(stored) ? stored : [];
    } catch (e) { return []; }
  }

  function setHiddenTypes(types) {
    try { global.localStorage.setItem(HIDDEN_KEY, JSON.stringify(types)); } catch (e) { /* private mode */ }
  }

  function shownZones(zones, hidden) {
    return zones.filter(function (z) { return hidden.indexOf(z.pattern_type) < 0; });
  }

  global.CryptoLensChartData = {
    fromColumns: fromColumns, prepend: prepend, barOf: barOf, zoneOf: zoneOf,
    upsertZone: upsertZone, joinZones: joinZones, barAt: barAt, markersFor: markersFor,
    hiddenTypes: hiddenTypes, setHiddenTypes: setHiddenTypes, shownZones: shownZones,
  };
})(window);
