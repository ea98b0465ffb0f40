/*
 * placeintel print and export: a printed A4 sheet (title, legend, source, dates, scale;
 * no controls), the current view as a PNG, and the areas in view as CSV with the weights
 * and scores the page now shows.
 *
 * The PNG is drawn by hand onto a canvas from the map's own shapes and styles (and the
 * markers and labels on screen) rather than with a screenshot library: the map must work
 * offline from its own files, and basemap tiles from another site would taint the canvas
 * anyway. CSV cells that a spreadsheet would run as a formula get a leading apostrophe,
 * as the release's own CSV files do (placeintel/publish/writers.py).
 */
(function () {
  "use strict";

  // The map's own element maker and number format (placeintel-map.js), set at start.
  var el = null, fmt = null;

  var FONT = "system-ui, -apple-system, \"Segoe UI\", Roboto, sans-serif";


  function longDate(iso) {
    var parts = /^(\d{4})-(\d{2})-(\d{2})/.exec(iso || "");
    if (!parts) { return ""; }
    var day = new Date(Date.UTC(+parts[1], +parts[2] - 1, +parts[3]));
    return day.toLocaleDateString("en-GB", {day: "numeric", month: "long", year: "numeric", timeZone: "UTC"});
  }

  function today() {
    var now = new Date();
    return now.toLocaleDateString("en-GB", {day: "numeric", month: "long", year: "numeric"});
  }

  // --- what the view shows ------------------------------------------------------------

  function describe(app) {
    var data = app.data, meta = data.meta, state = app.state;
    var lsoaLevel = !!(state.lsoas && data.lsoas);
    var view = meta.views[state.view];
    // The classes the map now shows: the chosen district's own when one is chosen.
    var among = app.shown(lsoaLevel ? "lsoa" : "ward");
    var bins = among.bins[state.view];
    var weights = app.weights;
    var weightText = "";
    if (weights) {
      var now = weights.current(), published = weights.published();
      var parts = weights.components.map(function (k) { return k + " " + now[k]; });
      var changed = weights.indicators.filter(function (k) { return now[k] !== published[k]; });
      weightText = (weights.isCustom() ? "Your weights: " : "Published weights: ") + parts.join(", ") +
        (changed.length ? "; indicators " + changed.map(function (k) { return k + " " + now[k]; }).join(", ") : "");
    }
    var release = (data.weights && data.weights.release) || meta.release || "";
    var attribution = app.map.getContainer().querySelector(".leaflet-control-attribution");
    return {
      title: meta.title + (among.district ? ": " + among.name : ""),
      subject: view.label + ", " + meta.scheme + " of the " + fmt(among.count, 0) + (lsoaLevel ? " LSOAs" : " wards") +
        " of " + among.name + " (0 low \u2013 10 high risk)",
      bins: bins,
      weights: weightText,
      release: release ? "Release of " + longDate(release) : "",
      printed: "Printed " + today(),
      source: attribution ? attribution.textContent.replace(/\s+/g, " ").trim() : "",
      lsoaLevel: lsoaLevel
    };
  }

  // Metres per CSS pixel across the middle of the map.
  function metresPerPixel(map) {
    var size = map.getSize(), y = size.y / 2;
    var a = map.containerPointToLatLng([size.x / 2 - 50, y]), b = map.containerPointToLatLng([size.x / 2 + 50, y]);
    return map.distance(a, b) / 100;
  }

  function niceLength(metres) {  // the largest 1, 2 or 5 x 10^n not above `metres`
    var power = Math.pow(10, Math.floor(Math.log10(metres))), first = metres / power;
    return power * (first >= 5 ? 5 : first >= 2 ? 2 : 1);
  }

  function distanceText(metres) { return metres >= 1000 ? fmt(metres / 1000, 1) + " km" : fmt(metres, 0) + " m"; }

  // --- the printed sheet --------------------------------------------------------------

  function legendRows(app, info) {
    var style = app.data.style, rows = [];
    var low = 0;
    (info.bins || []).forEach(function (high, i) {
      rows.push({colour: style.palette[i], text: fmt(low, 1) + " \u2013 " + fmt(high, 1)});
      low = high;
    });
    rows.push({colour: style.noData, text: "no data"});
    return rows;
  }

  function printSheet(app, head, foot) {
    var info = describe(app);
    head.textContent = "";
    foot.textContent = "";
    head.appendChild(el("div", info.title, "pi-print-title"));
    head.appendChild(el("div", info.subject + (info.weights ? ". " + info.weights : ""), "pi-print-subject"));
    var legend = el("div", null, "pi-print-legend");
    legendRows(app, info).forEach(function (row) {
      var item = el("span", null, "pi-print-item");
      var swatch = el("span", null, "pi-print-swatch");
      swatch.style.background = row.colour;
      item.appendChild(swatch);
      item.appendChild(document.createTextNode(row.text));
      legend.appendChild(item);
    });
    foot.appendChild(legend);
    // The outlines as the screen's legend lists them: only the layers now on the map,
    // each with its own line sample.
    var outlines = el("div", null, "pi-print-legend pi-print-small"), within = false;
    outlines.appendChild(el("span", "Outlines:"));
    Array.prototype.forEach.call(document.querySelectorAll(".pi-legend-body > *"), function (row) {
      if (row.classList.contains("pi-subhead")) { within = row.textContent === "Outlines"; return; }
      if (within) { outlines.appendChild(row.cloneNode(true)); }
    });
    if (outlines.childNodes.length > 1) { foot.appendChild(outlines); }
    foot.appendChild(el("div", "Letters on the map: digital-support services.", "pi-print-small"));
    var metres = metresPerPixel(app.map);
    // A CSS pixel is 1/96 inch on paper, so at 100 % print size the map's scale is this:
    var denominator = Math.round(metres / (0.0254 / 96) / 100) * 100;
    foot.appendChild(el("div", "Scale about 1:" + fmt(denominator, 0) + " at 100 % print size (see the bar on the map). " +
      [info.release, info.printed].filter(Boolean).join(" \u00b7 ") + ".", "pi-print-small"));
    foot.appendChild(el("div", "Source: " + info.source, "pi-print-small"));
  }

  // --- PNG --------------------------------------------------------------------------

  function ringsOf(latlngs) {
    if (!latlngs.length) { return []; }
    if (latlngs[0] instanceof L.LatLng) { return [latlngs]; }
    return latlngs.reduce(function (all, part) { return all.concat(ringsOf(part)); }, []);
  }

  function drawPath(ctx, map, layer) {
    var o = layer.options;
    ctx.beginPath();
    if (layer instanceof L.CircleMarker) {
      var centre = map.latLngToContainerPoint(layer.getLatLng());
      var radius = typeof layer._radius === "number" ? layer._radius : layer.getRadius();  // px after projection
      ctx.arc(centre.x, centre.y, radius, 0, 2 * Math.PI);
    } else {
      var closed = layer instanceof L.Polygon;
      ringsOf(layer.getLatLngs()).forEach(function (ring) {
        ring.forEach(function (ll, i) {
          var p = map.latLngToContainerPoint(ll);
          if (i === 0) { ctx.moveTo(p.x, p.y); } else { ctx.lineTo(p.x, p.y); }
        });
        if (closed) { ctx.closePath(); }
      });
    }
    if (o.fill) {
      ctx.globalAlpha = o.fillOpacity === undefined ? 0.2 : o.fillOpacity;
      ctx.fillStyle = o.fillColor || o.color;
      ctx.fill("evenodd");
    }
    if (o.stroke !== false && o.weight > 0) {
      ctx.globalAlpha = o.opacity === undefined ? 1 : o.opacity;
      ctx.strokeStyle = o.color;
      ctx.lineWidth = o.weight;
      ctx.lineJoin = "round";
      ctx.setLineDash(o.dashArray ? String(o.dashArray).split(/[ ,]+/).map(Number) : []);
      ctx.stroke();
    }
    ctx.globalAlpha = 1;
    ctx.setLineDash([]);
  }

  function drawMap(ctx, app) {
    var map = app.map, view = map.getBounds(), paths = [];
    map.eachLayer(function (layer) {
      if (!(layer instanceof L.Path) || !layer._map) { return; }
      var bounds = layer.getBounds ? layer.getBounds() : null;
      if (bounds && bounds.isValid() && !view.intersects(bounds)) { return; }
      var pane = map.getPane(layer.options.pane) || map.getPane("overlayPane");
      paths.push({layer: layer, z: parseInt(window.getComputedStyle(pane).zIndex, 10) || 400, id: L.stamp(layer)});
    });
    paths.sort(function (a, b) { return a.z - b.z || a.id - b.id; });
    paths.forEach(function (p) { drawPath(ctx, map, p.layer); });
    var box = map.getContainer().getBoundingClientRect();
    // Markers (and clusters) and the names on the map, as the screen shows them.
    map.getContainer().querySelectorAll(".leaflet-marker-pane .leaflet-marker-icon").forEach(function (node) {
      // A service's letter badge, or a cluster's ring and disc, drawn as circles.
      var x = 0, y = 0;
      [node, node.firstElementChild].forEach(function (part) {
        if (!part) { return; }
        var r = part.getBoundingClientRect(), look = window.getComputedStyle(part);
        if (!r.width || look.backgroundColor === "rgba(0, 0, 0, 0)") { return; }
        x = r.left - box.left + r.width / 2;
        y = r.top - box.top + r.height / 2;
        ctx.beginPath();
        ctx.arc(x, y, Math.min(r.width, r.height) / 2, 0, 2 * Math.PI);
        ctx.fillStyle = look.backgroundColor;
        ctx.fill();
        if (part.classList.contains("pi-icon")) {
          ctx.strokeStyle = "#333333";
          ctx.lineWidth = 1;
          ctx.stroke();
        }
        ctx.fillStyle = look.color;
      });
      if (!x && !y) { return; }
      ctx.font = "bold 11px " + FONT;
      ctx.textAlign = "center";
      ctx.textBaseline = "middle";
      ctx.fillText(node.textContent.trim(), x, y);
    });
    map.getContainer().querySelectorAll(".leaflet-tooltip-pane .pi-label").forEach(function (node) {
      var r = node.getBoundingClientRect(), look = window.getComputedStyle(node);
      var x = r.left - box.left + r.width / 2, y = r.top - box.top + r.height / 2;
      ctx.font = look.fontWeight + " " + look.fontSize + " " + FONT;
      ctx.textAlign = "center";
      ctx.textBaseline = "middle";
      var text = node.textContent.trim();
      if (look.textTransform === "uppercase") { text = text.toUpperCase(); }
      ctx.lineWidth = 3;
      ctx.strokeStyle = "#ffffff";
      ctx.strokeText(text, x, y);
      ctx.fillStyle = look.color;
      ctx.fillText(text, x, y);
    });
  }

  function wrap(ctx, text, width) {  // lines of at most `width` pixels, broken at spaces
    var lines = [], line = "";
    text.split(/\s+/).forEach(function (word) {
      var next = line ? line + " " + word : word;
      if (line && ctx.measureText(next).width > width) { lines.push(line); line = word; } else { line = next; }
    });
    if (line) { lines.push(line); }
    return lines;
  }

  function renderPng(app) {
    var map = app.map, size = map.getSize(), info = describe(app), style = app.data.style;
    var ratio = Math.max(1, Math.min(2, window.devicePixelRatio || 1));
    var width = size.x, measure = el("canvas").getContext("2d");
    measure.font = "12px " + FONT;
    var subject = wrap(measure, info.subject + (info.weights ? ". " + info.weights : ""), width - 16);
    var source = wrap(measure, "Source: " + info.source, width - 16);
    var dates = wrap(measure, [info.release, info.printed.replace("Printed", "Exported")]
      .filter(Boolean).join(" \u00b7 "), width - 16);
    var rows = legendRows(app, info), legendLines = 1, x = 8;
    rows.forEach(function (row) {
      var step = 30 + measure.measureText(row.text).width;
      if (x > 8 && x + step > width) { legendLines += 1; x = 8; }
      x += step;
    });
    var head = 34 + 16 * subject.length;
    var foot = 20 * legendLines + 16 * (dates.length + source.length) + 52;
    var height = size.y + head + foot;
    var canvas = el("canvas");
    canvas.width = Math.round(width * ratio);
    canvas.height = Math.round(height * ratio);
    var ctx = canvas.getContext("2d");
    ctx.scale(ratio, ratio);
    ctx.fillStyle = "#ffffff";
    ctx.fillRect(0, 0, width, height);
    ctx.save();
    ctx.translate(0, head);
    ctx.beginPath();
    ctx.rect(0, 0, size.x, size.y);
    ctx.clip();
    ctx.fillStyle = style.page.background;
    ctx.fillRect(0, 0, size.x, size.y);
    drawMap(ctx, app);
    ctx.restore();
    ctx.strokeStyle = style.page.border;
    ctx.lineWidth = 1;
    ctx.strokeRect(0.5, head + 0.5, size.x - 1, size.y - 1);
    ctx.textAlign = "left";
    ctx.textBaseline = "alphabetic";
    ctx.fillStyle = style.page.text;
    ctx.font = "bold 18px " + FONT;
    wrap(ctx, info.title, width - 16).slice(0, 1).forEach(function (line) { ctx.fillText(line, 8, 24); });
    ctx.font = "12px " + FONT;
    subject.forEach(function (line, i) { ctx.fillText(line, 8, 44 + 16 * i); });
    var y = head + size.y + 24;
    x = 8;
    rows.forEach(function (row) {
      var step = 30 + ctx.measureText(row.text).width;
      if (x > 8 && x + step > width) { y += 20; x = 8; }
      ctx.fillStyle = row.colour;
      ctx.fillRect(x, y - 11, 18, 12);
      ctx.strokeStyle = style.page.muted;
      ctx.strokeRect(x + 0.5, y - 10.5, 17, 11);
      ctx.fillStyle = style.page.text;
      ctx.fillText(row.text, x + 22, y);
      x += step;
    });
    // A scale bar of a round length, at most a quarter of the width.
    var metres = metresPerPixel(map), length = niceLength(metres * Math.min(160, width / 4));
    var bar = length / metres;
    y += 24;
    ctx.fillRect(8, y - 4, bar, 4);
    var scaleText = distanceText(length);
    ctx.fillText(scaleText, 14 + bar, y);
    dates.concat(source).forEach(function (line, i) { ctx.fillText(line, 8, y + 20 + 16 * i); });
    return canvas;
  }

  // --- CSV --------------------------------------------------------------------------

  function cell(value) {
    if (value === null || value === undefined || (typeof value === "number" && isNaN(value))) { return ""; }
    var text = String(value);
    if (typeof value === "string" && /^[=+\-@\t\r]/.test(text)) { text = "'" + text; }
    return /[",\r\n]/.test(text) ? '"' + text.replace(/"/g, '""') + '"' : text;
  }

  function visibleAreas(app, layer) {
    var view = app.map.getBounds(), codes = {};
    layer.eachLayer(function (area) {
      if (view.intersects(area.getBounds())) { codes[area.feature.properties.code] = true; }
    });
    return codes;
  }

  function csv(app) {
    var data = app.data, meta = data.meta, lsoaLevel = !!(app.state.lsoas && data.lsoas && app.lsoas);
    var level = lsoaLevel ? "lsoa" : "ward", layer = lsoaLevel ? app.lsoas : app.wards;
    var shown = visibleAreas(app, layer);
    var weights = app.weights;
    var rows;
    if (weights) {
      rows = weights.table(level);
    } else {  // a map without re-weighting data: the page's own numbers
      rows = (lsoaLevel ? data.lsoas.areas : data.wards).features.map(function (f) {
        var p = f.properties, row = {code: p.code, name: p.name, district: p.district, ward: p.ward,
                                     rank: p.rank, classes: {}, scores: {}};
        meta.views.forEach(function (v, i) { row.classes[v.key] = p.classes[i]; row.scores[v.key] = p.scores[i]; });
        return row;
      });
    }
    var of = lsoaLevel ? meta.lsoaCount : meta.wards;
    var scoreKeys = meta.views.map(function (v) { return v.key; });
    var header = [level === "ward" ? "ward_code" : "lsoa21_code", level === "ward" ? "ward_name" : "lsoa21_name"];
    if (level === "lsoa") { header.push("ward_name"); }
    header = header.concat(["lad_name", "deri_rank", "ranked_areas", "deri_class"]);
    // With a district chosen, also its own ranks and classes, as the map shows them.
    var among = app.shown(level), local = {};
    if (among.district) {
      header = header.concat(["district_rank", "district_ranked_areas", "district_class"]);
      layer.eachLayer(function (area) { local[area.feature.properties.code] = area.feature.properties; });
    }
    header = header.concat(scoreKeys);
    var weightKeys = [], now = {}, kind = "published";
    if (weights) {
      now = weights.current();
      kind = weights.isCustom() ? "custom" : "published";
      weightKeys = weights.components.concat(weights.indicators);
      header = header.concat(["weights"], weightKeys.map(function (k) { return "weight_" + k; }));
    }
    var lines = [header.map(cell).join(",")];
    rows.forEach(function (row) {
      if (!shown[row.code]) { return; }
      // Areas of other districts are drawn without colour beside a chosen one: left out.
      if (among.district && (!local[row.code] || local[row.code].lad !== among.district)) { return; }
      var k = row.classes.deri_score;
      var line = [row.code, row.name];
      if (level === "lsoa") { line.push(row.ward); }
      line = line.concat([row.district, row.rank, of, k >= 0 ? k + 1 : null]);
      if (among.district) {
        var p = local[row.code], dk = p.districtClasses[0];
        line = line.concat([p.districtRank, among.count, dk >= 0 ? dk + 1 : null]);
      }
      line = line.concat(scoreKeys.map(function (key) { return row.scores[key]; }));
      if (weights) { line = line.concat([kind], weightKeys.map(function (key) { return now[key]; })); }
      lines.push(line.map(cell).join(","));
    });
    return lines.join("\n") + "\n";
  }

  // --- downloads and the panel -------------------------------------------------------

  function fileName(app, extension) {
    var slug = String(app.data.meta.title).toLowerCase().replace(/[^a-z0-9]+/g, "-").replace(/^-|-$/g, "").slice(0, 60);
    var day = new Date().toISOString().slice(0, 10);
    return (slug || "placeintel-map") + "-" + day + "." + extension;
  }

  function download(blob, name) {
    var link = el("a");
    link.href = URL.createObjectURL(blob);
    link.download = name;
    document.body.appendChild(link);
    link.click();
    link.remove();
    window.setTimeout(function () { URL.revokeObjectURL(link.href); }, 10000);
  }

  function start(app) {
    el = app.el;
    fmt = app.fmt;
    var map = app.map, container = map.getContainer();
    var head = el("div", null, "pi-print-head"), foot = el("div", null, "pi-print-foot");
    head.setAttribute("aria-hidden", "true");
    foot.setAttribute("aria-hidden", "true");
    container.parentNode.insertBefore(head, container);
    container.parentNode.insertBefore(foot, container.nextSibling);
    var center = null, zoom = null;

    // Before printing: the sheet's text for the current view, and the map redrawn at its
    // printed size (the print stylesheet sets it); after, back as it was.
    function beforePrint() {
      if (document.documentElement.classList.contains("pi-printing")) { return; }
      center = map.getCenter();
      zoom = map.getZoom();
      printSheet(app, head, foot);
      document.documentElement.classList.add("pi-printing");
      map.invalidateSize({pan: false});
      map.setView(center, zoom, {animate: false});
    }
    function afterPrint() {
      if (!document.documentElement.classList.contains("pi-printing")) { return; }
      document.documentElement.classList.remove("pi-printing");
      map.invalidateSize({pan: false});
      if (center) { map.setView(center, zoom, {animate: false}); }
    }
    window.addEventListener("beforeprint", beforePrint);
    window.addEventListener("afterprint", afterPrint);
    printSheet(app, head, foot);  // ready even where a browser sends no beforeprint

    var exports = {
      csv: function () { return csv(app); },
      pngDataUrl: function () { return renderPng(app).toDataURL("image/png"); },
      png: function () {
        var canvas = renderPng(app);
        return new Promise(function (resolve) { canvas.toBlob(resolve, "image/png"); });
      },
      downloadCsv: function () {
        download(new Blob([csv(app)], {type: "text/csv;charset=utf-8"}), fileName(app, "csv"));
      },
      downloadPng: function () {
        return exports.png().then(function (blob) { download(blob, fileName(app, "png")); });
      },
      beforePrint: beforePrint,
      afterPrint: afterPrint
    };
    app.exports = exports;

    var control = L.control({position: app.panelCorner()});
    control.onAdd = function () {
      var panel = el("details", null, "pi-export leaflet-control");
      panel.appendChild(el("summary", "Print or export"));
      var buttons = el("div", null, "pi-buttons");
      [["Print (A4 landscape)", function () { window.print(); }],
       ["Download the view as PNG", exports.downloadPng],
       ["Download the areas in view as CSV", exports.downloadCsv]].forEach(function (item) {
        var button = el("button", item[0]);
        button.type = "button";
        button.addEventListener("click", function () { item[1](); });
        buttons.appendChild(button);
      });
      panel.appendChild(buttons);
      L.DomEvent.disableClickPropagation(panel);
      return panel;
    };
    control.addTo(map);
  }

  (window.placeintelPlugins = window.placeintelPlugins || []).push(start);
}());
