// /api/docs: Swagger UI (vendored from npm) over the generated OpenAPI document. Kept in a
// file of its own: the Content-Security-Policy allows no inline script.
(function () {
  "use strict";
  var root = document.getElementById("api-docs");
  if (!root || typeof window.SwaggerUIBundle !== "function") {
    return;
  }
  window.SwaggerUIBundle({
    url: root.getAttribute("data-spec-url"),
    domNode: root,
    deepLinking: true,
    // "Try it out" sends the browser's own cookie; a key goes in "Authorize".
    withCredentials: true,
    persistAuthorization: false,
  });
})();
