// The live stream (the gateway's Server-Sent Events, see the stream contract): one EventSource
// per page with the channels the page's scripts ask for, events dispatched on `document` as
// "live:<type>" CustomEvents, and the nav's connection-state indicator. The browser itself
// reconnects after a dropped connection and sends Last-Event-ID, so nothing is missed; a
// refused one (the gateway down, a 4xx) is retried here with a growing pause.
(function (global) {
  "use strict";
  var meta = document.querySelector('meta[name="stream-url"]');
  if (!meta || !global.EventSource) return;
  var indicator = document.getElementById("live-state");
  var TYPES = ["hello", "signal", "zone", "candle", "price"];
  var PAUSES_MS = [1000, 2000, 5000, 10000, 30000];
  // Channels per owner (a page script); "signals" on every page, for the toasts.
  var wanted = { base: ["signals"] };
  var source = null;
  var failures = 0;
  var timer = null;

  function setState(state) {
    if (!indicator) return;
    indicator.dataset.state = state;
    indicator.title = "Live updates: " + state;
    indicator.querySelector(".live-label").textContent = state;
  }

  function channels() {
    var all = {};
    Object.keys(wanted).forEach(function (owner) {
      wanted[owner].forEach(function (channel) { all[channel] = true; });
    });
    return Object.keys(all).sort();
  }

  function dispatch(type, message) {
    var data;
    try { data = JSON.parse(message.data); } catch (e) { return; }
    document.dispatchEvent(new CustomEvent("live:" + type, { detail: data }));
  }

  function close() {
    clearTimeout(timer);
    if (source) source.close();
    source = null;
  }

  function connect() {
    close();
    if (navigator.onLine === false) { setState("offline"); return; }
    var base = meta.content;
    var address = base + (base.indexOf("?") < 0 ? "?" : "&") +
      "channels=" + encodeURIComponent(channels().join(","));
    var opened = new EventSource(address, { withCredentials: true });
    source = opened;
    setState(failures ? "reconnecting" : "connecting");
    opened.onopen = function () { failures = 0; setState("connected"); };
    opened.onerror = function () {
      if (opened !== source) return;
      if (opened.readyState === EventSource.CLOSED) {
        // Refused or not a stream: the browser gave up; try again after a pause.
        failures += 1;
        setState("offline");
        timer = setTimeout(connect, PAUSES_MS[Math.min(failures, PAUSES_MS.length) - 1]);
      } else {
        setState("reconnecting");
      }
    };
    TYPES.forEach(function (type) {
      opened.addEventListener(type, function (message) {
        if (opened === source) dispatch(type, message);
      });
    });
  }

  var pending = null;
  var parsed = document.readyState !== "loading";
  // Ask for `list` on behalf of `owner` (replacing what it asked before). The first
  // connection waits for every page script to have asked (the document parsed); later
  // changes reconnect once however many scripts ask in the same turn.
  function want(owner, list) {
    var before = channels().join(",");
    wanted[owner] = list.slice();
    if (!parsed || (channels().join(",") === before && source)) return;
    clearTimeout(pending);
    pending = setTimeout(connect, 0);
  }

  global.addEventListener("offline", function () { close(); setState("offline"); });
  global.addEventListener("online", function () { failures = 0; connect(); });
  global.addEventListener("pagehide", close);
  global.addEventListener("pageshow", function (event) { if (event.persisted) connect(); });

  global.CryptoLensLive = { want: want, channels: channels };
  if (parsed) pending = setTimeout(connect, 0);
  else document.addEventListener("DOMContentLoaded", function () { parsed = true; connect(); });
})(window);
