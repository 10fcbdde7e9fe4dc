// Zone rectangles for lightweight-charts: a series primitive (the library has no rectangle
// shape) drawing each zone from its forming candle to the candle where it ended, or to the
// right edge while it is still open. Colour by type, edge by direction, a label in the corner.
(function (global) {
  "use strict";

  var FILL = {
    fvg: "rgba(79, 163, 255, 0.16)",
    order_block: "rgba(255, 183, 77, 0.16)",
    liquidity_sweep: "rgba(186, 104, 200, 0.18)",
  };
  var EDGE = { bullish: "rgba(38, 166, 154, 0.9)", bearish: "rgba(239, 83, 80, 0.9)" };

  // Index of the last candle opening at or before `time` (seconds), or -1.
  function indexAtOrBefore(times, time) {
    var lo = 0, hi = times.length - 1, found = -1;
    while (lo <= hi) {
      var mid = (lo + hi) >> 1;
      if (times[mid] <= time) { found = mid; lo = mid + 1; } else { hi = mid - 1; }
    }
    return found;
  }

  var LABEL = { fvg: "FVG", order_block: "OB", liquidity_sweep: "SW" };

  // The zone's type and direction in its top-left corner, where the rectangle has room.
  function label(ctx, zone, left, top, width, height, ratio) {
    var size = Math.round(10 * ratio);
    if (height < size + 2 * ratio || width < 4 * size) return;
    ctx.font = size + "px system-ui, sans-serif";
    ctx.textBaseline = "top";
    ctx.fillStyle = "rgba(216, 222, 233, 0.85)";
    var text = (LABEL[zone.pattern_type] || zone.pattern_type) +
      (zone.direction === "bullish" ? " ▲" : " ▼");
    // The model's probability of holding, when the zone has one.
    if (zone.quality_probability !== null && zone.quality_probability !== undefined) {
      text += " " + Math.round(zone.quality_probability * 100) + "%";
    }
    ctx.fillText(text, Math.max(left, 0) + 3 * ratio, top + 2 * ratio);
  }

  function ZonesRenderer(owner) { this.owner = owner; }

  ZonesRenderer.prototype.draw = function (target) {
    var owner = this.owner;
    var drawn = 0;
    if (owner.chart && owner.series && owner.times.length) {
      var timeScale = owner.chart.timeScale();
      var series = owner.series;
      var times = owner.times;
      var last = times.length - 1;
      target.useBitmapCoordinateSpace(function (scope) {
        var ctx = scope.context;
        var hr = scope.horizontalPixelRatio, vr = scope.verticalPixelRatio;
        var width = scope.bitmapSize.width, height = scope.bitmapSize.height;
        owner.zones.forEach(function (zone) {
          var start = indexAtOrBefore(times, zone.candle_time / 1000);
          if (start < 0) start = 0;
          var end = zone.ended_at === null ? last + 2 : indexAtOrBefore(times, zone.ended_at / 1000);
          if (end < start) end = start;
          var x1 = timeScale.logicalToCoordinate(start);
          var x2 = timeScale.logicalToCoordinate(end);
          var y1 = series.priceToCoordinate(zone.zone_high);
          var y2 = series.priceToCoordinate(zone.zone_low);
          if (x1 === null || x2 === null || y1 === null || y2 === null) return;
          var left = Math.round(Math.min(x1, x2) * hr);
          var right = Math.round(Math.max(x1, x2) * hr) + Math.max(1, Math.round(2 * hr));
          var top = Math.round(Math.min(y1, y2) * vr);
          var bottom = Math.max(top + 1, Math.round(Math.max(y1, y2) * vr));
          if (right < 0 || left > width || bottom < 0 || top > height) return;
          ctx.fillStyle = FILL[zone.pattern_type] || "rgba(200, 200, 200, 0.15)";
          ctx.fillRect(left, top, right - left, bottom - top);
          ctx.fillStyle = EDGE[zone.direction] || "#888";
          var edge = Math.max(1, Math.round(hr));
          var edgeY = zone.direction === "bullish" ? bottom - edge : top;
          ctx.fillRect(left, edgeY, right - left, edge);
          label(ctx, zone, left, top, right - left, bottom - top, vr);
          drawn += 1;
        });
      });
    }
    if (owner.onDrawn) owner.onDrawn(drawn);
  };

  function ZonesPaneView(owner) { this.owner = owner; this._renderer = new ZonesRenderer(owner); }
  ZonesPaneView.prototype.zOrder = function () { return "bottom"; };
  ZonesPaneView.prototype.renderer = function () { return this._renderer; };

  function ZonesPrimitive(onDrawn) {
    this.zones = [];
    this.times = [];
    this.chart = null;
    this.series = null;
    this.requestUpdate = null;
    this.onDrawn = onDrawn;
    this._views = [new ZonesPaneView(this)];
  }
  ZonesPrimitive.prototype.attached = function (param) {
    this.chart = param.chart;
    this.series = param.series;
    this.requestUpdate = param.requestUpdate;
  };
  ZonesPrimitive.prototype.detached = function () { this.chart = null; this.series = null; };
  ZonesPrimitive.prototype.updateAllViews = function () {};
  ZonesPrimitive.prototype.paneViews = function () { return this._views; };
  // `times`: candle open times in seconds, ascending; `zones`: the /api/chart/zones rows.
  ZonesPrimitive.prototype.setZones = function (times, zones) {
    this.times = times;
    this.zones = zones;
    if (this.requestUpdate) this.requestUpdate();
  };

  global.CryptoLensZones = { ZonesPrimitive: ZonesPrimitive, indexAtOrBefore: indexAtOrBefore };
})(window);
