// Price formatting shared by every page script: the rule of cryptolens.web.filters.price —
// a fixed number of significant digits, so 64,123.5 and 0.0000123400 read alike.
(function (global) {
  "use strict";
  var SIGNIFICANT = 6;

  function priceDecimals(value, significant) {
    var digits = significant || SIGNIFICANT;
    if (!isFinite(value) || value === 0) return 0;
    var magnitude = Math.floor(Math.log10(Math.abs(value)));
    return Math.max(0, digits - 1 - magnitude);
  }

  function price(value, significant) {
    if (value === null || value === undefined || !isFinite(value)) return "—";
    if (value === 0) return "0";
    var decimals = Math.min(20, priceDecimals(value, significant));
    return value.toLocaleString("en-US", {
      minimumFractionDigits: decimals,
      maximumFractionDigits: decimals,
    });
  }

  global.CryptoLensFormat = { SIGNIFICANT: SIGNIFICANT, priceDecimals: priceDecimals, price: price };
})(window);
