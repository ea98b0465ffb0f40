/*
 * A collection's page: its extent on a map; Ctrl-drag draws a box and shows its `bbox=`
 * query parameter. Adapted from pygeoapi 0.21.0's collections/collection.html
 * (MIT licence, see templates/README.md).
 */
(function () {
  "use strict";
  var page = window.placeintelPage.data();
  if (!page || !page.bbox) { return; }
  var map = window.placeintelPage.map("collection-map", page);
  var b = page.bbox.map(Number);  // [west, south, east, north]
  var extent = L.polygon([[b[1], b[0]], [b[3], b[0]], [b[3], b[2]], [b[1], b[2]]]).addTo(map);
  map.fitBounds(extent.getBounds(), {maxZoom: 10});

  var first = null, box = null, drawing = null;
  map.on("mousedown", function (e) {
    if (e.originalEvent.ctrlKey) {
      if (box) { map.removeLayer(box); box = null; }
      map.dragging.disable();
      first = e.latlng;
    } else if (box && !box.getBounds().contains(e.latlng)) {
      map.removeLayer(box);
      box = null;
    }
  });
  map.on("mousemove", function (e) {
    if (!first) { return; }
    if (drawing) { map.removeLayer(drawing); }
    drawing = L.rectangle([first, e.latlng], {dashArray: "4 1", weight: 0.4}).addTo(map);
  });
  map.on("mouseup", function (e) {
    if (drawing) { map.removeLayer(drawing); drawing = null; }
    if (first && e.originalEvent.ctrlKey) {
      box = L.rectangle([first, e.latlng], {color: "#ff7800", weight: 1}).addTo(map);
    }
    first = null;
    map.dragging.enable();
  });
  map.on("click", function () {
    if (!box) { return; }
    var text = document.createElement("code");
    text.textContent = "bbox=" + box.getBounds().toBBoxString();
    L.popup({maxWidth: "auto"}).setLatLng(box.getBounds().getCenter()).setContent(text).openOn(map);
  });
  window.placeintelItems = {map: map, items: extent};
}());
