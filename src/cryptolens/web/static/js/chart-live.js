// The symbol chart follows the stream: the forming candle from `price` events, the closed
// one from `candle` events, new and changed zones, and markers for new signals. Channels
// follow the timeframe shown.
(function () {
  "use strict";
  var live = window.CryptoLensLive;
  var chart = window.CryptoLensChart;
  if (!live || !chart) return;

  function subscribe() {
    var series = chart.symbol + ":" + chart.timeframe();
    live.want("chart", ["price:" + series, "candles:" + series, "zones:" + chart.symbol]);
  }

  function ours(event, withTimeframe) {
    return event.symbol === chart.symbol && (!withTimeframe || event.timeframe === chart.timeframe());
  }

  document.addEventListener("chart:loaded", subscribe);
  document.addEventListener("live:price", function (e) { if (ours(e.detail, true)) chart.bar(e.detail); });
  document.addEventListener("live:candle", function (e) { if (ours(e.detail, true)) chart.bar(e.detail); });
  document.addEventListener("live:zone", function (e) { if (ours(e.detail, true)) chart.zone(e.detail); });
  document.addEventListener("live:signal", function (e) { if (ours(e.detail, false)) chart.signal(e.detail); });
  if (chart.timeframe()) subscribe();
})();
