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

  // Every colour and line comes from the page's data (`style`, from placeintel/maps/style.py).
  var STYLE = null;

  function fill(k) { return k >= 0 ? STYLE.palette[k] : STYLE.noData; }

  function line(name) {
    var o = STYLE.outlines[name];
    return {fill: false, color: o.color, weight: o.weight, dashArray: o.dash || null};
  }

  function spotLine(hotspot) {  // "hot-95" -> the hot outline at its 95 % weight
    var parts = hotspot.split("-"), o = STYLE.outlines[parts[0]];
    return {fill: false, color: o.color, weight: o.weight[parts[1]], dashArray: o.dash || null};
  }

  function isSpot(hotspot) { return /^(hot|cold)-(99|95|90)$/.test(hotspot || ""); }

  function isHot(hotspot) { return (hotspot || "").indexOf("hot") === 0; }

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
    box.appendChild(el("h3", p.name));
    var where = level === "lsoa" ? "LSOA " + p.code + " \u00b7 " + p.ward + " ward \u00b7 " + p.district
                                 : p.district + " \u00b7 " + p.code;
    box.appendChild(el("div", where, "pi-muted"));
    // Ranks are the region's, on district maps too: "of" is always the region's count.
    var count = level === "lsoa" ? fmt(meta.lsoaCount, 0) + " LSOAs" : fmt(meta.wards, 0) + " wards";
    var score = el("p");
    score.appendChild(el("strong", "DERI " + fmt(p.scores[0], 2) + " \u2014 rank " + p.rank + " of " + count));
    score.appendChild(el("br"));
    score.appendChild(document.createTextNode(
      "Rank " + p.rankLow + "\u2013" + p.rankHigh + " across 1,000 weightings; top tenth in " +
      fmt(100 * p.pTopDecile, 0) + "% of them" + (p.weightSensitive ? " (class depends on the weights)" : "")));
    score.appendChild(el("br"));
    score.appendChild(document.createTextNode("Hotspot: " + hotspotText(p.hotspot)));
    if (level === "ward" && p.hotShare !== null && p.hotShare !== undefined && p.hotShare > 0) {
      score.appendChild(el("br"));
      score.appendChild(document.createTextNode(
        fmt(100 * p.hotShare, 0) + "% of residents live in hot-spot LSOAs"));
    }
    box.appendChild(score);
    var components = el("table", null, "pi-table");
    meta.views.slice(1).forEach(function (view, i) {
      var row = el("tr");
      row.appendChild(el("td", view.label));
      row.appendChild(el("td", fmt(p.scores[i + 1], 1)));
      components.appendChild(row);
    });
    box.appendChild(components);
    var details = el("details");
    details.appendChild(el("summary", "Why it ranks here: indicators and their contribution"));
    var table = el("table", null, "pi-table");
    var head = el("tr");
    ["Indicator", "Value", "0\u201310", "Points"].forEach(function (t) { head.appendChild(el("th", t)); });
    table.appendChild(head);
    var at = {value: meta.columns.indexOf("value"), scaled: meta.columns.indexOf("scaled"),
              points: meta.columns.indexOf("points")};
    meta.indicators.forEach(function (indicator, i) {
      var v = p.indicators[i];
      if (!v) { return; }
      var row = el("tr");
      row.appendChild(el("td", indicator.label));
      row.appendChild(el("td", fmt(v[at.value], 1)));
      row.appendChild(el("td", fmt(v[at.scaled], 1)));
      row.appendChild(el("td", fmt(v[at.points], 2)));
      table.appendChild(row);
    });
    details.appendChild(table);
    box.appendChild(details);
    if (p.nearest && p.nearest.length) {
      box.appendChild(el("div", "Nearest digital-support services", "pi-subhead"));
      var list = el("ul");
      p.nearest.forEach(function (s) {
        list.appendChild(el("li", s.name + " (" + s.category + ") \u2014 " + fmt(s.metres / 1000, 1) + " km"));
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
      swatch.style.background = STYLE.palette[i];
      row.appendChild(swatch);
      row.appendChild(document.createTextNode(fmt(low, 1) + " \u2013 " + fmt(high, 1)));
      box.appendChild(row);
      low = high;
    });
    var none = el("div");
    var grey = el("span", null, "pi-swatch");
    grey.style.background = STYLE.noData;
    none.appendChild(grey);
    none.appendChild(document.createTextNode("no data"));
    box.appendChild(none);
    box.appendChild(el("div", "Outlines", "pi-subhead"));
    var outlines = [["hot", "hot-spot ward: most residents in hot-spot LSOAs (thicker = 99/95/90 % confidence)"],
     ["cold", "cold-spot ward (dashed)"],
     ["weight_sensitive", "rank class depends on the weights (dotted)"]];
    if (meta.lsoaBins) {
      outlines.splice(2, 0, ["lsoa_hot", "hot-spot LSOA (Gi*, false discovery rate \u2264 10 %)"]);
    }
    if (lsoaLevel) {
      outlines.unshift(["ward_over_lsoas", "ward boundary"]);
    }
    outlines.forEach(function (item) {
      var row = el("div");
      row.appendChild(sample(item[0]));
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

  function sample(name) {  // a legend's line, drawn as the map draws it
    var o = STYLE.outlines[name];
    var weight = typeof o.weight === "number" ? o.weight : o.weight["95"];
    var span = el("span", null, "pi-line");
    span.style.borderTop = Math.max(1, weight) + "px " + (o.dash ? (o.dash.indexOf("1 ") === 0 ? "dotted" : "dashed") : "solid") + " " + o.color;
    if (o.casing) { span.style.boxShadow = "0 0 0 1px " + o.casing; }
    return span;
  }

  function pageColours(container) {  // the CSS reads the page's colours as variables
    Object.keys(STYLE.page).forEach(function (key) {
      container.style.setProperty("--pi-" + key.replace(/_/g, "-"), STYLE.page[key]);
    });
  }

  window.placeintelMap = function (options) {
    var map = options.map, control = options.control, data = options.data, meta = data.meta;
    STYLE = data.style;
    pageColours(map.getContainer());
    pageColours(document.documentElement);
    var state = {view: 0, legendOpen: window.innerWidth > 700, lsoas: false};
    if (data.lsoas) {
      meta.lsoaCount = data.lsoas.count;
      meta.lsoaBins = data.lsoas.bins;
    }

    function style(feature) {
      var border = STYLE.outlines.ward;
      return {fillColor: fill(feature.properties.classes[state.view]),
              fillOpacity: state.lsoas ? 0 : STYLE.fillOpacity.ward,
              color: border.color, weight: border.weight};
    }

    function lsoaStyle(feature) {
      var border = STYLE.outlines.lsoa;
      return {fillColor: fill(feature.properties.classes[state.view]),
              fillOpacity: STYLE.fillOpacity.lsoa, color: border.color, weight: border.weight};
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
          return el("span", p.name + ": " + fmt(p.scores[state.view], 1) + (isHot(p.hotspot) ? " \u2014 HOT" : ""));
        }, {sticky: true});
        layer.bindPopup(function () { return popup(feature, meta, "ward"); }, {maxWidth: 420, className: "pi-popup-wrap"});
        layer.on("mouseover", function () {
          var hover = STYLE.outlines.ward_hover;
          layer.setStyle({color: hover.color, weight: hover.weight});
        });
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
        style: function () { return line("ward_over_lsoas"); }
      });
      lsoaLayer = L.geoJSON(data.lsoas.areas, {
        pane: "pi-lsoas",
        style: lsoaStyle,
        onEachFeature: function (feature, layer) {
          layer.bindTooltip(function () {
            var p = feature.properties;
            return el("span", p.name + " (" + p.ward + "): " + fmt(p.scores[state.view], 1) +
              (isHot(p.hotspot) ? " \u2014 HOT" : ""));
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
      var hotArea = function (f) { return isHot(f.properties.hotspot); };
      var casing = STYLE.outlines.lsoa_hot;
      var lsoaHot = L.layerGroup([
        L.geoJSON(data.lsoas.areas, {filter: hotArea, pane: "pi-outlines", interactive: false,
          style: function () { return {fill: false, color: casing.casing, weight: casing.casing_weight}; }}),
        L.geoJSON(data.lsoas.areas, {filter: hotArea, pane: "pi-outlines", interactive: false,
          style: function () { return line("lsoa_hot"); }})
      ]).addTo(map);
      lsoaHot.bringToFront = function () { lsoaHot.eachLayer(function (l) { l.bringToFront(); }); };
      outlineLayers.push(lsoaHot);
      control.addOverlay(lsoaHot, "Hot-spot LSOAs (Gi*)");
    }

    var hotspots = L.geoJSON(data.wards, {
      filter: function (f) { return isSpot(f.properties.hotspot); },
      pane: "pi-outlines",
      interactive: false,
      style: function (f) { return spotLine(f.properties.hotspot); }
    }).addTo(map);
    outlineLayers.push(hotspots);
    control.addOverlay(hotspots, data.lsoas ? "Hot- and cold-spot wards (most residents in hot or cold LSOAs)"
                                             : "Hot- and cold-spot wards (Gi*)");

    var sensitive = L.geoJSON(data.wards, {
      filter: function (f) { return f.properties.weightSensitive; },
      pane: "pi-outlines",
      interactive: false,
      style: function () { return line("weight_sensitive"); }
    });
    outlineLayers.push(sensitive);
    control.addOverlay(sensitive, "Wards whose class depends on the weights");

    var rings = L.layerGroup();
    var byCategory = {};
    meta.categories.forEach(function (c) {
      byCategory[c.key] = L.markerClusterGroup ? L.markerClusterGroup({maxClusterRadius: 40, chunkedLoading: true}) : L.layerGroup();
    });
    var categoryOf = {};
    meta.categories.forEach(function (c) { categoryOf[c.key] = c; });
    var ring = STYLE.outlines.ring;
    data.services.forEach(function (s) {
      var c = categoryOf[s.category];
      var icon = L.divIcon({className: "", html: "", iconSize: [22, 22]});
      var marker = L.marker([s.lat, s.lon], {icon: icon, title: s.name, keyboard: true});
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
        box.appendChild(el("strong", s.name));
        box.appendChild(el("div", c.label));
        if (s.address) { box.appendChild(el("div", s.address)); }
        return box;
      });
      byCategory[c.key].addLayer(marker);
      if (c.support) {
        rings.addLayer(L.circle([s.lat, s.lon], {radius: 1000, color: c.colour, weight: ring.weight,
                                                   fillOpacity: ring.fill_opacity, interactive: false}));
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
      return L.tooltip({permanent: true, direction: "center", className: "pi-label pi-label-" + item.kind})
        .setLatLng([item.lat, item.lon]).setContent(el("span", item.text));
    }
    data.labels.forEach(function (item) { if (item.kind === "district") { labels.addLayer(label(item)); } });
    function refreshWardLabels() {
      wardLabels.clearLayers();
      if (map.getZoom() < meta.wardLabelZoom) { return; }
      var view = map.getBounds();
      data.labels.forEach(function (item) {
        if (item.kind === "ward" && view.contains([item.lat, item.lon])) { wardLabels.addLayer(label(item)); }
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
        var name = layer.feature.properties.name;
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
    // Hook for the modules loaded after this file (placeintel-weights.js, -export.js): the
    // page's data, and a redraw after they change the areas' classes or the legend's bins.
    window.placeintel.data = data;
    window.placeintel.refresh = function () {
      wards.setStyle(style);
      if (lsoaLayer) { lsoaLayer.setStyle(lsoaStyle); }
      refreshLegend();
    };
    (window.placeintelPlugins || []).forEach(function (start) { start(window.placeintel); });
    return window.placeintel;
  };
}());
