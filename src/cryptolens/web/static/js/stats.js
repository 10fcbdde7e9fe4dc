// Expectancy bars on the stats page: width proportional to |R| (scaled to the largest),
// green above zero and red below. Values come from data-r attributes.
(function () {
  "use strict";
  var bars = Array.prototype.slice.call(document.querySelectorAll(".rbar[data-r]"));
  var values = bars.map(function (bar) { return parseFloat(bar.dataset.r); });
  var largest = values.reduce(function (m, v) { return isFinite(v) ? Math.max(m, Math.abs(v)) : m; }, 0);
  bars.forEach(function (bar, i) {
    var value = values[i];
    if (!isFinite(value) || largest === 0) return;
    bar.style.width = (Math.abs(value) / largest * 100).toFixed(1) + "%";
    bar.classList.add(value >= 0 ? "pos" : "neg");
  });
})();
