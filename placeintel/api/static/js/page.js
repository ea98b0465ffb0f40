/*
 * Every API page: embeds the page's JSON-LD for search engines (pygeoapi's _base.html did
 * this in an inline script, which the service's Content-Security-Policy does not allow).
 * Only pages that link a JSON-LD version (<link rel="alternate" type="application/ld+json">)
 * have one: the others are not asked for it.
 * Adapted from pygeoapi 0.21.0 (MIT licence, see templates/README.md).
 */
(function () {
  "use strict";
  var link = document.querySelector('link[rel="alternate"][type="application/ld+json"]');
  if (!link) { return; }
  // From this origin, whatever host the configured URL names (connect-src is 'self').
  var target = new URL(link.href, window.location.href);
  var request = new XMLHttpRequest();
  request.open("GET", target.pathname + target.search);
  request.onload = function () {
    if (request.status === 200) {
      var block = document.createElement("script");
      block.type = "application/ld+json";  // data, never run
      // Search engines do not expect the full context path; pyld needs it.
      block.textContent = request.responseText.replace("docs/jsonldcontext.jsonld", "");
      document.head.appendChild(block);
    }
  };
  request.send();
}());
