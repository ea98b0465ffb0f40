/*
 * What the API pages' maps share: the page's data block and the basemap.
 * The data is read with JSON.parse from <script type="application/json">, never run;
 * text from it reaches the page only through textContent.
 */
(function () {
  "use strict";
  window.placeintelPage = {
    data: function () {
      var block = document.getElementById("placeintel-page-data");
      return block ? JSON.parse(block.textContent) : null;
    },
    map: function (id, page) {
      var map = L.map(id);
      // The attribution is the service's configuration (pygeoapi-config.yml), not data.
      L.tileLayer(page.tiles, {maxZoom: 18, attribution: page.attribution}).addTo(map);
      return map;
    },
    link: function (href, text) {
      var a = document.createElement("a");
      a.href = href;
      a.textContent = String(text);
      return a;
    }
  };
}());
