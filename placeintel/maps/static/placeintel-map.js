/*
 * placeintel map behaviour, loaded by every map page after Leaflet and Leaflet.markercluster.
 *
 * Written by hand because folium has no control that recolours one layer by a chosen
 * field: the alternative, one folium layer per component, repeats every ward's geometry
 * and popup and would multiply the page size by five. Everything that comes from a dataset
 * is put on the page with textContent, never innerHTML, so names cannot inject markup.
 */
(function () {
  "use strict";

  var PALETTE = ["#ffffb2", "#fecc5c", "#fd8d3c", "#f03b20", "#bd0026"];
  var NO_DATA = "#cccccc";
  var HOT = {"hot-99": 6, "hot-95": 4.5, "hot-90": 3, "cold-99": 6, "cold-95": 4.5, "cold-90": 3};

  function el(tag, text, className) {
    var node = document.createElement(tag);
    if (text !== undefined && text !== null) { node.textContent = String(text); }
    if (className) { node.className = className; }
    return node;
  }

  function fmt(value, digits) {
    if (value === null || value === undefined || isNaN(value)) { return "n/a"; }
    return Number(value).toLocaleString("en-GB", {maximumFractionDigits: digits === undefined ? 1 : digits});
  }

  function hotspotText(h) {
    if (!h || h === "not-significant") { return "not a significant hot or cold spot"; }
    var parts = h.split("-");
    return (parts[0] === "hot" ? "HOT spot" : "cold spot") + " (" + parts[1] + "% confidence, Gi*)";
  }

  function popup(area, meta, level) {
    var p = area.properties;
    var box = el("div", null, "pi-popup");
    box.appendChild(el("h3", p.n));
    var where = level === "lsoa" ? "LSOA " + p.c + " \u00b7 " + p.wd + " ward \u00b7 " + p.d
                                 : p.d + " \u00b7 " + p.c;
    box.appendChild(el("div", where, "pi-muted"));
    // Ranks are the region's, on district maps too: "of" is always the region's count.
    var count = level === "lsoa" ? fmt(meta.lsoaCount, 0) + " LSOAs" : fmt(meta.wards, 0) + " wards";
    var score = el("p");
    score.appendChild(el("strong", "DERI " + fmt(p.s[0], 2) + " \u2014 rank " + p.r + " of " + count));
    score.appendChild(el("br"));
    score.appendChild(document.createTextNode(
      "Rank " + p.rl + "\u2013" + p.rh + " across 1,000 weightings; top tenth in " +
      fmt(100 * p.p, 0) + "% of them" + (p.w ? " (class depends on the weights)" : "")));
    score.appendChild(el("br"));
    score.appendChild(document.createTextNode("Hotspot: " + hotspotText(p.h)));
    if (level === "ward" && p.hs !== null && p.hs !== undefined && p.hs > 0) {
      score.appendChild(el("br"));
      score.appendChild(document.createTextNode(
        fmt(100 * p.hs, 0) + "% of residents live in hot-spot LSOAs"));
    }
    box.appendChild(score);
    var components = el("table", null, "pi-table");
    meta.views.slice(1).forEach(function (view, i) {
      var row = el("tr");
      row.appendChild(el("td", view.label));
      row.appendChild(el("td", fmt(p.s[i + 1], 1)));
      components.appendChild(row);
    });
    box.appendChild(components);
    var details = el("details");
    details.appendChild(el("summary", "Why it ranks here: indicators and their contribution"));
    var table = el("table", null, "pi-table");
    var head = el("tr");
    ["Indicator", "Value", "0\u201310", "Points"].forEach(function (t) { head.appendChild(el("th", t)); });
    table.appendChild(head);
    meta.indicators.forEach(function (indicator, i) {
      var v = p.i[i];
      if (!v) { return; }
      var row = el("tr");
      row.appendChild(el("td", indicator.label));
      row.appendChild(el("td", fmt(v[0], 1)));
      row.appendChild(el("td", fmt(v[1], 1)));
      row.appendChild(el("td", fmt(v[2], 2)));
      table.appendChild(row);
    });
    details.appendChild(table);
    box.appendChild(details);
    if (p.ns && p.ns.length) {
      box.appendChild(el("div", "Nearest digital-support services", "pi-subhead"));
      var list = el("ul");
      p.ns.forEach(function (s) {
        list.appendChild(el("li", s[0] + " (" + s[1] + ") \u2014 " + fmt(s[2] / 1000, 1) + " km"));
      });
      box.appendChild(list);
    }
    return box;
  }

  function legend(meta, state) {
    var outer = el("details", null, "pi-legend leaflet-control");
    outer.open = state.legendOpen;
    outer.setAttribute("role", "region");
    outer.setAttribute("aria-label", "Map legend");
    outer.addEventListener("toggle", function () { state.legendOpen = outer.open; });
    outer.appendChild(el("summary", meta.title));
    var box = el("div");
    outer.appendChild(box);
    L.DomEvent.disableClickPropagation(outer);
    var view = meta.views[state.view];
    var lsoaLevel = state.lsoas && meta.lsoaBins;
    var bins = lsoaLevel ? meta.lsoaBins[state.view] : view.bins;
    box.appendChild(el("div", view.label + " (0 low \u2013 10 high risk), " + meta.scheme + " of " +
      (lsoaLevel ? "LSOAs" : "wards") + ":"));
    var low = 0;
    bins.forEach(function (high, i) {
      var row = el("div");
      var swatch = el("span", null, "pi-swatch");
      swatch.style.background = PALETTE[i];
      row.appendChild(swatch);
      row.appendChild(document.createTextNode(fmt(low, 1) + " \u2013 " + fmt(high, 1)));
      box.appendChild(row);
      low = high;
    });
    var none = el("div");
    var grey = el("span", null, "pi-swatch");
    grey.style.background = NO_DATA;
    none.appendChild(grey);
    none.appendChild(document.createTextNode("no data"));
    box.appendChild(none);
    box.appendChild(el("div", "Outlines", "pi-subhead"));
    var outlines = [["pi-line pi-hot", "hot-spot ward: most residents in hot-spot LSOAs (thicker = 99/95/90 % confidence)"],
     ["pi-line pi-cold", "cold-spot ward (dashed)"],
     ["pi-line pi-sensitive", "rank class depends on the weights (dotted)"]];
    if (meta.lsoaBins) {
      outlines.splice(2, 0, ["pi-line pi-lsoa-hot", "hot-spot LSOA (Gi*, false discovery rate \u2264 10 %)"]);
    }
    if (lsoaLevel) {
      outlines.unshift(["pi-line pi-ward", "ward boundary"]);
    }
    outlines.forEach(function (item) {
      var row = el("div");
      row.appendChild(el("span", null, item[0]));
      row.appendChild(document.createTextNode(item[1]));
      box.appendChild(row);
    });
    if (meta.categories.length) {
      box.appendChild(el("div", "Services", "pi-subhead"));
      meta.categories.forEach(function (c) {
        var row = el("div");
        var icon = el("span", c.letter, "pi-icon");
        icon.style.background = c.colour;
        row.appendChild(icon);
        row.appendChild(document.createTextNode(c.label));
        box.appendChild(row);
      });
    }
    return outer;
  }

  window.placeintelMap = function (options) {
    var map = options.map, control = options.control, data = options.data, meta = data.meta;
    var state = {view: 0, legendOpen: window.innerWidth > 700, lsoas: false};
    if (data.lsoas) {
      meta.lsoaCount = data.lsoas.count;
      meta.lsoaBins = data.lsoas.bins;
    }

    function style(feature) {
      var k = feature.properties.k[state.view];
      return {fillColor: k >= 0 ? PALETTE[k] : NO_DATA, fillOpacity: state.lsoas ? 0 : 0.75,
              color: "#444444", weight: 0.8};
    }

    function lsoaStyle(feature) {
      var k = feature.properties.k[state.view];
      return {fillColor: k >= 0 ? PALETTE[k] : NO_DATA, fillOpacity: 0.8, color: "#777777", weight: 0.4};
    }

    // Panes, bottom to top: wards (the overlay pane), LSOAs, then outlines (hot spots,
    // weight-sensitive wards, ward borders over LSOAs), so switching a layer on never hides
    // an outline. A pane drawn on canvas is one element covering the whole map, so a pane
    // that is not to be clicked lets the pointer through to the layer below.
    map.createPane("pi-lsoas").style.zIndex = 420;
    map.getPane("pi-lsoas").style.pointerEvents = "none";
    map.createPane("pi-outlines").style.zIndex = 450;
    map.getPane("pi-outlines").style.pointerEvents = "none";

    var legendControl = L.control({position: "bottomleft"});
    legendControl.onAdd = function () { return legend(meta, state); };
    function refreshLegend() {
      if (legendControl._map) { legendControl.remove(); legendControl.addTo(map); }
    }

    var wards = L.geoJSON(data.wards, {
      style: style,
      onEachFeature: function (feature, layer) {
        layer.bindTooltip(function () {
          var p = feature.properties;
          return el("span", p.n + ": " + fmt(p.s[state.view], 1) + (p.h && p.h.indexOf("hot") === 0 ? " \u2014 HOT" : ""));
        }, {sticky: true});
        layer.bindPopup(function () { return popup(feature, meta, "ward"); }, {maxWidth: 420, className: "pi-popup-wrap"});
        layer.on("mouseover", function () { layer.setStyle({weight: 3, color: "#000000"}); });
        layer.on("mouseout", function () { wards.resetStyle(layer); });
      }
    }).addTo(map);
    control.addOverlay(wards, "Wards coloured by the chosen measure");

    var lsoaLayer = null, outlineLayers = [];
    function outlinesOnTop() {  // hot-spot outlines above the plain ward borders
      outlineLayers.forEach(function (layer) { if (map.hasLayer(layer)) { layer.bringToFront(); } });
    }
    if (data.lsoas) {
      // Switched on, the LSOAs cover the wards (whose fill is cleared, so colours never mix),
      // take the clicks, and the wards stay as borders above them: a planner sees which
      // streets drive a ward's score. The wards stay "on" for the layer control, which would
      // otherwise put them back.
      var wardOutlines = L.geoJSON(data.wards, {
        pane: "pi-outlines",
        interactive: false,
        style: function () { return {fill: false, color: "#333333", weight: 1}; }
      });
      lsoaLayer = L.geoJSON(data.lsoas.areas, {
        pane: "pi-lsoas",
        style: lsoaStyle,
        onEachFeature: function (feature, layer) {
          layer.bindTooltip(function () {
            var p = feature.properties;
            return el("span", p.n + " (" + p.wd + "): " + fmt(p.s[state.view], 1) +
              (p.h && p.h.indexOf("hot") === 0 ? " \u2014 HOT" : ""));
          }, {sticky: true});
          layer.bindPopup(function () { return popup(feature, meta, "lsoa"); }, {maxWidth: 420, className: "pi-popup-wrap"});
        }
      });
      lsoaLayer.on("add", function () {
        state.lsoas = true;
        map.getPane("pi-lsoas").style.pointerEvents = "auto";
        wards.setStyle(style);
        wardOutlines.addTo(map);
        outlinesOnTop();
        refreshLegend();
      });
      lsoaLayer.on("remove", function () {
        state.lsoas = false;
        map.getPane("pi-lsoas").style.pointerEvents = "none";
        wards.setStyle(style);
        wardOutlines.remove();
        refreshLegend();
      });
      control.addOverlay(lsoaLayer, "Small areas (LSOAs) coloured by the chosen measure");
      // A white casing under the purple line keeps it visible on the darkest and the
      // lightest fill alike.
      var isHot = function (f) { return f.properties.h && f.properties.h.indexOf("hot") === 0; };
      var lsoaHot = L.layerGroup([
        L.geoJSON(data.lsoas.areas, {filter: isHot, pane: "pi-outlines", interactive: false,
          style: function () { return {fill: false, color: "#ffffff", weight: 3.5}; }}),
        L.geoJSON(data.lsoas.areas, {filter: isHot, pane: "pi-outlines", interactive: false,
          style: function () { return {fill: false, color: "#7a0177", weight: 1.6}; }})
      ]).addTo(map);
      lsoaHot.bringToFront = function () { lsoaHot.eachLayer(function (l) { l.bringToFront(); }); };
      outlineLayers.push(lsoaHot);
      control.addOverlay(lsoaHot, "Hot-spot LSOAs (Gi*)");
    }

    var hotspots = L.geoJSON(data.wards, {
      filter: function (f) { return HOT[f.properties.h] !== undefined; },
      pane: "pi-outlines",
      interactive: false,
      style: function (f) {
        var hot = f.properties.h.indexOf("hot") === 0;
        return {fill: false, color: hot ? "#000000" : "#08519c", weight: HOT[f.properties.h],
                dashArray: hot ? null : "8 6"};
      }
    }).addTo(map);
    outlineLayers.push(hotspots);
    control.addOverlay(hotspots, data.lsoas ? "Hot- and cold-spot wards (most residents in hot or cold LSOAs)"
                                             : "Hot- and cold-spot wards (Gi*)");

    var sensitive = L.geoJSON(data.wards, {
      filter: function (f) { return f.properties.w; },
      pane: "pi-outlines",
      interactive: false,
      style: function () { return {fill: false, color: "#6a3d9a", weight: 2, dashArray: "1 5"}; }
    });
    outlineLayers.push(sensitive);
    control.addOverlay(sensitive, "Wards whose class depends on the weights");

    var rings = L.layerGroup();
    var byCategory = {};
    meta.categories.forEach(function (c) {
      byCategory[c.key] = L.markerClusterGroup ? L.markerClusterGroup({maxClusterRadius: 40, chunkedLoading: true}) : L.layerGroup();
    });
    data.services.forEach(function (s) {
      var c = meta.categories[s[2]];
      var icon = L.divIcon({className: "", html: "", iconSize: [22, 22]});
      var marker = L.marker([s[0], s[1]], {icon: icon, title: s[3], keyboard: true});
      marker.on("add", function () {
        var node = marker.getElement();
        if (node && !node.firstChild) {
          var badge = el("span", c.letter, "pi-icon pi-marker");
          badge.style.background = c.colour;
          node.appendChild(badge);
        }
      });
      marker.bindPopup(function () {
        var box = el("div", null, "pi-popup");
        box.appendChild(el("strong", s[3]));
        box.appendChild(el("div", c.label));
        if (s[4]) { box.appendChild(el("div", s[4])); }
        return box;
      });
      byCategory[c.key].addLayer(marker);
      if (c.support) {
        rings.addLayer(L.circle([s[0], s[1]], {radius: 1000, color: c.colour, weight: 1, fillOpacity: 0.05, interactive: false}));
      }
    });
    meta.categories.forEach(function (c) {
      if (c.show) { byCategory[c.key].addTo(map); }
      control.addOverlay(byCategory[c.key], "Services: " + c.label);
    });
    control.addOverlay(rings, "1 km around digital-support services");

    // District names are few and always shown. Ward names appear only when zoomed in, and
    // only those in view are created: a national map has thousands of wards.
    var labels = L.layerGroup();
    var wardLabels = L.layerGroup().addTo(labels);
    function label(item) {
      return L.tooltip({permanent: true, direction: "center", className: "pi-label pi-label-" + item[3]})
        .setLatLng([item[0], item[1]]).setContent(el("span", item[2]));
    }
    data.labels.forEach(function (item) { if (item[3] === "district") { labels.addLayer(label(item)); } });
    function refreshWardLabels() {
      wardLabels.clearLayers();
      if (map.getZoom() < meta.wardLabelZoom) { return; }
      var view = map.getBounds();
      data.labels.forEach(function (item) {
        if (item[3] === "ward" && view.contains([item[0], item[1]])) { wardLabels.addLayer(label(item)); }
      });
    }
    labels.addTo(map);
    control.addOverlay(labels, "Names (wards appear when zoomed in)");
    map.on("moveend", refreshWardLabels);
    refreshWardLabels();

    var viewControl = L.control({position: "topright"});
    viewControl.onAdd = function () {
      var box = el("form", null, "pi-views leaflet-control");
      box.setAttribute("aria-label", "Colour the map by");
      box.appendChild(el("strong", "Colour the map by"));
      meta.views.forEach(function (view, i) {
        var label = el("label");
        var input = el("input");
        input.type = "radio";
        input.name = "pi-view";
        input.value = String(i);
        input.checked = i === 0;
        input.addEventListener("change", function () {
          state.view = i;
          wards.setStyle(style);
          if (lsoaLayer) { lsoaLayer.setStyle(lsoaStyle); }
          refreshLegend();
        });
        label.appendChild(input);
        label.appendChild(document.createTextNode(" " + view.label));
        box.appendChild(label);
      });
      L.DomEvent.disableClickPropagation(box);
      return box;
    };
    viewControl.addTo(map);
    legendControl.addTo(map);

    var search = L.control({position: "topleft"});
    search.onAdd = function () {
      var box = el("div", null, "pi-search leaflet-control");
      var input = el("input");
      input.type = "search";
      input.placeholder = "Find a ward";
      input.setAttribute("aria-label", "Find a ward by name");
      input.setAttribute("list", "pi-ward-names");
      var list = el("datalist");
      list.id = "pi-ward-names";
      var byName = {};
      wards.eachLayer(function (layer) {
        var name = layer.feature.properties.n;
        byName[name.toLowerCase()] = layer;
        var option = el("option");
        option.value = name;
        list.appendChild(option);
      });
      function go() {
        var layer = byName[input.value.trim().toLowerCase()];
        if (layer) { map.fitBounds(layer.getBounds(), {maxZoom: 15}); layer.openPopup(); }
      }
      input.addEventListener("change", go);
      input.addEventListener("keydown", function (e) { if (e.key === "Enter") { go(); } });
      box.appendChild(input);
      box.appendChild(list);
      L.DomEvent.disableClickPropagation(box);
      return box;
    };
    search.addTo(map);
    map.fitBounds(wards.getBounds());
    window.placeintel = {map: map, wards: wards, lsoas: lsoaLayer, state: state};
    return window.placeintel;
  };
}());
