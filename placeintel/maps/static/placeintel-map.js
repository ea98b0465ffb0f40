/*
 * placeintel map behaviour, loaded by every map page after Leaflet and Leaflet.markercluster.
 *
 * Written by hand because folium has no control that recolours one layer by a chosen
 * field: the alternative, one folium layer per component, repeats every ward's geometry
 * and popup and would multiply the page size by five. Everything that comes from a dataset
 * is put on the page with textContent, never innerHTML, so names cannot inject markup.
 *
 * Hooks for other scripts (window.placeintel, set when the map is ready):
 *   map, wards, lsoas      the Leaflet map and its ward and LSOA layers (lsoas may be null)
 *   state                  {view, district, lsoas, legendOpen, custom}: what is shown
 *   data, meta             the page's data (meta = data.meta: views, indicators with their
 *                          component and published weight, components, districts, about)
 *   restyle(options)       call after changing any feature's `properties.scores` (index 0
 *                          is the DERI score, then meta.views' order). It recomputes every
 *                          area's classes (quintiles exactly as placeintel/index/classes.py
 *                          makes them; natural breaks by Fisher-Jenks), its rank in the region
 *                          and in its district (ties share the best rank, as
 *                          placeintel.index.deri.ranks), then redraws the colours, legend,
 *                          labels and any open popup. While the scores differ from the
 *                          published ones, popups say so and drop the rank interval of the
 *                          1,000 published weightings. `{recompute: true}` recomputes even
 *                          for the published scores (the tests check it agrees with Python).
 *                          Published values stay in `properties.published`.
 *   setDistrict(code)      filter to a district (null: the whole region): zoom to it, rank
 *                          and class within it. Kept in the URL as ?district=CODE (and what
 *                          the map is coloured by as ?view=KEY).
 *   urlParam(name, value)  read (one argument) or set (two; null removes) a query parameter
 *                          with history.replaceState, keeping the others: for sharing a view.
 *   refresh()              the same as restyle(): for modules written against that name.
 *   classify(values, scheme), ranks(values)   the two computations above, on plain arrays.
 *   fitView(bounds), fitPopup(popup)          fit an area / a popup to the space the
 *                          controls leave free.
 *   shown(level)           what the legend now classes `level` ("ward"/"lsoa") among:
 *                          {district (null: the region), name, count, bins (per view)}; a
 *                          feature's own classes/rank among them are its districtClasses /
 *                          districtRank when `district` is set, else classes / rank.
 *   el(tag, text, class), fmt(value, digits)   the page's element maker (text only, never
 *                          HTML) and number format ("3.0" beside "2.7"), for modules to share.
 *   panelCorner()          the Leaflet corner for a module's folding panel: top right, or on
 *                          a phone-width screen top left, stacked under the search and the
 *                          "Colour wards by" panel (side by side they would overlap there).
 * A module loaded after this file may push a function onto window.placeintelPlugins; each is
 * called with window.placeintel once the map is ready.
 * Page elements: header#pi-title (h1 and "About this map"), main#pi-main around the map,
 * .pi-legend (bottom left), .pi-search and .pi-views (top left); a new panel placed in a
 * Leaflet corner is kept clear of popups automatically (see fitPopup).
 */
(function () {
  "use strict";

  // Every colour and line comes from the page's data (`style`, from placeintel/maps/style.py).
  var STYLE = null;
  var SVG = "http://www.w3.org/2000/svg";
  var MARGIN = 8;

  function fill(k) { return k >= 0 ? STYLE.palette[k] : STYLE.noData; }

  function line(name) {
    var o = STYLE.outlines[name];
    return {fill: false, color: o.color, weight: o.weight, dashArray: o.dash || null};
  }

  function spotLine(hotspot) {  // "hot-95" -> the hot outline at its 95 % weight
    var parts = hotspot.split("-"), o = STYLE.outlines[parts[0]];
    return {fill: false, color: o.color, weight: o.weight[parts[1]], dashArray: o.dash || null};
  }

  function panelCorner() {
    var narrow = window.matchMedia && window.matchMedia("(max-width: 600px)").matches;
    return narrow ? "topleft" : "topright";
  }

  function isSpot(hotspot) { return /^(hot|cold)-(99|95|90)$/.test(hotspot || ""); }

  function isHot(hotspot) { return (hotspot || "").indexOf("hot") === 0; }

  function isCold(hotspot) { return (hotspot || "").indexOf("cold") === 0; }

  function el(tag, text, className) {
    var node = document.createElement(tag);
    if (text !== undefined && text !== null) { node.textContent = String(text); }
    if (className) { node.className = className; }
    return node;
  }

  function fmt(value, digits) {
    if (value === null || value === undefined || isNaN(value)) { return "n/a"; }
    var places = digits === undefined ? 1 : digits;  // always as many: "3.0" beside "2.7"
    return Number(value).toLocaleString("en-GB", {minimumFractionDigits: places, maximumFractionDigits: places});
  }

  function listText(items) {  // ["a", "b", "c"] -> "a, b and c"
    if (items.length < 2) { return items.join(""); }
    return items.slice(0, -1).join(", ") + " and " + items[items.length - 1];
  }

  function hotspotText(h) {
    if (!h || h === "not-significant") { return "not a significant hot or cold spot"; }
    var parts = h.split("-");
    return (parts[0] === "hot" ? "HOT spot" : "cold spot") + " (" + parts[1] + "% confidence, Gi*)";
  }

  // --- classes and ranks: the same numbers as placeintel/index/classes.py and deri.ranks ---

  // scipy.stats.scoreatpercentile (interpolation "fraction"), term for term, so that the
  // breaks agree with mapclassify.Quantiles to the last bit.
  function percentile(sorted, per) {
    var idx = per / 100 * (sorted.length - 1), i = Math.floor(idx);
    if (i === idx) { return sorted[i]; }
    var j = i + 1, w0 = j - idx, w1 = idx - i;
    return (sorted[i] * w0 + sorted[j] * w1) / (w0 + w1);
  }

  function uniqueSorted(values) {
    var out = [];
    values.slice().sort(function (a, b) { return a - b; }).forEach(function (v) {
      if (!out.length || out[out.length - 1] !== v) { out.push(v); }
    });
    return out;
  }

  function quantileBins(finite, k) {  // mapclassify.Quantiles(values, k).bins
    var sorted = finite.slice().sort(function (a, b) { return a - b; }), breaks = [];
    for (var n = 1; n <= k; n++) { breaks.push(percentile(sorted, Math.min(100, n * (100 / k)))); }
    return uniqueSorted(breaks);
  }

  // Fisher-Jenks natural breaks by dynamic programming: mapclassify's NaturalBreaks is a
  // randomly started k-means, which no browser could repeat, so re-weighted natural-breaks
  // maps use the optimal breaks it approximates.
  function jenksBins(finite, k) {
    var x = finite.slice().sort(function (a, b) { return a - b; }), n = x.length;
    var unique = uniqueSorted(x);
    if (unique.length <= k) { return unique; }
    var pre = [0], pre2 = [0];
    x.forEach(function (v, i) { pre.push(pre[i] + v); pre2.push(pre2[i] + v * v); });
    function cost(a, b) {  // squared deviations of x[a..b]
      var s = pre[b + 1] - pre[a], s2 = pre2[b + 1] - pre2[a];
      return s2 - s * s / (b - a + 1);
    }
    var best = [], from = [];
    for (var i = 0; i < n; i++) { best.push([cost(0, i)]); from.push([0]); }
    for (var c = 1; c < k; c++) {
      for (var e = 0; e < n; e++) {
        best[e][c] = Infinity;
        for (var s = c; s <= e; s++) {
          var total = best[s - 1][c - 1] + cost(s, e);
          if (total < best[e][c]) { best[e][c] = total; from[e][c] = s; }
        }
      }
    }
    var bins = [], end = n - 1;
    for (var cls = k - 1; cls >= 0; cls--) {
      bins.unshift(x[end]);
      end = from[end][cls] - 1;
    }
    return bins;
  }

  function classify(values, scheme, k) {  // {classes, bins}: class -1 for no data
    k = k || 5;
    var finite = values.filter(function (v) { return v !== null && v !== undefined && isFinite(v); });
    if (finite.length < k) { return {classes: values.map(function () { return -1; }), bins: []}; }
    var bins = scheme === "natural breaks" ? jenksBins(finite, k) : quantileBins(finite, k);
    return {bins: bins, classes: values.map(function (v) {
      if (v === null || v === undefined || !isFinite(v)) { return -1; }
      for (var i = 0; i < bins.length; i++) { if (v <= bins[i]) { return i; } }
      return bins.length - 1;
    })};
  }

  function ranks(values) {  // 1 = highest; ties share the best rank; no score, no rank
    var finite = values.filter(function (v) { return v !== null && v !== undefined && isFinite(v); })
      .sort(function (a, b) { return b - a; });
    return values.map(function (v) {
      if (v === null || v === undefined || !isFinite(v)) { return null; }
      var lo = 0, hi = finite.length;  // first position holding a value not above v
      while (lo < hi) { var mid = (lo + hi) >> 1; if (finite[mid] > v) { lo = mid + 1; } else { hi = mid; } }
      return lo + 1;
    });
  }

  // --- the URL: a shared link opens the same view ---

  function urlParam(name, value) {
    var url = new URL(window.location.href);
    if (arguments.length < 2) { return url.searchParams.get(name); }
    if (value === null || value === undefined || value === "") { url.searchParams.delete(name); }
    else { url.searchParams.set(name, value); }
    try { window.history.replaceState(window.history.state, "", url.toString()); } catch (e) { /* a sandboxed frame */ }
    return value;
  }

  // --- the title block: what the map shows, made of what, from which data, when ---

  function titleBlock(meta) {
    var about = meta.about, header = el("header", null, "pi-header");
    header.id = "pi-title";
    var h1 = el("h1", "Digital exclusion risk: " + (meta.title || meta.region));
    h1.id = "pi-heading";
    header.appendChild(h1);
    if (!about) { return header; }
    var used = about.components.filter(function (c) { return c.status === "used"; });
    var missing = about.components.filter(function (c) { return c.status === "missing"; });
    var parts = ["DERI score from " + listText(used.map(function (c) { return c.label.toLowerCase(); })) +
      (about.substitutes.length ? " (" + about.substitutes.length + " substitute indicator" +
       (about.substitutes.length > 1 ? "s" : "") + ")" : "")];
    if (missing.length) { parts.push("no " + listText(missing.map(function (c) { return c.label.toLowerCase(); })) + " data"); }
    if (about.deprivationEdition) { parts.push("deprivation: " + about.deprivationEdition); }
    if (about.released) { parts.push("released " + about.released); }
    if (about.synthetic) { parts.push("synthetic data, not real places"); }
    header.appendChild(el("p", parts.join(" \u00b7 "), "pi-byline"));

    var details = el("details", null, "pi-about");
    details.appendChild(el("summary", "About this map"));
    var body = el("div", null, "pi-about-body");
    details.appendChild(body);
    body.appendChild(el("h2", "What the score is made of"));
    body.appendChild(el("p", "The Digital Exclusion Risk Index (DERI), 0 (low) to 10 (high risk): " +
      "the weighted mean of its components, " + about.base + "."));
    var list = el("ul");
    about.components.forEach(function (c) {
      var state = c.status === "used" ? "weight " + c.weight : c.status === "missing" ?
        "missing: no data, so not in the score" : "not weighted (0), shown for information";
      list.appendChild(el("li", c.label + " (" + c.note + "): " + state));
    });
    body.appendChild(list);
    if (about.substitutes.length) {
      body.appendChild(el("h3", "Substitutes for official indicators"));
      var subs = el("ul");
      about.substitutes.forEach(function (s) {
        var item = el("li");
        item.appendChild(el("strong", s.label));
        item.appendChild(document.createTextNode(" stands in for " + listText(s.for) + ". "));
        item.appendChild(el("span", s.why, "pi-muted"));
        subs.appendChild(item);
      });
      body.appendChild(subs);
    }
    if (about.missingIndicators.length) {
      body.appendChild(el("h3", "Indicators left out"));
      var gone = el("ul");
      about.missingIndicators.forEach(function (m) { gone.appendChild(el("li", m.label + ": " + m.reason)); });
      body.appendChild(gone);
    }
    body.appendChild(el("h2", "Data"));
    body.appendChild(el("p", "Released " + about.released + " (release " + about.version + ")." +
      (about.synthetic ? " Synthetic data for demonstration: not real places." : "")));
    var sources = el("ul", null, "pi-sources");
    about.sources.forEach(function (s) {
      sources.appendChild(el("li", s.title + (s.version ? " \u2014 " + s.version : "")));
    });
    body.appendChild(sources);
    if (about.links.length) {
      var links = el("p");
      about.links.forEach(function (link, i) {
        var a = el("a", link.text);
        a.href = link.href;
        if (i) { links.appendChild(document.createTextNode(" \u00b7 ")); }
        links.appendChild(a);
      });
      body.appendChild(links);
    }
    header.appendChild(details);
    return header;
  }

  // --- popups ---

  function popupBox(area, ctx, level) {
    var p = area.properties, meta = ctx.meta, state = ctx.state;
    var box = el("div", null, "pi-popup");
    var heading = el("h2", p.name);
    heading.tabIndex = -1;
    box.appendChild(heading);
    var where = level === "lsoa" ? "LSOA " + p.code + " \u00b7 " + p.ward + " ward \u00b7 " + p.district
                                 : p.district + " \u00b7 " + p.code;
    box.appendChild(el("div", where, "pi-muted"));
    var kind = level === "lsoa" ? " LSOAs" : " wards";
    var score = el("p");
    var d = ctx.districtOf(p.lad), local = d && (state.district === d.code || meta.partial);
    var ranking;
    if (local && p.districtRank !== null) {
      ranking = "rank " + p.districtRank + " of " + fmt(ctx.countIn(level, d.code), 0) + kind + " in " + d.name;
    } else if (p.rank !== null && p.rank !== undefined) {
      ranking = "rank " + p.rank + " of " + fmt(ctx.regionCount(level), 0) + kind + " in " + meta.region;
    } else {
      ranking = "no rank";
    }
    score.appendChild(el("strong", "DERI " + fmt(p.scores[0], 2) + (state.custom ? " (your weights)" : "") +
      " \u2014 " + ranking));
    if (local && p.rank !== null && p.rank !== undefined) {
      score.appendChild(el("br"));
      score.appendChild(document.createTextNode("Rank " + p.rank + " of " + fmt(ctx.regionCount(level), 0) +
        kind + " in " + meta.region));
    }
    // The range of ranks under 1,000 weightings says something only when it is a range, and
    // only for the published weights it was drawn around.
    if (!state.custom && p.rankLow !== null && p.rankLow !== undefined && p.rankLow !== p.rankHigh) {
      score.appendChild(el("br"));
      score.appendChild(document.createTextNode(
        "Rank " + p.rankLow + "\u2013" + p.rankHigh + " in " + meta.region + " across 1,000 weightings; top tenth in " +
        fmt(100 * p.pTopDecile, 0) + "% of them" + (p.weightSensitive ? " (class depends on the weights)" : "")));
    }
    score.appendChild(el("br"));
    // Hot spots come from the build's own weights; the page does not recompute them.
    score.appendChild(document.createTextNode("Hotspot: " + hotspotText(p.hotspot) +
      (state.custom ? " (with the published weights)" : "")));
    if (level === "ward" && p.hotShare !== null && p.hotShare !== undefined && p.hotShare > 0) {
      score.appendChild(el("br"));
      score.appendChild(document.createTextNode(
        fmt(100 * p.hotShare, 0) + "% of residents live in hot-spot LSOAs"));
    }
    box.appendChild(score);
    var components = el("table", null, "pi-table");
    var caption = el("caption", "Component scores (0\u201310)");
    caption.className = "pi-caption";
    components.appendChild(caption);
    meta.views.slice(1).forEach(function (view, i) {
      var row = el("tr");
      row.appendChild(el("th", view.label));
      row.firstChild.scope = "row";
      row.appendChild(el("td", fmt(p.scores[i + 1], 1)));
      components.appendChild(row);
    });
    box.appendChild(components);
    var details = el("details");
    details.appendChild(el("summary", "Why it ranks here: indicators and their contribution"));
    var table = el("table", null, "pi-table");
    var head = el("tr");
    ["Indicator", "Value", "0\u201310", "Points"].forEach(function (t) {
      var th = el("th", t);
      th.scope = "col";
      head.appendChild(th);
    });
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
      box.appendChild(el("h3", "Nearest digital-support services", "pi-subhead"));
      var list = el("ul");
      p.nearest.forEach(function (s) {
        list.appendChild(el("li", s.name + " (" + s.category + ") \u2014 " + fmt(s.metres / 1000, 1) + " km"));
      });
      box.appendChild(list);
    }
    return box;
  }

  function relative(rect, box) {
    return {left: rect.left - box.left, top: rect.top - box.top, right: rect.right - box.left,
            bottom: rect.bottom - box.top, width: rect.width, height: rect.height};
  }

  function overlaps(a, b) {
    return a.left < b.right && b.left < a.right && a.top < b.bottom && b.top < a.bottom;
  }

  // The boxes of the map's own controls (search, panels, legend, zoom, attribution): a
  // popup must not open under them.
  function controlBoxes(map) {
    var box = map.getContainer().getBoundingClientRect(), out = [];
    map.getContainer().querySelectorAll(".leaflet-control").forEach(function (node) {
      var r = node.getBoundingClientRect();
      if (r.width > 0 && r.height > 0) {
        out.push(relative({left: r.left - MARGIN / 2, top: r.top - MARGIN / 2, right: r.right + MARGIN / 2,
                           bottom: r.bottom + MARGIN / 2, width: r.width + MARGIN, height: r.height + MARGIN}, box));
      }
    });
    return out;
  }

  // The smallest shift that puts `r` inside the map and clear of every control, or null.
  function placement(r, width, height, obstacles) {
    var xs = [0, MARGIN - r.left, width - MARGIN - r.right], ys = [0, MARGIN - r.top, height - MARGIN - r.bottom];
    obstacles.forEach(function (o) {
      xs.push(o.right - r.left, o.left - r.right);
      ys.push(o.bottom - r.top, o.top - r.bottom);
    });
    var best = null;
    xs.forEach(function (dx) {
      ys.forEach(function (dy) {
        var moved = {left: r.left + dx, right: r.right + dx, top: r.top + dy, bottom: r.bottom + dy};
        if (moved.left < MARGIN - 0.5 || moved.top < MARGIN - 0.5 || moved.right > width - MARGIN + 0.5 ||
            moved.bottom > height - MARGIN + 0.5) { return; }
        if (obstacles.some(function (o) { return overlaps(moved, o); })) { return; }
        var cost = Math.abs(dx) + Math.abs(dy);
        if (!best || cost < best.cost) { best = {x: dx, y: dy, cost: cost}; }
      });
    });
    return best;
  }

  // Size a popup to the map (never wider than the screen) and pan the map so that all of it
  // shows, clear of the controls. Of a few widths, widest first, a narrower one is taken
  // only if more of it shows without scrolling (it may fit full height beside a tall
  // legend); a popup too tall for any free place is shortened, and scrolls.
  function fitPopup(map, popup) {
    var node = popup.getElement();
    if (!node || !map.hasLayer(popup)) { return; }
    var box = map.getContainer().getBoundingClientRect();
    var widest = Math.max(140, Math.min(400, box.width - 2 * MARGIN - 48));
    var widths = [widest, 340, 280].filter(function (w, i) { return i === 0 || w < widest; });
    var obstacles = controlBoxes(map), best = null;
    function layout(width, height) {
      popup.options.maxWidth = width;
      popup.options.minWidth = Math.min(240, width);
      popup.options.maxHeight = height;
      popup.update();
      return relative(node.getBoundingClientRect(), box);
    }
    widths.forEach(function (width) {
      var height = null, r = layout(width, null), full = r.height;
      for (var attempt = 0; attempt < 10; attempt++) {
        var shift = placement(r, box.width, box.height, obstacles);
        if (shift) {
          var shown = Math.min(1, r.height / full);  // the share of it seen without scrolling
          if (!best || shown > best.shown + 0.02) {
            best = {width: width, height: height, shift: shift, shown: shown};
          }
          return;
        }
        var content = node.querySelector(".leaflet-popup-content");
        var next = Math.max(120, Math.floor(content.offsetHeight * 0.85));
        if (height && next >= height) { return; }
        height = next;
        r = layout(width, height);
      }
    });
    if (best) {
      layout(best.width, best.height);
      var again = placement(relative(node.getBoundingClientRect(), box), box.width, box.height, obstacles) || best.shift;
      if (again.x || again.y) { map.panBy([-again.x, -again.y], {animate: false}); }
      return;
    }
    // Nowhere clear of the controls (a very small window): at least keep it on screen.
    var last = layout(widest, Math.max(120, box.height - 2 * MARGIN - 40));
    map.panBy([-(Math.max(MARGIN - last.left, Math.min(0, box.width - MARGIN - last.right))),
               -(MARGIN - last.top)], {animate: false});
  }

  // --- legend ---

  function sample(o, weight) {  // a legend's line, drawn as the map draws it
    var svg = document.createElementNS(SVG, "svg");
    svg.setAttribute("width", "36");
    svg.setAttribute("height", "14");
    svg.setAttribute("aria-hidden", "true");
    svg.setAttribute("class", "pi-line");
    function stroke(colour, w, dash) {
      var l = document.createElementNS(SVG, "line");
      l.setAttribute("x1", "2"); l.setAttribute("x2", "34"); l.setAttribute("y1", "7"); l.setAttribute("y2", "7");
      l.setAttribute("stroke", colour);
      l.setAttribute("stroke-width", String(w));
      if (dash) { l.setAttribute("stroke-dasharray", dash); }
      svg.appendChild(l);
    }
    if (o.casing) { stroke(o.casing, o.casing_weight, null); }
    stroke(o.color, weight === undefined ? (typeof o.weight === "number" ? o.weight : o.weight["95"]) : weight, o.dash);
    return svg;
  }

  function legendRow(box, mark, text) {
    var row = el("div", null, "pi-row");
    if (mark) {
      mark.classList.add("pi-mark");
      row.appendChild(mark);
    }
    row.appendChild(el("span", text));
    box.appendChild(row);
    return row;
  }

  // --- the map ---

  function pageColours(container) {  // the CSS reads the page's colours as variables
    Object.keys(STYLE.page).forEach(function (key) {
      container.style.setProperty("--pi-" + key.replace(/_/g, "-"), STYLE.page[key]);
    });
  }

  // "Hale Barns & Timperley" -> "hale barns and timperley", "St. Mary's" -> "st marys", "Hâle" -> "hale"
  function normalise(text) {
    return String(text || "").normalize("NFD").replace(/[\u0300-\u036f]/g, "").toLowerCase()
      .replace(/['\u2019]/g, "").replace(/&/g, " and ").replace(/[^a-z0-9]+/g, " ").trim();
  }

  function pageLayout(map, meta) {
    // Skip link, title block and a main landmark around the map, so the page reads in
    // order: the search and controls come before the wards in Tab order too (below).
    var container = map.getContainer(), body = document.body;
    var skip = el("a", "Skip to the ward search", "pi-skip");
    skip.href = "#pi-search-input";
    var main = el("main");
    main.id = "pi-main";
    main.setAttribute("aria-labelledby", "pi-heading");
    body.insertBefore(main, container);
    main.appendChild(container);
    body.insertBefore(titleBlock(meta), main);
    body.insertBefore(skip, body.firstChild);
    document.body.classList.add("pi-page");
    // Leaflet puts its controls after the map's panes; moved first, they come first in Tab
    // order (the corners are positioned, so nothing moves on screen).
    container.insertBefore(map._controlContainer, container.firstChild);
    container.setAttribute("aria-label", "Map of " + meta.region + ": use the search, or Tab to each ward");
    map.invalidateSize();
  }

  window.placeintelMap = function (options) {
    var map = options.map, control = options.control, data = options.data, meta = data.meta;
    STYLE = data.style;
    pageColours(document.documentElement);
    var small = window.innerWidth <= 700 || window.innerHeight <= 560;
    var state = {view: 0, legendOpen: !small, lsoas: false, district: null, custom: false};
    // A shared link keeps what the map is coloured by (?view=broadband_score).
    var asked = urlParam("view");
    meta.views.forEach(function (view, i) { if (asked && view.key === asked) { state.view = i; } });
    if (data.lsoas) {
      meta.lsoaCount = data.lsoas.count;
      meta.lsoaBins = data.lsoas.bins;
    }
    var districts = {};
    meta.districts.forEach(function (d) { districts[d.code] = d; });
    var wardFeatures = data.wards.features, lsoaFeatures = data.lsoas ? data.lsoas.areas.features : [];
    [wardFeatures, lsoaFeatures].forEach(function (features) {
      features.forEach(function (f) {
        var p = f.properties;
        p.published = {scores: p.scores.slice(), classes: p.classes.slice(), districtClasses: p.districtClasses.slice(),
                       rank: p.rank, districtRank: p.districtRank};
      });
    });
    pageLayout(map, meta);
    map.zoomControl.setPosition("bottomright");

    // What the classes and ranks are counted among: the region, or the filtered district.
    var bins = {ward: [], lsoa: []};
    var counts = {ward: {}, lsoa: {}};
    var ctx = {
      meta: meta,
      state: state,
      districtOf: function (code) { return districts[code] || null; },
      regionCount: function (level) { return level === "lsoa" ? meta.lsoaCount : meta.wards; },
      countIn: function (level, code) {
        return counts[level][code] !== undefined ? counts[level][code] :
          (level === "lsoa" ? districts[code].lsoas : districts[code].wards);
      }
    };

    function shown(level) {
      var d = state.district ? districts[state.district] : (meta.partial ? meta.districts[0] : null);
      return {district: d ? d.code : null, name: d ? d.name : meta.region,
              count: d ? ctx.countIn(level, d.code) : ctx.regionCount(level), bins: bins[level] || []};
    }

    function inFilter(p) { return !state.district || p.lad === state.district; }

    function shownClass(p) {
      if (!inFilter(p)) { return null; }
      return (state.district || meta.partial ? p.districtClasses : p.classes)[state.view];
    }

    function publishedBins(level) {
      var d = state.district ? districts[state.district] : (meta.partial ? meta.districts[0] : null);
      if (d) { return level === "lsoa" ? d.lsoaBins : d.bins; }
      return level === "lsoa" ? meta.lsoaBins : meta.views.map(function (v) { return v.bins; });
    }

    function recompute(features, level) {
      var scores0 = features.map(function (f) { return f.properties.scores[0]; });
      var regional = ranks(scores0);
      features.forEach(function (f, i) { f.properties.rank = meta.partial ? null : regional[i]; });
      var byDistrict = {};
      features.forEach(function (f, i) { (byDistrict[f.properties.lad] = byDistrict[f.properties.lad] || []).push(i); });
      counts[level] = {};
      var districtBins = {};
      Object.keys(byDistrict).forEach(function (code) {
        var members = byDistrict[code];
        var own = ranks(members.map(function (i) { return scores0[i]; }));
        counts[level][code] = own.filter(function (r) { return r !== null; }).length;
        members.forEach(function (i, n) { features[i].properties.districtRank = own[n]; });
        districtBins[code] = meta.views.map(function (view, v) {
          var result = classify(members.map(function (i) { return features[i].properties.scores[v]; }), meta.scheme);
          members.forEach(function (i, n) { features[i].properties.districtClasses[v] = result.classes[n]; });
          return result.bins;
        });
      });
      var regionBins = meta.views.map(function (view, v) {
        var result = classify(features.map(function (f) { return f.properties.scores[v]; }), meta.scheme);
        features.forEach(function (f, i) { f.properties.classes[v] = result.classes[i]; });
        return result.bins;
      });
      var d = state.district || (meta.partial ? meta.districts[0].code : null);
      bins[level] = d ? districtBins[d] || [] : regionBins;
      return {region: regionBins, districts: districtBins};
    }

    function restore(features) {
      features.forEach(function (f) {
        var p = f.properties, pub = p.published;
        p.classes = pub.classes.slice();
        p.districtClasses = pub.districtClasses.slice();
        p.rank = pub.rank;
        p.districtRank = pub.districtRank;
      });
    }

    var computed = null;
    function rankAndClass(recomputeAll) {
      var custom = [wardFeatures, lsoaFeatures].some(function (features) {
        return features.some(function (f) {
          var a = f.properties.scores, b = f.properties.published.scores;
          return a.some(function (v, i) { return v !== b[i]; });
        });
      });
      state.custom = custom;
      if (custom || recomputeAll) {
        computed = {ward: recompute(wardFeatures, "ward"), lsoa: data.lsoas ? recompute(lsoaFeatures, "lsoa") : null};
      } else {
        computed = null;
        counts = {ward: {}, lsoa: {}};
        restore(wardFeatures);
        restore(lsoaFeatures);
      }
      currentBins();
    }

    function currentBins() {
      ["ward", "lsoa"].forEach(function (level) {
        if (level === "lsoa" && !data.lsoas) { return; }
        if (!computed) { bins[level] = publishedBins(level); return; }
        var d = state.district || (meta.partial ? meta.districts[0].code : null);
        bins[level] = d ? computed[level].districts[d] || [] : computed[level].region;
      });
    }

    function style(feature) {
      var border = STYLE.outlines.ward, k = shownClass(feature.properties);
      if (k === null) {  // outside the district shown: an outline only
        return {fillOpacity: 0, color: border.color, weight: border.weight, opacity: 0.5};
      }
      return {fillColor: fill(k), fillOpacity: state.lsoas ? 0 : STYLE.fillOpacity.ward,
              color: border.color, weight: border.weight, opacity: 1};
    }

    function lsoaStyle(feature) {
      var border = STYLE.outlines.lsoa, k = shownClass(feature.properties);
      if (k === null) { return {fillOpacity: 0, opacity: 0, color: border.color, weight: border.weight}; }
      return {fillColor: fill(k), fillOpacity: STYLE.fillOpacity.lsoa, color: border.color,
              weight: border.weight, opacity: 1};
    }

    // Panes, bottom to top: wards (the overlay pane), LSOAs, district boundaries, then
    // outlines (hot spots, weight-sensitive wards, ward borders over LSOAs), so switching a
    // layer on never hides an outline. A pane drawn on canvas is one element covering the
    // whole map, so a pane that is not to be clicked lets the pointer through to the layer below.
    map.createPane("pi-lsoas").style.zIndex = 420;
    map.getPane("pi-lsoas").style.pointerEvents = "none";
    map.createPane("pi-districts").style.zIndex = 440;
    map.getPane("pi-districts").style.pointerEvents = "none";
    map.createPane("pi-outlines").style.zIndex = 450;
    map.getPane("pi-outlines").style.pointerEvents = "none";

    var popupOptions = {autoPan: false, className: "pi-popup-wrap", maxWidth: 400};
    // Leaflet calls a popup's content function again on every update (as fitPopup resizes
    // it): the content is built once per opening, so an expanded "Why it ranks here" stays
    // open, and it refits the popup when it grows. `layer._piPopup = null` rebuilds it.
    function popupContent(layer, level) {
      return function () {
        if (!layer._piPopup || !layer._piPopup.isConnected) {
          var node = popupBox(layer.feature, ctx, level);
          node.querySelectorAll("details").forEach(function (d) {
            d.addEventListener("toggle", function () { fitPopup(map, layer.getPopup()); });
          });
          layer._piPopup = node;
        }
        return layer._piPopup;
      };
    }
    var wardRenderer = meta.canvas.wards ? L.canvas() : L.svg();
    var anchors = {};
    data.labels.forEach(function (item, i) { if (item.kind === "ward") { anchors[wardFeatures[i] ? wardFeatures[i].properties.code : ""] = [item.lat, item.lon]; } });

    function wardName(p) {
      return p.name + ", " + p.district + ": DERI " + fmt(p.scores[0], 1) + (isHot(p.hotspot) ? ", hot spot" : "") +
        (isCold(p.hotspot) ? ", cold spot" : "");
    }

    var opener = null;  // the ward a keyboard opened a popup from, to return focus to
    var wards = L.geoJSON(data.wards, {
      renderer: wardRenderer,
      className: "pi-ward",
      style: style,
      onEachFeature: function (feature, layer) {
        var p = feature.properties;
        layer.bindTooltip(function () {
          return el("span", p.name + ": " + fmt(p.scores[state.view], 1) + (isHot(p.hotspot) ? " \u2014 HOT" : ""));
        }, {sticky: true});
        layer.bindPopup(popupContent(layer, "ward"), popupOptions);
        layer.on("mouseover", function () {
          var hover = STYLE.outlines.ward_hover;
          layer.setStyle({color: hover.color, weight: hover.weight});
        });
        layer.on("mouseout", function () { wards.resetStyle(layer); });
        layer.on("add", function () {
          var node = layer.getElement && layer.getElement();
          if (!node || node.tagName.toLowerCase() !== "path") { return; }
          // One Tab stop per ward, named, opened with Enter or Space like a button.
          node.setAttribute("tabindex", "0");
          node.setAttribute("role", "button");
          node.setAttribute("aria-label", wardName(p));
          node.addEventListener("keydown", function (e) {
            if (e.key === "Enter" || e.key === " ") {
              e.preventDefault();
              opener = node;
              layer.openPopup(anchors[p.code] || layer.getCenter());
            }
          });
          node.addEventListener("focus", function () { layer.openTooltip(anchors[p.code] || layer.getCenter()); });
          node.addEventListener("blur", function () { layer.closeTooltip(); });
        });
      }
    }).addTo(map);
    control.addOverlay(wards, "Wards coloured by the chosen measure");

    var lsoaLayer = null, outlineLayers = [], lsoaHot = null, hotLsoaCount = 0;
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
        renderer: meta.canvas.lsoas ? L.canvas({pane: "pi-lsoas"}) : L.svg({pane: "pi-lsoas"}),
        style: lsoaStyle,
        onEachFeature: function (feature, layer) {
          layer.bindTooltip(function () {
            var p = feature.properties;
            return el("span", p.name + " (" + p.ward + "): " + fmt(p.scores[state.view], 1) +
              (isHot(p.hotspot) ? " \u2014 HOT" : ""));
          }, {sticky: true});
          layer.bindPopup(popupContent(layer, "lsoa"), popupOptions);
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
      hotLsoaCount = lsoaFeatures.filter(hotArea).length;
      var casing = STYLE.outlines.lsoa_hot;
      lsoaHot = L.layerGroup([
        L.geoJSON(data.lsoas.areas, {filter: hotArea, pane: "pi-outlines", interactive: false,
          style: function () { return {fill: false, color: casing.casing, weight: casing.casing_weight}; }}),
        L.geoJSON(data.lsoas.areas, {filter: hotArea, pane: "pi-outlines", interactive: false,
          style: function () { return line("lsoa_hot"); }})
      ]).addTo(map);
      lsoaHot.bringToFront = function () { lsoaHot.eachLayer(function (l) { l.bringToFront(); }); };
      outlineLayers.push(lsoaHot);
      control.addOverlay(lsoaHot, "Hot-spot LSOAs (Gi*)" + (hotLsoaCount ? "" : ": none at 90 %"));
    }

    var districtLines = null;
    if (data.districts) {
      var edge = STYLE.outlines.district;
      districtLines = L.layerGroup([
        L.geoJSON(data.districts, {pane: "pi-districts", interactive: false,
          style: function () { return {fill: false, color: edge.casing, weight: edge.casing_weight}; }}),
        L.geoJSON(data.districts, {pane: "pi-districts", interactive: false,
          style: function () { return line("district"); }})
      ]).addTo(map);
      control.addOverlay(districtLines, "District boundaries");
    }

    var spotCount = {hot: 0, cold: 0};
    wardFeatures.forEach(function (f) {
      if (isHot(f.properties.hotspot)) { spotCount.hot += 1; }
      if (isCold(f.properties.hotspot) && isSpot(f.properties.hotspot)) { spotCount.cold += 1; }
    });
    var hotspots = L.geoJSON(data.wards, {
      filter: function (f) { return isSpot(f.properties.hotspot); },
      pane: "pi-outlines",
      interactive: false,
      style: function (f) { return spotLine(f.properties.hotspot); }
    }).addTo(map);
    outlineLayers.push(hotspots);
    control.addOverlay(hotspots, (data.lsoas ? "Hot- and cold-spot wards (most residents in hot or cold LSOAs)"
                                              : "Hot- and cold-spot wards (Gi*)") +
                       (spotCount.hot + spotCount.cold ? "" : ": none at 90 %"));

    var sensitiveCount = wardFeatures.filter(function (f) { return f.properties.weightSensitive; }).length;
    var sensitive = L.geoJSON(data.wards, {
      filter: function (f) { return f.properties.weightSensitive; },
      pane: "pi-outlines",
      interactive: false,
      style: function () { return line("weight_sensitive"); }
    });
    outlineLayers.push(sensitive);
    control.addOverlay(sensitive, "Wards whose class depends on the weights" + (sensitiveCount ? "" : ": none"));

    // Services: lettered markers; where dense, small translucent bubbles with a count, so
    // the ward colours still show through at the region's zoom.
    var rings = L.layerGroup(), ringCount = 0;
    var byCategory = {};
    meta.categories.forEach(function (c) {
      byCategory[c.key] = L.markerClusterGroup ? L.markerClusterGroup({
        maxClusterRadius: 40, chunkedLoading: true, showCoverageOnHover: false,
        iconCreateFunction: function (cluster) {
          var n = cluster.getChildCount(), badge = el("span", String(n), "pi-cluster-count");
          badge.style.borderColor = c.colour;
          badge.setAttribute("aria-label", n + " " + c.label.toLowerCase() + " services: zoom in to see them");
          return L.divIcon({html: badge, className: "pi-cluster", iconSize: [24, 24]});
        }
      }) : L.layerGroup();
    });
    var categoryOf = {};
    meta.categories.forEach(function (c) { categoryOf[c.key] = c; });
    var ring = STYLE.outlines.ring;
    data.services.forEach(function (s) {
      var c = categoryOf[s.category];
      var icon = L.divIcon({className: "pi-marker-box", html: "", iconSize: [20, 20]});
      var marker = L.marker([s.lat, s.lon], {icon: icon, title: s.name + " (" + c.label + ")", alt: s.name, keyboard: true});
      marker.on("add", function () {
        var node = marker.getElement();
        if (node && !node.firstChild) {
          var badge = el("span", c.letter, "pi-icon pi-marker");
          badge.style.background = c.colour;
          badge.style.color = c.text;
          badge.setAttribute("aria-hidden", "true");
          node.appendChild(badge);
          node.setAttribute("aria-label", s.name + " (" + c.label + ")");
        }
      });
      marker.bindPopup(function () {
        var box = el("div", null, "pi-popup");
        box.appendChild(el("strong", s.name));
        box.appendChild(el("div", c.label));
        if (s.address) { box.appendChild(el("div", s.address)); }
        return box;
      }, {autoPan: false});
      byCategory[c.key].addLayer(marker);
      if (c.support) {
        ringCount += 1;
        rings.addLayer(L.circle([s.lat, s.lon], {radius: 1000, color: c.colour, weight: ring.weight,
                                                   fillOpacity: ring.fill_opacity, interactive: false}));
      }
    });
    function serviceSize() {  // dots below meta.letterZoom, lettered markers from there
      map.getContainer().classList.toggle("pi-dots", map.getZoom() < meta.letterZoom);
    }
    map.on("zoomend", serviceSize);
    serviceSize();
    meta.categories.forEach(function (c) {
      if (c.show) { byCategory[c.key].addTo(map); }
      control.addOverlay(byCategory[c.key], "Services: " + c.label);
    });
    control.addOverlay(rings, "1 km around digital-support services" + (ringCount ? "" : ": none in this release"));

    // Names. Ward names appear only when zoomed in, and only those in view are created (a
    // national map has thousands of wards). A district's name goes at the first of its
    // candidate places (best first, from the build) where it covers no hot or cold spot.
    var labels = L.layerGroup();
    var wardLabels = L.layerGroup().addTo(labels);
    var districtLabels = L.layerGroup().addTo(labels);
    function label(text, kind, at) {
      return L.tooltip({permanent: true, direction: "center", className: "pi-label pi-label-" + kind})
        .setLatLng(at).setContent(el("span", text));
    }
    function refreshWardLabels() {
      wardLabels.clearLayers();
      if (map.getZoom() < meta.wardLabelZoom) { return; }
      var view = map.getBounds();
      data.labels.forEach(function (item) {
        if (item.kind === "ward" && view.contains([item.lat, item.lon])) {
          wardLabels.addLayer(label(item.text, "ward", [item.lat, item.lon]));
        }
      });
    }

    // Does a screen rectangle touch the area of a (multi)polygon layer? Exactly, in screen
    // pixels: a corner of the rectangle inside the area, a vertex of the area inside the
    // rectangle, or an edge of one crossing an edge of the other.
    function insideRing(x, y, ring) {
      var inside = false;
      for (var i = 0, j = ring.length - 1; i < ring.length; j = i++) {
        var a = ring[i], b = ring[j];
        if ((a.y > y) !== (b.y > y) && x < (b.x - a.x) * (y - a.y) / (b.y - a.y) + a.x) { inside = !inside; }
      }
      return inside;
    }
    function crosses(p, q, r, s2) {  // do segments pq and rs cross?
      function side(a, b, c) { return (b.x - a.x) * (c.y - a.y) - (b.y - a.y) * (c.x - a.x); }
      var d1 = side(r, s2, p), d2 = side(r, s2, q), d3 = side(p, q, r), d4 = side(p, q, s2);
      return ((d1 > 0) !== (d2 > 0)) && ((d3 > 0) !== (d4 > 0)) && d1 !== 0 && d2 !== 0 && d3 !== 0 && d4 !== 0;
    }
    function polygons(layer) {  // [[outer, hole, ...], ...] of a (multi)polygon layer
      var ll = layer.getLatLngs();
      return L.LineUtil.isFlat(ll[0]) ? [ll] : ll;
    }
    function covers(layer, rect) {
      var sw = map.containerPointToLatLng([rect.left, rect.bottom]);
      var ne = map.containerPointToLatLng([rect.right, rect.top]);
      if (!layer.getBounds().intersects(L.latLngBounds(sw, ne))) { return false; }
      var corners = [L.point(rect.left, rect.top), L.point(rect.right, rect.top),
                     L.point(rect.right, rect.bottom), L.point(rect.left, rect.bottom)];
      return polygons(layer).some(function (poly) {
        var rings = poly.map(function (ring) { return ring.map(function (v) { return map.latLngToContainerPoint(v); }); });
        var inArea = function (c) {
          return insideRing(c.x, c.y, rings[0]) && !rings.slice(1).some(function (h) { return insideRing(c.x, c.y, h); });
        };
        if (corners.some(inArea)) { return true; }
        return rings.some(function (ring) {
          return ring.some(function (v, i) {
            if (v.x > rect.left && v.x < rect.right && v.y > rect.top && v.y < rect.bottom) { return true; }
            var w = ring[(i + 1) % ring.length];
            return corners.some(function (c, k) { return crosses(v, w, c, corners[(k + 1) % 4]); });
          });
        });
      });
    }
    function spotAreas() {
      var out = [];
      if (map.hasLayer(hotspots)) { hotspots.eachLayer(function (l) { out.push(l); }); }
      if (lsoaHot && map.hasLayer(lsoaHot)) {
        lsoaHot.getLayers()[1].eachLayer(function (l) { out.push(l); });
      }
      return out;
    }
    function placeDistrictLabels() {
      districtLabels.clearLayers();
      if (!map.hasLayer(labels)) { return; }
      var spots = spotAreas(), taken = [], box = map.getContainer().getBoundingClientRect();
      meta.districts.forEach(function (d) {
        if (state.district && state.district !== d.code) { return; }
        var tip = label(d.name, "district", d.labelAt[0]);
        districtLabels.addLayer(tip);
        var node = tip.getElement(), placed = null;
        if (!node) { return; }
        for (var i = 0; i < d.labelAt.length && !placed; i++) {
          tip.setLatLng(d.labelAt[i]);
          var r = relative(node.getBoundingClientRect(), box);
          if (!taken.some(function (t) { return overlaps(r, t); }) && !spots.some(function (l) { return covers(l, r); })) {
            placed = r;
          }
        }
        // Nowhere clear: left out (the district filter and every popup still name it).
        if (placed) { taken.push(placed); } else { districtLabels.removeLayer(tip); }
      });
    }
    labels.addTo(map);
    control.addOverlay(labels, "Names (wards appear when zoomed in)");
    map.on("moveend", refreshWardLabels);
    map.on("zoomend overlayadd overlayremove", function () { placeDistrictLabels(); });

    // --- legend: what is on the map now, and nothing else ---
    var legendControl = L.control({position: "bottomleft"});
    var legendNode = null, legendLettered = null;
    function legend() {
      legendLettered = map.getZoom() >= meta.letterZoom;
      var outer = el("details", null, "pi-legend leaflet-control");
      outer.open = state.legendOpen;
      outer.addEventListener("toggle", function () { state.legendOpen = outer.open; sizeLegend(); });
      var view = meta.views[state.view];
      outer.appendChild(el("summary", "Legend: " + view.label));
      var box = el("div", null, "pi-legend-body");
      box.setAttribute("role", "group");
      box.setAttribute("aria-label", "Map legend");
      outer.appendChild(box);
      L.DomEvent.disableClickPropagation(outer);
      L.DomEvent.disableScrollPropagation(outer);
      var level = state.lsoas && data.lsoas ? "lsoa" : "ward";
      var d = state.district ? districts[state.district] : (meta.partial ? meta.districts[0] : null);
      var among = level === "lsoa" ? " LSOAs" : " wards";
      var population = d ? d.name + "\u2019s " + fmt(ctx.countIn(level, d.code), 0) + among
                         : "the " + fmt(ctx.regionCount(level), 0) + among + " of " + meta.region;
      box.appendChild(el("div", view.label + " (0 low \u2013 10 high risk)" + (state.custom ? ", your weights" : "") +
        ": " + meta.scheme + " of " + population, "pi-legend-head"));
      var classBins = (bins[level] || [])[state.view] || [];
      var low = 0;
      classBins.forEach(function (high, i) {
        var swatch = el("span", null, "pi-swatch");
        swatch.style.background = STYLE.palette[i];
        legendRow(box, swatch, fmt(low, 1) + " \u2013 " + fmt(high, 1)).classList.add("pi-class");
        low = high;
      });
      var features = level === "lsoa" ? lsoaFeatures : wardFeatures;
      if (features.some(function (f) { var p = f.properties; return inFilter(p) && shownClass(p) === -1; })) {
        var grey = el("span", null, "pi-swatch");
        grey.style.background = STYLE.noData;
        legendRow(box, grey, "no data").classList.add("pi-class");
      }
      var outlineRows = [];
      if (state.lsoas) { outlineRows.push([sample(STYLE.outlines.ward_over_lsoas), "ward boundary"]); }
      if (districtLines && map.hasLayer(districtLines)) { outlineRows.push([sample(STYLE.outlines.district), "district boundary"]); }
      if (map.hasLayer(hotspots)) {
        if (spotCount.hot) {
          outlineRows.push([sample(STYLE.outlines.hot), "hot-spot ward" + (data.lsoas ? ": most residents in hot-spot LSOAs" : " (Gi*)") + "; thicker = more certain"]);
        } else {
          outlineRows.push([null, "No significant hot-spot wards at 90 % confidence"]);
        }
        if (spotCount.cold) {
          outlineRows.push([sample(STYLE.outlines.cold), "cold-spot ward (dashed)"]);
        } else {
          outlineRows.push([null, "No significant cold-spot wards at 90 % confidence"]);
        }
      }
      if (lsoaHot && map.hasLayer(lsoaHot)) {
        outlineRows.push(hotLsoaCount ? [sample(STYLE.outlines.lsoa_hot), "hot-spot LSOA (Gi*, false discovery rate \u2264 10 %)"]
                                      : [null, "No significant hot-spot LSOAs at 90 % confidence"]);
      }
      if (map.hasLayer(sensitive)) {
        outlineRows.push(sensitiveCount ? [sample(STYLE.outlines.weight_sensitive), "rank class depends on the weights (dotted)"]
                                        : [null, "No ward's class depends on the weights"]);
      }
      if (outlineRows.length) {
        box.appendChild(el("div", "Outlines", "pi-subhead"));
        outlineRows.forEach(function (row) { legendRow(box, row[0], row[1]); });
      }
      var shown = meta.categories.filter(function (c) { return map.hasLayer(byCategory[c.key]); });
      if (shown.length || map.hasLayer(rings)) {
        box.appendChild(el("div", "Services", "pi-subhead"));
        shown.forEach(function (c) {
          var icon = el("span", c.letter, "pi-icon");
          icon.style.background = c.colour;
          icon.style.color = c.text;
          icon.setAttribute("aria-hidden", "true");
          legendRow(box, icon, c.label);
        });
        if (shown.length && map.getZoom() < meta.letterZoom) {
          legendRow(box, null, "Shown as dots at this zoom: zoom in for letters and counts");
        } else if (shown.length && L.markerClusterGroup) {
          var bubble = el("span", "3", "pi-icon pi-cluster-count");
          bubble.setAttribute("aria-hidden", "true");
          legendRow(box, bubble, "several services close together: zoom in");
        }
        if (map.hasLayer(rings)) {
          legendRow(box, null, ringCount ? "circles: 1 km around each digital-support service" :
                                           "No digital-support services in this release");
        }
      }
      legendNode = outer;
      return outer;
    }
    legendControl.onAdd = legend;
    function refreshLegend() {
      if (legendControl._map) { legendControl.remove(); legendControl.addTo(map); sizeLegend(); }
    }
    // The open legend fits between the bottom of the map and the controls above it.
    function sizeLegend() {
      if (!legendNode || !legendNode.open) { return; }
      var box = map.getContainer().getBoundingClientRect(), top = 0;
      map.getContainer().querySelectorAll(".leaflet-top.leaflet-left .leaflet-control").forEach(function (node) {
        top = Math.max(top, node.getBoundingClientRect().bottom - box.top);
      });
      var body = legendNode.querySelector(".pi-legend-body");
      body.style.maxHeight = "";
      var r = legendNode.getBoundingClientRect(), summary = legendNode.querySelector("summary");
      var room = r.bottom - box.top - top - MARGIN - summary.offsetHeight - 16;
      body.style.maxHeight = Math.max(80, room) + "px";
      // A legend that scrolls must be reachable by keyboard to scroll it.
      if (body.scrollHeight > body.clientHeight + 1) { body.tabIndex = 0; } else { body.removeAttribute("tabindex"); }
    }
    map.on("overlayadd overlayremove", refreshLegend);
    map.on("zoomend", function () {  // the services' legend changes with dots and letters
      if ((map.getZoom() >= meta.letterZoom) !== legendLettered) { refreshLegend(); }
    });
    map.on("resize", sizeLegend);

    // --- colour by, and the district filter ---
    var viewControl = L.control({position: "topleft"});
    var districtSelect = null;
    viewControl.onAdd = function () {
      var box = el("form", null, "pi-views leaflet-control");
      box.setAttribute("aria-label", "What the map shows");
      box.addEventListener("submit", function (e) { e.preventDefault(); });
      var colour = el("label", null, "pi-field");
      colour.appendChild(el("span", "Colour by"));
      var select = el("select");
      select.id = "pi-view";
      meta.views.forEach(function (view, i) {
        var option = el("option", view.label);
        option.value = String(i);
        select.appendChild(option);
      });
      select.value = String(state.view);
      select.addEventListener("change", function () {
        state.view = Number(select.value);
        urlParam("view", state.view ? meta.views[state.view].key : null);
        redraw();
      });
      colour.appendChild(select);
      box.appendChild(colour);
      if (meta.districts.length > 1) {
        var where = el("label", null, "pi-field");
        where.appendChild(el("span", "District"));
        districtSelect = el("select");
        districtSelect.id = "pi-district";
        var all = el("option", "All of " + meta.region);
        all.value = "";
        districtSelect.appendChild(all);
        meta.districts.slice().sort(function (a, b) { return a.name.localeCompare(b.name); }).forEach(function (d) {
          var option = el("option", d.name);
          option.value = d.code;
          districtSelect.appendChild(option);
        });
        districtSelect.addEventListener("change", function () { setDistrict(districtSelect.value || null, true); });
        where.appendChild(districtSelect);
        box.appendChild(where);
      }
      L.DomEvent.disableClickPropagation(box);
      return box;
    };

    function redraw() {
      currentBins();
      wards.setStyle(style);
      if (lsoaLayer) { lsoaLayer.setStyle(lsoaStyle); }
      wards.eachLayer(function (layer) {
        var node = layer.getElement && layer.getElement();
        if (node && node.getAttribute("role") === "button") { node.setAttribute("aria-label", wardName(layer.feature.properties)); }
      });
      refreshLegend();
      placeDistrictLabels();
      var open = map._popup;
      if (open && map.hasLayer(open) && open._source && open._source.feature) {
        open._source._piPopup = null;
        fitPopup(map, open);
      }
    }

    // Fit an area to the part of the map the controls leave free. Each control takes a
    // margin from one of the two sides it sits against; of every such choice, the one that
    // shows the area largest wins (a tall legend is a left margin on a wide screen and a
    // bottom one on a tall screen).
    function fitView(b, maxZoom) {
      var box = map.getContainer().getBoundingClientRect(), W = box.width, H = box.height;
      var choices = controlBoxes(map).map(function (o) {
        return [(o.left + o.right) / 2 < W / 2 ? ["left", o.right] : ["right", W - o.left],
                (o.top + o.bottom) / 2 < H / 2 ? ["top", o.bottom] : ["bottom", H - o.top]];
      });
      var best = null;
      for (var mask = 0; mask < (1 << choices.length); mask++) {
        var pad = {left: 0, right: 0, top: 0, bottom: 0};
        choices.forEach(function (c, i) {
          var pick = c[(mask >> i) & 1];
          pad[pick[0]] = Math.max(pad[pick[0]], pick[1]);
        });
        if (pad.left + pad.right > 0.7 * W || pad.top + pad.bottom > 0.7 * H) { continue; }
        var zoom = map.getBoundsZoom(b, false, L.point(pad.left + pad.right + 2 * MARGIN, pad.top + pad.bottom + 2 * MARGIN));
        var area = (W - pad.left - pad.right) * (H - pad.top - pad.bottom);
        if (!best || zoom > best.zoom || (zoom === best.zoom && area > best.area)) { best = {zoom: zoom, area: area, pad: pad}; }
      }
      var p = best ? best.pad : {left: 0, right: 0, top: 0, bottom: 0};
      var options = {paddingTopLeft: [p.left + MARGIN, p.top + MARGIN],
                     paddingBottomRight: [p.right + MARGIN, p.bottom + MARGIN], animate: false};
      if (maxZoom) { options.maxZoom = maxZoom; }
      map.fitBounds(b, options);
    }

    function bounds(code) {
      var b = L.latLngBounds([]);
      wards.eachLayer(function (layer) { if (!code || layer.feature.properties.lad === code) { b.extend(layer.getBounds()); } });
      return b;
    }

    function setDistrict(code, zoom) {
      if (code && !districts[code]) { code = null; }
      state.district = meta.partial ? null : (code || null);
      if (districtSelect) { districtSelect.value = state.district || ""; }
      urlParam("district", state.district);
      redraw();
      if (zoom !== false) { fitView(bounds(state.district)); }
    }

    // --- search: partial, accent- and case-insensitive, the district beside duplicates ---
    var search = L.control({position: "topleft"});
    var entries = [];
    wards.eachLayer(function (layer) {
      var p = layer.feature.properties;
      entries.push({layer: layer, p: p, key: normalise(p.name), where: normalise(p.district), code: String(p.code).toLowerCase()});
    });
    var seen = {};
    entries.forEach(function (e) { seen[e.key] = (seen[e.key] || 0) + 1; });
    entries.forEach(function (e) { e.text = seen[e.key] > 1 ? e.p.name + " (" + e.p.district + ")" : e.p.name; });
    entries.sort(function (a, b) { return a.text.localeCompare(b.text); });

    function matches(query) {
      var q = normalise(query);
      if (!q) { return []; }
      var found = [];
      entries.forEach(function (e) {
        var both = e.key + " " + e.where, rank = null;
        if (e.key === q || e.code === q || normalise(e.text) === q) { rank = 0; }
        else if (e.key.indexOf(q) === 0 || e.code.indexOf(q) === 0) { rank = 1; }
        else if ((" " + e.key).indexOf(" " + q) >= 0) { rank = 2; }
        else if (e.key.indexOf(q) >= 0) { rank = 3; }
        else if (both.indexOf(q) >= 0 || normalise(e.text).indexOf(q) >= 0) { rank = 4; }
        if (rank !== null) { found.push({entry: e, rank: rank}); }
      });
      found.sort(function (a, b) { return a.rank - b.rank || a.entry.text.localeCompare(b.entry.text); });
      return found.map(function (f) { return f.entry; });
    }

    function showWard(entry) {
      var p = entry.p;
      if (state.district && state.district !== p.lad) { setDistrict(p.lad, false); }
      map.closePopup();
      fitView(entry.layer.getBounds(), 14);
      entry.layer.openPopup(anchors[p.code] || entry.layer.getCenter());
    }

    search.onAdd = function () {
      var box = el("div", null, "pi-search leaflet-control");
      box.setAttribute("role", "search");
      var lbl = el("label", "Find a ward", "pi-visually-hidden");
      lbl.htmlFor = "pi-search-input";
      var input = el("input");
      input.id = "pi-search-input";
      input.type = "search";
      input.placeholder = "Find a ward";
      input.autocomplete = "off";
      input.setAttribute("role", "combobox");
      input.setAttribute("aria-autocomplete", "list");
      input.setAttribute("aria-expanded", "false");
      input.setAttribute("aria-controls", "pi-search-results");
      var list = el("ul", null, "pi-results");
      list.id = "pi-search-results";
      list.setAttribute("role", "listbox");
      list.setAttribute("aria-label", "Wards found");
      list.hidden = true;
      var status = el("div", "", "pi-search-status");
      status.setAttribute("role", "status");
      var found = [], active = -1, LIMIT = 8;

      function close() {
        list.hidden = true;
        input.setAttribute("aria-expanded", "false");
        input.removeAttribute("aria-activedescendant");
        active = -1;
      }
      function highlight(i) {
        active = i;
        Array.prototype.forEach.call(list.children, function (li, n) { li.setAttribute("aria-selected", n === i ? "true" : "false"); });
        if (i >= 0 && list.children[i]) { input.setAttribute("aria-activedescendant", list.children[i].id); }
      }
      function choose(entry) {
        input.value = entry.text;
        close();
        status.textContent = "Showing " + entry.p.name + ", " + entry.p.district + ".";
        showWard(entry);
      }
      function update() {
        found = matches(input.value);
        list.textContent = "";
        if (!normalise(input.value)) { close(); status.textContent = ""; return; }
        if (!found.length) {
          close();
          status.textContent = "No ward matches \u201c" + input.value.trim() + "\u201d. Try part of its name.";
          return;
        }
        found.slice(0, LIMIT).forEach(function (entry, i) {
          var li = el("li", null, "pi-result");
          li.id = "pi-result-" + i;
          li.setAttribute("role", "option");
          li.setAttribute("aria-selected", "false");
          li.appendChild(el("span", entry.text));
          if (entry.text === entry.p.name) { li.appendChild(el("span", " (" + entry.p.district + ")", "pi-muted")); }
          li.addEventListener("mousedown", function (e) { e.preventDefault(); });
          li.addEventListener("click", function () { choose(entry); });
          list.appendChild(li);
        });
        list.hidden = false;
        input.setAttribute("aria-expanded", "true");
        status.textContent = found.length === 1 ? "1 ward matches." :
          found.length + " wards match" + (found.length > LIMIT ? "; the first " + LIMIT + " are listed." : ".");
        highlight(-1);
      }
      input.addEventListener("input", update);
      input.addEventListener("keydown", function (e) {
        var shown = Math.min(found.length, LIMIT);
        if (e.key === "ArrowDown" && shown) { e.preventDefault(); if (list.hidden) { update(); } highlight((active + 1) % shown); }
        else if (e.key === "ArrowUp" && shown) { e.preventDefault(); highlight(active <= 0 ? shown - 1 : active - 1); }
        else if (e.key === "Escape") { close(); }
        else if (e.key === "Enter") {
          e.preventDefault();
          if (!found.length) { update(); }
          if (found.length) { choose(found[active >= 0 ? active : 0]); }
        }
      });
      input.addEventListener("blur", function () { setTimeout(close, 150); });
      box.appendChild(lbl);
      box.appendChild(input);
      box.appendChild(list);
      box.appendChild(status);
      L.DomEvent.disableClickPropagation(box);
      L.DomEvent.disableScrollPropagation(box);
      return box;
    };
    search.addTo(map);
    viewControl.addTo(map);
    legendControl.addTo(map);

    // Popups: fitted to the screen and clear of the controls when they open and whenever
    // they grow ("Why it ranks here"); focus goes to a popup a keyboard opened, and back.
    map.on("popupopen", function (e) {
      // On a phone an open panel (weights, export, legend) leaves no room for a popup
      // beside it: fold it, as the popup is what the person asked for last.
      if (panelCorner() === "topleft") {
        Array.prototype.forEach.call(map.getContainer().querySelectorAll("details.leaflet-control[open]"),
          function (panel) { panel.open = false; });
      }
      fitPopup(map, e.popup);
      var node = e.popup.getElement();
      if (node) {
        if (!node._piEscape) {  // Leaflet's own Escape works only while the map has focus
          node._piEscape = true;
          node.addEventListener("keydown", function (k) { if (k.key === "Escape") { map.closePopup(); } });
        }
        if (opener) {
          var heading = node.querySelector("h2");
          if (heading) { heading.focus(); }
        }
      }
    });
    map.on("popupclose", function () {
      if (opener) { var node = opener; opener = null; node.focus(); }
    });
    map.on("resize", function () {
      if (map._popup && map.hasLayer(map._popup)) { fitPopup(map, map._popup); }
    });

    function restyle(options) {
      rankAndClass(options && options.recompute);
      redraw();
    }

    rankAndClass(false);
    var initial = meta.district || urlParam("district");
    if (meta.partial) {
      state.district = null;
      redraw();
      fitView(wards.getBounds());
    } else if (initial && districts[initial]) {
      setDistrict(initial, true);
    } else {
      redraw();
      fitView(wards.getBounds());
    }
    refreshWardLabels();
    sizeLegend();
    window.placeintel = {map: map, wards: wards, lsoas: lsoaLayer, state: state, data: data, meta: meta,
                         restyle: restyle, setDistrict: setDistrict, urlParam: urlParam,
                         classify: function (values, scheme) { return classify(values, scheme || meta.scheme); },
                         ranks: ranks, fitPopup: function (popup) { fitPopup(map, popup); },
                         fitView: fitView, refresh: function () { restyle(); },
                         panelCorner: panelCorner, shown: shown, el: el, fmt: fmt};
    // Modules loaded after this file register a start function here; each gets the hooks.
    (window.placeintelPlugins || []).forEach(function (start) { start(window.placeintel); });
    return window.placeintel;
  };
}());
