/*
 * One item's page: the feature on a map. Adapted from pygeoapi 0.21.0's
 * collections/items/item.html (MIT licence, see templates/README.md).
 */
(function () {
  "use strict";
  var page = window.placeintelPage.data();
  if (!page || !page.feature) { return; }
  if (!page.feature.geometry) {  // an item without geometry: no map to draw
    document.getElementById("items-map").hidden = true;
    return;
  }
  var map = window.placeintelPage.map("items-map", page);
  var item = L.geoJSON(page.feature).addTo(map);
  map.fitBounds(item.getBounds(), {maxZoom: 15});
  window.placeintelItems = {map: map, items: item};
}());
