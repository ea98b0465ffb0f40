/*
 * The items page: the limit selector, and the features on a map with a popup linking each
 * to its page. Adapted from pygeoapi 0.21.0's collections/items/index.html (MIT licence,
 * see templates/README.md); popups are DOM nodes, so a name is always shown as text.
 */
(function () {
  "use strict";
  var select = document.getElementById("limits");
  if (select) {
    var params = new URLSearchParams(window.location.search);
    select.value = params.get("limit") || select.getAttribute("data-default");
    select.addEventListener("change", function (event) {
      params.set("limit", event.target.value);
      params.delete("offset");
      window.location.search = params.toString();
    });
  }
  var page = window.placeintelPage.data();
  if (!page || !page.features || !page.features.length) { return; }
  // A dataset without geometry (a register, say): its features have none, so no map.
  if (!page.features.some(function (feature) { return feature.geometry; })) {
    document.getElementById("items-map").hidden = true;
    return;
  }
  var map = window.placeintelPage.map("items-map", page);
  var items = L.geoJSON({type: "FeatureCollection", features: page.features}, {
    onEachFeature: function (feature, layer) {
      var url = page.itemsPath + "/" + encodeURIComponent(feature.id) + "?f=html";
      var text = page.titleField ? feature.properties[page.titleField] : feature.id;
      var box = document.createElement("span");
      box.appendChild(window.placeintelPage.link(url, text));
      layer.bindPopup(box);
    }
  });
  var markers = L.markerClusterGroup({disableClusteringAtZoom: 9, chunkedLoading: true, chunkInterval: 500});
  markers.addLayer(items);
  map.addLayer(markers);
  map.fitBounds(items.getBounds());
  window.placeintelItems = {map: map, items: items};
}());
