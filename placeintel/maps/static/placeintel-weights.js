/*
 * placeintel live re-weighting: DERI's component and indicator weights as sliders (whole
 * numbers 0-10, as in DERI). This file recomputes each area's scores and points and its
 * rank in the region; placeintel-map.js's restyle() then classes the new scores and ranks
 * them within a chosen district, as it does for the published ones.
 *
 * Written by hand because the numbers must be the build's own: the arithmetic below is
 * placeintel/index/deri.py's (`combine`, `_contributions`, `ranks`), index/classes.py's
 * quintiles (mapclassify.Quantiles over scipy's scoreatpercentile) and numpy's rounding,
 * step by step in the same order with the same float64 operations, so a page with the
 * weights "imd_score:0" shows what `placeintel build --weight imd_score=0` publishes, to
 * the last of its 6 decimals, with the same ranks and classes. The unrounded 0-10 scores
 * it starts from come from placeintel/maps/weights.py (`data.weights`).
 *
 * The weights live in the address (#weights=demography:5,imd_score:0, only those that
 * differ from the published ones), so a link shares the view. Every text from the data is
 * set with textContent.
 */
(function () {
  "use strict";

  // The map's own element maker (placeintel-map.js), set when the module starts.
  var el = null;

  // --- numpy's and scipy's arithmetic -------------------------------------------------

  // np.rint: to the nearest integer, halves to even (Math.round sends halves up).
  function rint(y) {
    var r = Math.round(y);
    if (r - y === 0.5 && r % 2 !== 0) { r -= 1; }
    return r;
  }

  // np.round(x, 6): multiply by 10**6, rint, divide, exactly as numpy does it.
  function round6(x) { return isNaN(x) ? NaN : rint(x * 1e6) / 1e6; }

  function increment(digits) {  // "1299" -> "1300", as text: no precision is lost
    var out = "", carry = 1;
    for (var i = digits.length - 1; i >= 0; i--) {
      var d = Number(digits.charAt(i)) + carry;
      carry = d > 9 ? 1 : 0;
      out = String(d % 10) + out;
    }
    return carry ? "1" + out : out;
  }

  // Python's round(x, digits): the exact binary value rounded half to even in decimal,
  // as maps/risk_map.py rounds what the page shows (toFixed(100) is exact for these values).
  function pyRound(x, digits) {
    if (!isFinite(x)) { return x; }
    var parts = Math.abs(x).toFixed(100).split("."), kept = parts[0] + parts[1].slice(0, digits);
    var rest = parts[1].slice(digits), last = Number(kept.charAt(kept.length - 1));
    var up = rest.charAt(0) > "5" || (rest.charAt(0) === "5" && (/[1-9]/.test(rest.slice(1)) || last % 2 === 1));
    var n = up ? increment(kept) : kept;
    while (n.length < digits + 1) { n = "0" + n; }
    var value = Number(n.slice(0, n.length - digits) + "." + n.slice(n.length - digits));
    return x < 0 ? -value : value;
  }

  // scipy.stats.scoreatpercentile(sorted, per), interpolation "fraction".
  function scoreAt(sorted, per) {
    var idx = per / 100 * (sorted.length - 1);
    var i = Math.trunc(idx);
    if (i === idx) { return sorted[i]; }
    var w0 = (i + 1) - idx, w1 = idx - i;
    return (sorted[i] * w0 + sorted[i + 1] * w1) / (w0 + w1);
  }

  // index/classes.py risk_classes with mapclassify.Quantiles(k=5): the class of each value
  // (-1 when missing) and each class's upper bound.
  function riskClasses(values, k) {
    var finite = values.filter(function (v) { return !isNaN(v); });
    var classes = values.map(function () { return -1; });
    if (finite.length < k) { return {classes: classes, bins: []}; }
    finite.sort(function (a, b) { return a - b; });
    var step = 100 / k, bins = [];
    for (var n = 1; n <= k; n++) {
      var per = Math.min(step * n, 100);
      var q = scoreAt(finite, per);
      if (bins.indexOf(q) < 0) { bins.push(q); }  // np.unique
    }
    bins.sort(function (a, b) { return a - b; });
    values.forEach(function (v, at) {
      if (isNaN(v)) { return; }
      for (var j = 0; j < bins.length; j++) {
        if (v <= bins[j]) { classes[at] = j; return; }
      }
    });
    return {classes: classes, bins: bins};
  }

  // deri.ranks: 1 = highest score, ties share the best rank, no score no rank.
  function ranks(scores) {
    var order = [];
    scores.forEach(function (s, i) { if (!isNaN(s)) { order.push(i); } });
    order.sort(function (a, b) { return scores[b] - scores[a]; });
    var out = scores.map(function () { return null; });
    order.forEach(function (i, at) {
      var before = at > 0 ? order[at - 1] : -1;
      out[i] = before >= 0 && scores[before] === scores[i] ? out[before] : at + 1;
    });
    return out;
  }

  // The unrounded 0-10 scores, as packed by maps/weights.py: little-endian float64, row-major.
  function unpack(text, columns) {
    var bytes = atob(text), view = new DataView(new ArrayBuffer(bytes.length));
    for (var b = 0; b < bytes.length; b++) { view.setUint8(b, bytes.charCodeAt(b)); }
    var rows = [], count = bytes.length / 8 / columns;
    for (var r = 0; r < count; r++) {
      var row = new Float64Array(columns);
      for (var c = 0; c < columns; c++) { row[c] = view.getFloat64((r * columns + c) * 8, true); }
      rows.push(row);
    }
    return rows;
  }

  // deri.combine and deri._contributions for one set of weights over one level's areas.
  function compute(W, rows, weights) {
    var cw = W.components.map(function (c) { return weights[c.key]; });
    var iw = W.indicators.map(function (i) { return weights[i.key]; });
    var componentOf = W.indicators.map(function (i) {
      return W.components.findIndex(function (c) { return c.key === i.component; });
    });
    // An indicator weighing 0 is left out; one with no national bounds (scaled within the
    // region) only counts while its component weighs 0 (deri.scale).
    var usable = W.indicators.map(function (i, j) {
      return iw[j] > 0 && !(i.withinRegion && cw[componentOf[j]] > 0);
    });
    var members = W.components.map(function (c, at) {
      var list = [];
      W.indicators.forEach(function (i, j) { if (componentOf[j] === at && usable[j]) { list.push(j); } });
      return list;
    });
    var inPlan = members.map(function (list) { return list.length > 0; });
    var weighted = W.components.some(function (c, at) { return inPlan[at] && cw[at] > 0; });
    var result = {weighted: weighted, usable: usable, deri: [], components: [], contributions: []};
    rows.forEach(function (values) {
      var components = new Float64Array(W.components.length);
      members.forEach(function (list, c) {
        var numerator = 0, denominator = 0;
        list.forEach(function (j) {
          if (!isNaN(values[j])) { numerator += values[j] * iw[j]; denominator += iw[j]; }
        });
        components[c] = denominator > 0 ? numerator / denominator : NaN;
      });
      var numerator = 0, total = 0, shares = new Float64Array(W.components.length);
      components.forEach(function (score, c) {
        if (!inPlan[c] || isNaN(score)) { return; }
        numerator += score * cw[c];
        total += cw[c];
      });
      var deri = weighted && total > 0 ? numerator / total : NaN;
      components.forEach(function (score, c) {
        shares[c] = inPlan[c] && !isNaN(score) && total > 0 ? cw[c] / total : 0;
      });
      var contributions = W.indicators.map(function () { return NaN; });
      members.forEach(function (list, c) {
        var within = 0;
        list.forEach(function (j) { if (!isNaN(values[j])) { within += iw[j]; } });
        list.forEach(function (j) {
          if (isNaN(values[j])) { return; }
          contributions[j] = round6(shares[c] * (within > 0 ? iw[j] / within : 0) * values[j]);
        });
      });
      result.deri.push(deri);
      result.components.push(components);
      result.contributions.push(contributions);
    });
    result.ranks = ranks(result.deri);
    return result;
  }

  // --- the address --------------------------------------------------------------------

  var KEY = "weights=";

  function hashParts() {
    var hash = window.location.hash.replace(/^#/, "");
    return hash ? hash.split("&") : [];
  }

  function weightsFromHash(W) {
    var known = {};
    W.components.concat(W.indicators).forEach(function (x) { known[x.key] = true; });
    var found = {}, ignored = [];
    hashParts().forEach(function (part) {
      if (part.indexOf(KEY) !== 0) { return; }
      var text;
      try { text = decodeURIComponent(part.slice(KEY.length)); } catch (e) { text = ""; }
      text.split(",").forEach(function (entry) {
        if (!entry) { return; }
        var pair = entry.split(":");
        if (pair.length === 2 && known.hasOwnProperty(pair[0]) && /^(10|[0-9])$/.test(pair[1])) {
          found[pair[0]] = Number(pair[1]);
        } else {
          ignored.push(entry.slice(0, 40));
        }
      });
    });
    return {weights: found, ignored: ignored};
  }

  function writeHash(changes) {
    var keep = hashParts().filter(function (part) { return part.indexOf(KEY) !== 0; });
    var entries = Object.keys(changes).map(function (k) { return k + ":" + changes[k]; });
    if (entries.length) { keep.push(KEY + entries.join(",")); }
    var hash = keep.length ? "#" + keep.join("&") : "";
    var url = window.location.href.replace(/#.*$/, "") + hash;
    if (url === window.location.href) { return; }
    try {
      window.history.replaceState(null, "", url || window.location.pathname);
    } catch (e) {
      window.location.replace(hash || "#");
    }
  }

  // --- the page -----------------------------------------------------------------------

  function start(app) {
    el = app.el;
    var data = app.data, W = data.weights, meta = data.meta;
    if (!W || !W.levels || !W.levels.ward) { return; }
    var published = {};
    W.components.concat(W.indicators).forEach(function (x) { published[x.key] = x.weight; });
    var viewOf = {};  // view key ("deri_score", "demography_score", ...) -> its index
    meta.views.forEach(function (v, i) { viewOf[v.key] = i; });
    var metaIndicator = {};
    meta.indicators.forEach(function (i, at) { metaIndicator[i.key] = at; });
    var pointsAt = meta.columns.indexOf("points"), scaledAt = meta.columns.indexOf("scaled");

    // Each level: its page features, their rows in the region's table, the table itself.
    var levels = [];
    [["ward", data.wards], ["lsoa", data.lsoas && data.lsoas.areas]].forEach(function (pair) {
      var table = W.levels[pair[0]];
      if (!table || !pair[1]) { return; }
      var rows = unpack(table.scaled, W.indicators.length);
      var rowOf = {};
      table.codes.forEach(function (code, i) { rowOf[code] = i; });
      levels.push({
        name: pair[0], rows: rows, codes: table.codes,
        features: pair[1].features.filter(function (f) { return rowOf.hasOwnProperty(f.properties.code); }),
        rowOf: rowOf
      });
    });

    // The page as published, to go back to exactly.
    var snapshot = {
      label: meta.views[0].label,
      bins: meta.views.map(function (v) { return v.bins; }),
      lsoaBins: data.lsoas ? data.lsoas.bins.slice() : null,
      wards: meta.wards, lsoaCount: meta.lsoaCount,
      areas: levels.map(function (level) {
        return level.features.map(function (f) {
          var p = f.properties;
          return {scores: p.scores.slice(), classes: p.classes.slice(), rank: p.rank,
                  points: p.indicators.map(function (v) { return v ? v[pointsAt] : null; }),
                  scaled: p.indicators.map(function (v) { return v ? v[scaledAt] : null; })};
        });
      })
    };
    var current = Object.assign({}, published);
    var lastResult = null;

    function custom() {
      return Object.keys(published).some(function (k) { return current[k] !== published[k]; });
    }

    function restore() {
      meta.views[0].label = snapshot.label;
      meta.views.forEach(function (v, i) { v.bins = snapshot.bins[i]; });
      if (snapshot.lsoaBins) { snapshot.lsoaBins.forEach(function (b, i) { data.lsoas.bins[i] = b; }); }
      meta.wards = snapshot.wards;
      meta.lsoaCount = snapshot.lsoaCount;
      levels.forEach(function (level, l) {
        level.features.forEach(function (f, n) {
          var p = f.properties, saved = snapshot.areas[l][n];
          p.scores = saved.scores.slice();
          p.classes = saved.classes.slice();
          p.rank = saved.rank;
          p.indicators.forEach(function (v, i) {
            if (v) { v[pointsAt] = saved.points[i]; v[scaledAt] = saved.scaled[i]; }
          });
        });
      });
      lastResult = null;
    }

    // One level's numbers under a set of weights, as a build with them would publish them:
    // per page feature its rounded scores, classes, rank and points, and each view's bins.
    function evaluate(level, weights) {
      var result = compute(W, level.rows, weights);
      var out = {result: result, areas: level.features.map(function (f) {
        var r = level.rowOf[f.properties.code];
        return {row: r, scores: [], classes: [], rank: result.ranks[r]};
      }), bins: [], ranked: result.ranks.filter(function (x) { return x !== null; }).length};
      meta.views.forEach(function (view, v) {
        var of = null;
        if (view.key === "deri_score") {
          of = function (r) { return result.deri[r]; };
        } else {
          var c = W.components.findIndex(function (x) { return x.key + "_score" === view.key; });
          if (c >= 0) { of = function (r) { return result.components[r][c]; }; }
        }
        if (!of) { out.bins.push(null); return; }
        var scores = out.areas.map(function (a) { return round6(of(a.row)); });
        var classed = riskClasses(scores, 5);
        out.areas.forEach(function (a, n) {
          a.scores[v] = scores[n];
          a.classes[v] = classed.classes[n];
        });
        out.bins.push(classed.bins.map(function (b) { return pyRound(b, 6); }));
      });
      return out;
    }

    // Recompute every level with the current weights and write the results where the map
    // reads them, rounded as maps/risk_map.py rounds them: each feature's scores, classes,
    // rank and points, and the legend's bins.
    function apply() {
      lastResult = {weighted: true, levels: {}};
      levels.forEach(function (level) {
        var done = evaluate(level, current);
        lastResult.weighted = done.result.weighted;
        lastResult.levels[level.name] = done;
        done.bins.forEach(function (bins, v) {
          if (bins === null) { return; }
          if (level.name === "ward") { meta.views[v].bins = bins; } else { data.lsoas.bins[v] = bins; }
        });
        // Scores at the page's 6 decimals: placeintel-map.js's restyle() then classes and
        // ranks them in the region and within a chosen district (see setWeights).
        level.features.forEach(function (f, n) {
          var a = done.areas[n], p = f.properties;
          a.scores.forEach(function (score, v) {
            if (score === undefined) { return; }
            p.scores[v] = isNaN(score) ? null : pyRound(score, 6);
          });
          W.indicators.forEach(function (indicator, j) {
            var at = metaIndicator[indicator.key], cell = p.indicators[at];
            if (at !== undefined && cell) {
              var points = done.result.contributions[a.row][j];
              cell[pointsAt] = isNaN(points) ? null : pyRound(points, 4);
              // An indicator left out has no 0-10 score in a build with these weights.
              var scaled = level.rows[a.row][j];
              cell[scaledAt] = done.result.usable[j] && !isNaN(scaled) ? pyRound(round6(scaled), 6) : null;
            }
          });
        });
        if (level.name === "ward") { meta.wards = done.ranked; } else { meta.lsoaCount = done.ranked; }
      });
      meta.views[0].label = snapshot.label + " (your weights)";
    }

    // Rows of a level at full published precision (6 decimals), from an evaluation, or
    // from the page as published.
    function rowsOf(level, done) {
      return level.features.map(function (f, n) {
        var p = f.properties, row = {code: p.code, name: p.name, district: p.district, ward: p.ward,
                                     rank: p.rank, classes: {}, scores: {}, points: {}};
        if (done) {
          var a = done.areas[n], result = done.result;
          row.rank = a.rank;
          meta.views.forEach(function (view, v) {
            row.classes[view.key] = a.classes[v] === undefined ? p.classes[v] : a.classes[v];
          });
          row.scores.deri_score = isNaN(result.deri[a.row]) ? null : round6(result.deri[a.row]);
          W.components.forEach(function (c, at) {
            var score = result.components[a.row][at];
            row.scores[c.key + "_score"] = isNaN(score) ? null : round6(score);
          });
          W.indicators.forEach(function (i, j) {
            var x = result.contributions[a.row][j];
            row.points[i.key] = isNaN(x) ? null : x;
          });
          row.bins = done.bins;
        } else {
          meta.views.forEach(function (view, v) {
            row.classes[view.key] = p.classes[v];
            row.scores[view.key] = p.scores[v];
          });
          meta.indicators.forEach(function (i, at) {
            row.points[i.key] = p.indicators[at] ? p.indicators[at][pointsAt] : null;
          });
        }
        return row;
      });
    }

    // --- the panel ---------------------------------------------------------------------

    var sliders = {}, summary, status;

    function setWeights(weights, announce) {
      Object.keys(weights).forEach(function (k) {
        if (published.hasOwnProperty(k)) { current[k] = weights[k]; }
      });
      Object.keys(sliders).forEach(function (k) {
        sliders[k].input.value = String(current[k]);
        sliders[k].output.textContent = String(current[k]);
      });
      if (custom()) { apply(); } else { restore(); }
      summary.textContent = custom() ? "Weights: yours" : "Weights: published";
      var changes = {};
      Object.keys(published).forEach(function (k) { if (current[k] !== published[k]) { changes[k] = current[k]; } });
      writeHash(changes);
      app.restyle();
      exactRanks();
      refreshPopups();
      var message = "";
      if (lastResult && !lastResult.weighted) {
        message = "Every component in use weighs 0, so there is no index to show " +
          "(a build with these weights would stop).";
      } else if (custom()) {
        message = "Scores, ranks and classes recomputed with your weights" +
          (W.exact ? "." : " (from bounds recorded to 6 decimals, so the last decimal may differ from a rebuild).");
      } else {
        message = "Published weights.";
      }
      if (announce !== false) { status.textContent = message; }
      return message;
    }

    // restyle() ranks the 6-decimal scores; the build ranks the unrounded ones, which differ
    // only where two areas tie to 6 decimals: the region's ranks are set from those.
    function exactRanks() {
      if (!lastResult || app.meta.partial) { return; }
      levels.forEach(function (level) {
        var done = lastResult.levels[level.name];
        level.features.forEach(function (f, n) { f.properties.rank = done.areas[n].rank; });
      });
    }

    function refreshPopups() {
      [app.wards, app.lsoas].forEach(function (layer) {
        if (!layer) { return; }
        layer.eachLayer(function (area) {
          if (area.isPopupOpen && area.isPopupOpen()) { area.getPopup().update(); note(area.getPopup()); }
        });
      });
    }

    // The rank interval and "class depends on the weights" in a popup describe the
    // published weights; say so while the planner's own are in use.
    function note(popup) {
      var content = popup.getElement() && popup.getElement().querySelector(".leaflet-popup-content");
      if (!content || !custom() || content.querySelector(".pi-weights-note")) { return; }
      content.appendChild(el("p", "Score and rank use your weights; the range across 1,000 " +
        "weightings and the weight-sensitivity note refer to the published weights.", "pi-weights-note"));
    }
    app.map.on("popupopen", function (e) { note(e.popup); });

    function slider(item, id) {
      var row = el("div", null, "pi-slider");
      var label = el("label", item.label);
      label.htmlFor = id;
      var input = el("input");
      input.type = "range";
      input.id = id;
      input.min = "0";
      input.max = "10";
      input.step = "1";
      input.value = String(current[item.key]);
      var output = el("output", String(current[item.key]));
      output.htmlFor = id;
      output.setAttribute("aria-hidden", "true");  // the slider announces its own value
      var pending = false;
      input.addEventListener("input", function () {
        output.textContent = input.value;
        if (pending) { return; }
        pending = true;
        window.requestAnimationFrame(function () {
          pending = false;
          var change = {};
          change[item.key] = Number(input.value);
          setWeights(change);
        });
      });
      row.appendChild(label);
      row.appendChild(input);
      row.appendChild(output);
      if (item.withinRegion) {
        var hint = el("div", "No national bounds: counts only while its component weighs 0.", "pi-muted pi-hint");
        hint.id = id + "-hint";
        input.setAttribute("aria-describedby", hint.id);
        row.appendChild(hint);
      }
      sliders[item.key] = {input: input, output: output};
      return row;
    }

    var control = L.control({position: app.panelCorner()});
    control.onAdd = function () {
      var panel = el("details", null, "pi-weights leaflet-control");
      summary = el("summary", "Weights: published");
      panel.appendChild(summary);
      var body = el("div", null, "pi-weights-body");
      panel.appendChild(body);
      body.appendChild(el("p", "DERI weights, whole numbers 0\u201310. Moving one recomputes every " +
        "score, rank and class on this page; the address keeps your weights, to share.", "pi-muted"));
      var components = el("fieldset");
      components.appendChild(el("legend", "Components"));
      W.components.forEach(function (c, at) { components.appendChild(slider(c, "pi-w-c" + at)); });
      body.appendChild(components);
      var advanced = el("details", null, "pi-advanced");
      advanced.appendChild(el("summary", "Advanced: indicator weights"));
      W.components.forEach(function (c) {
        var group = el("fieldset");
        group.appendChild(el("legend", c.label));
        W.indicators.forEach(function (i, at) {
          if (i.component === c.key) { group.appendChild(slider(i, "pi-w-i" + at)); }
        });
        advanced.appendChild(group);
      });
      body.appendChild(advanced);
      status = el("p", null, "pi-weights-status");
      status.setAttribute("role", "status");
      body.appendChild(status);
      var buttons = el("div", null, "pi-buttons");
      var reset = el("button", "Reset to published weights");
      reset.type = "button";
      reset.addEventListener("click", function () { setWeights(published); });
      var copy = el("button", "Copy link");
      copy.type = "button";
      copy.addEventListener("click", function () {
        var url = window.location.href;
        var done = function () { status.textContent = "Link copied: it opens this map with these weights."; };
        var fail = function () { status.textContent = "Copy the address bar to share these weights."; };
        if (navigator.clipboard && navigator.clipboard.writeText) {
          navigator.clipboard.writeText(url).then(done, fail);
        } else { fail(); }
      });
      buttons.appendChild(reset);
      buttons.appendChild(copy);
      body.appendChild(buttons);
      // Open, the panel scrolls within what is left of the screen below its top, wherever
      // the controls above it leave it; on a phone within 40 % of the screen, so the map
      // shows below it and can be watched recolouring.
      var fit = function () {
        if (!panel.open) { return; }
        var room = window.innerHeight - panel.getBoundingClientRect().top - 12;
        if (app.panelCorner() === "topleft") { room = Math.min(room, 0.4 * window.innerHeight); }
        panel.style.maxHeight = Math.max(160, room) + "px";
      };
      panel.addEventListener("toggle", fit);
      window.addEventListener("resize", fit);
      L.DomEvent.disableClickPropagation(panel);
      L.DomEvent.disableScrollPropagation(panel);
      return panel;
    };
    control.addTo(app.map);

    function fromAddress() {
      var read = weightsFromHash(W);
      var wanted = Object.assign({}, published, read.weights);
      var message = setWeights(wanted, false);
      if (read.ignored.length) {
        message = "Ignored in the link: " + read.ignored.join(", ") + ". " + message;
      }
      if (custom() || read.ignored.length) { status.textContent = message; }
    }
    window.addEventListener("hashchange", fromAddress);
    if (hashParts().some(function (part) { return part.indexOf(KEY) === 0; })) { fromAddress(); }

    // For export (placeintel-export.js) and for tests: the weights, and each area's numbers.
    app.weights = {
      published: function () { return Object.assign({}, published); },
      current: function () { return Object.assign({}, current); },
      isCustom: custom,
      set: function (weights) { return setWeights(Object.assign({}, current, weights)); },
      reset: function () { return setWeights(published); },
      components: W.components.map(function (c) { return c.key; }),
      indicators: W.indicators.map(function (i) { return i.key; }),
      // Every area of a level on this page with the numbers the page now shows, at full
      // published precision (6 decimals): scores, rank and class per view (0-4, -1 without
      // a score) among the whole region, as a build publishes them, and points; `compute`
      // gives the same for any weights without showing them. The ranks and classes within
      // a chosen district are on the features (districtRank, districtClasses).
      table: function (name) {
        var level = levels.filter(function (x) { return x.name === (name || "ward"); })[0];
        return level ? rowsOf(level, lastResult && lastResult.levels[level.name]) : [];
      },
      compute: function (weights, name) {
        var level = levels.filter(function (x) { return x.name === (name || "ward"); })[0];
        return level ? rowsOf(level, evaluate(level, Object.assign({}, published, weights))) : [];
      }
    };
  }

  (window.placeintelPlugins = window.placeintelPlugins || []).push(start);
}());
