/* Kharita's map page: events from /api/events.geojson on an offline basemap.
 *
 * Report text is untrusted. Everything taken from the API is put on the page as
 * text nodes (textContent / createTextNode), never through innerHTML, and every
 * Leaflet popup is given a DOM element, never an HTML string.
 */
(function () {
  "use strict";

  var API_PARAMS = ["date_from", "date_to", "type", "place", "actor", "limit", "offset"];
  var MAP_LIMIT = "5000";
  var COUNTRIES_URL = "/static/vendor/countries-50m.json";

  // ACLED's event types; Okabe–Ito colours (distinguishable with colour-blindness).
  var TYPE_COLOURS = [
    ["Battles", "#d55e00"],
    ["Explosions/Remote violence", "#e69f00"],
    ["Violence against civilians", "#cc79a7"],
    ["Protests", "#0072b2"],
    ["Riots", "#009e73"],
    ["Strategic developments", "#56b4e9"]
  ];
  var OTHER_COLOUR = "#6b6b6b";
  var PRECISION = { 1: "exact day", 2: "within a week", 3: "within a month" };
  var FIELD_LABELS = {
    event_date: "date", sub_event_type: "event", event_type: "event type",
    actor1: "actor 1", actor2: "actor 2", assoc_actor_1: "associated actor 1",
    assoc_actor_2: "associated actor 2", location: "location", admin1: "admin1",
    admin2: "admin2", country: "country", fatalities: "fatalities", injuries: "injuries",
    weapons: "weapon", civilian_targeting: "civilian targeting"
  };

  function colourFor(type) {
    for (var i = 0; i < TYPE_COLOURS.length; i++) {
      if (TYPE_COLOURS[i][0].toLowerCase() === String(type || "").toLowerCase()) return TYPE_COLOURS[i][1];
    }
    return OTHER_COLOUR;
  }

  // -- tiny DOM helpers (text only) ------------------------------------------
  function el(tag, className, text) {
    var node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined && text !== null) node.textContent = String(text);
    return node;
  }

  function swatch(colour) {
    var s = el("span", "kh-swatch");
    s.style.backgroundColor = colour;
    s.setAttribute("aria-hidden", "true");
    return s;
  }

  function showError(message) {
    var box = document.getElementById("kh-error");
    box.textContent = message;
    box.hidden = false;
  }

  // -- evidence: snippet text with nested <mark>s ----------------------------
  // highlights: [[start, end, field], ...] relative to `text`. Spans nest when one
  // holds another; a partial overlap is split so the marks stay well nested.
  function highlightTree(text, highlights) {
    var pending = [];
    (highlights || []).forEach(function (h) {
      var s = Number(h[0]), e = Number(h[1]);
      if (Number.isInteger(s) && Number.isInteger(e) && s >= 0 && e <= text.length && s < e) {
        pending.push({ s: s, e: e, field: String(h[2] || "") });
      }
    });
    var order = function (a, b) { return a.s - b.s || b.e - a.e; };
    pending.sort(order);
    var root = { s: 0, e: text.length, field: null, children: [] };
    var stack = [root];
    for (var i = 0; i < pending.length; i++) {
      var h = pending[i];
      while (stack.length > 1 && stack[stack.length - 1].e <= h.s) stack.pop();
      var top = stack[stack.length - 1];
      if (h.e > top.e) {  // straddles its parent's end: split
        var rest = { s: top.e, e: h.e, field: h.field };
        h = { s: h.s, e: top.e, field: h.field };
        var at = i + 1;
        while (at < pending.length && order(pending[at], rest) <= 0) at++;
        pending.splice(at, 0, rest);
      }
      var node = { s: h.s, e: h.e, field: h.field, children: [] };
      top.children.push(node);
      stack.push(node);
    }
    return root;
  }

  function renderTree(parent, text, node) {
    var pos = node.s;
    node.children.forEach(function (child) {
      if (child.s > pos) parent.appendChild(document.createTextNode(text.slice(pos, child.s)));
      var mark = document.createElement("mark");
      mark.setAttribute("data-field", child.field);
      mark.title = "evidence: " + (FIELD_LABELS[child.field] || child.field);
      renderTree(mark, text, child);
      parent.appendChild(mark);
      pos = child.e;
    });
    if (node.e > pos) parent.appendChild(document.createTextNode(text.slice(pos, node.e)));
  }

  function safeHttpUrl(url) {
    try {
      var u = new URL(String(url), window.location.href);
      return u.protocol === "http:" || u.protocol === "https:" ? u.href : null;
    } catch (e) {
      return null;
    }
  }

  function snippetFigure(snippet) {
    var fig = el("figure", "kh-snippet");
    var quote = el("blockquote", "kh-snippet-text");
    var text = String(snippet.text || "");
    renderTree(quote, text, highlightTree(text, snippet.highlights));
    fig.appendChild(quote);
    var cap = el("figcaption", "kh-snippet-source");
    var label = [snippet.outlet, snippet.published].filter(Boolean).join(", ");
    var title = snippet.title || "report " + snippet.report_id;
    var href = snippet.url ? safeHttpUrl(snippet.url) : null;
    if (href) {
      var a = el("a", null, title);
      a.href = href;
      a.target = "_blank";
      a.rel = "noopener noreferrer";
      cap.appendChild(a);
    } else {
      cap.appendChild(el("span", null, title));
    }
    if (label) cap.appendChild(document.createTextNode(" — " + label));
    fig.appendChild(cap);
    return fig;
  }

  // -- popup -----------------------------------------------------------------
  function row(dl, term, value) {
    if (value === undefined || value === null || value === "") return;
    dl.appendChild(el("dt", null, term));
    dl.appendChild(el("dd", null, value));
  }

  function popupContent(p) {
    var box = el("div", "kh-popup");
    box.setAttribute("data-event-id", p.event_id);
    box.appendChild(el("h3", "kh-popup-title", p.sub_event_type || p.event_type || "Event"));
    var type = el("p", "kh-popup-type");
    type.appendChild(swatch(colourFor(p.event_type)));
    type.appendChild(document.createTextNode(p.event_type || "unknown type"));
    box.appendChild(type);

    var dl = el("dl", "kh-facts");
    var precision = PRECISION[p.time_precision] || (p.time_precision ? "precision " + p.time_precision : "");
    row(dl, "Date", p.event_date + (precision ? " (" + precision + ")" : ""));
    var place = [p.location, p.admin1 && p.admin1 !== p.location ? p.admin1 : "", p.country]
      .filter(Boolean).join(", ");
    row(dl, "Where", place);
    var actors = p.actor1 || "unknown";
    if (p.assoc_actor_1) actors += " (with " + p.assoc_actor_1 + ")";
    actors += " vs " + (p.actor2 || "—");
    if (p.assoc_actor_2) actors += " (with " + p.assoc_actor_2 + ")";
    row(dl, "Actors", actors);
    row(dl, "Fatalities", String(p.fatalities || 0));
    if (p.injuries) row(dl, "Injuries", String(p.injuries));
    if (p.weapons && p.weapons.length) row(dl, "Weapons", p.weapons.join(", "));
    box.appendChild(dl);

    var snippets = p.evidence_snippets || [];
    if (snippets.length) {
      var ev = el("section", "kh-evidence");
      ev.appendChild(el("h4", null, snippets.length > 1 ? "Evidence (" + snippets.length + " reports)" : "Evidence"));
      snippets.forEach(function (s) { ev.appendChild(snippetFigure(s)); });
      box.appendChild(ev);
    }
    box.appendChild(el("p", "kh-popup-id", p.event_id));
    return box;
  }

  // -- page ------------------------------------------------------------------
  function apiQuery() {
    var here = new URLSearchParams(window.location.search);
    var out = new URLSearchParams();
    API_PARAMS.forEach(function (k) { if (here.get(k)) out.set(k, here.get(k)); });
    if (!out.has("limit")) out.set("limit", MAP_LIMIT);
    return out;
  }

  function getJSON(url) {
    return fetch(url, { headers: { Accept: "application/json" } }).then(function (r) {
      if (!r.ok) {
        return r.json().catch(function () { return {}; }).then(function (body) {
          var d = body && body.detail;
          var msg = Array.isArray(d) ? d.map(function (x) { return x.msg; }).join("; ") : d;
          throw new Error(url.split("?")[0] + ": " + (msg || r.status + " " + r.statusText));
        });
      }
      return r.json();
    });
  }

  function setCounts(fc, stats, query) {
    var meta = fc.meta || {};
    var n = fc.features.length;
    var parts = [n + (n === 1 ? " event" : " events") + " on the map"];
    if (meta.unlocated) parts.push(meta.unlocated + " without coordinates");
    if (meta.limit && meta.matched >= meta.limit) parts.push("first " + meta.limit + " shown");
    if (stats) parts.push(stats.events + " events from " + stats.reports + " reports stored");
    var filters = [];
    query.forEach(function (v, k) { if (k !== "limit" && k !== "offset") filters.push(k + " = " + v); });
    if (filters.length) parts.push("filtered by " + filters.join(", "));
    document.getElementById("kh-counts").textContent = parts.join(" · ");
  }

  function addLegend(map, features) {
    var counts = {};
    features.forEach(function (f) {
      var t = f.properties.event_type || "Other";
      counts[t] = (counts[t] || 0) + 1;
    });
    var legend = L.control({ position: "bottomright" });
    legend.onAdd = function () {
      var box = el("div", "kh-legend");
      box.appendChild(el("h2", "kh-legend-title", "Event type"));
      var ul = el("ul");
      var known = TYPE_COLOURS.map(function (t) { return t[0]; });
      var types = known.filter(function (t) { return counts[t]; })
        .concat(Object.keys(counts).filter(function (t) { return known.indexOf(t) < 0; }).sort());
      types.forEach(function (t) {
        var li = el("li");
        li.appendChild(swatch(colourFor(t)));
        li.appendChild(document.createTextNode(t + " (" + counts[t] + ")"));
        ul.appendChild(li);
      });
      if (!types.length) ul.appendChild(el("li", null, "no located events"));
      box.appendChild(ul);
      L.DomEvent.disableClickPropagation(box);
      return box;
    };
    legend.addTo(map);
  }

  // world-atlas rings that cross the antimeridian jump from +180 to -180; on a flat
  // map that draws a line across the world. Continue them past ±180 instead.
  function unwrapRing(ring) {
    var shift = 0;
    for (var i = 1; i < ring.length; i++) {
      var prev = ring[i - 1][0];
      var lon = ring[i][0] + shift;
      if (lon - prev > 180) shift -= 360;
      else if (prev - lon > 180) shift += 360;
      ring[i] = [ring[i][0] + shift, ring[i][1]];
    }
  }

  function unwrapGeometry(geometry) {
    if (!geometry) return;
    var polygons = geometry.type === "Polygon" ? [geometry.coordinates]
      : geometry.type === "MultiPolygon" ? geometry.coordinates : [];
    polygons.forEach(function (polygon) { polygon.forEach(unwrapRing); });
  }

  function drawCountries(map, topo) {
    var name = topo.objects.countries ? "countries" : Object.keys(topo.objects)[0];
    var geo = topojson.feature(topo, topo.objects[name]);
    geo.features.forEach(function (f) { unwrapGeometry(f.geometry); });
    L.geoJSON(geo, {
      pane: "kh-countries",
      renderer: L.svg({ pane: "kh-countries" }),
      interactive: false,
      attribution: "Boundaries: Natural Earth (world-atlas)",
      style: { color: "#7b8491", weight: 0.7, fillColor: "#f3efe6", fillOpacity: 1 }
    }).addTo(map);
  }

  function selectItem(button) {
    var prev = document.querySelector(".kh-item[aria-current='true']");
    if (prev) prev.removeAttribute("aria-current");
    if (button) {
      button.setAttribute("aria-current", "true");
      button.scrollIntoView({ block: "nearest" });
    }
  }

  function drawEvents(map, features) {
    var list = document.getElementById("kh-list");
    var bounds = L.latLngBounds([]);
    features.forEach(function (f) {
      var p = f.properties;
      var c = f.geometry.coordinates;
      var latlng = L.latLng(c[1], c[0]);
      var colour = colourFor(p.event_type);
      var marker = L.circleMarker(latlng, {
        radius: 6 + Math.min(6, Math.sqrt(p.fatalities || 0)),
        color: "#1b1b1b", weight: 1.2, fillColor: colour, fillOpacity: 0.9,
        className: "kh-marker"
      });
      marker.bindPopup(function () { return popupContent(p); }, {
        maxWidth: 380, minWidth: 260, autoPanPadding: [24, 24], className: "kh-leaflet-popup"
      });
      marker.bindTooltip(el("span", null, (p.sub_event_type || p.event_type) + " · " + p.event_date));
      marker.addTo(map);
      var path = marker.getElement();
      if (path) path.setAttribute("data-event-id", p.event_id);
      bounds.extend(latlng);

      var li = el("li");
      var button = el("button", "kh-item");
      button.type = "button";
      button.setAttribute("data-event-id", p.event_id);
      var head = el("span", "kh-item-head");
      head.appendChild(swatch(colour));
      head.appendChild(el("span", "kh-item-type", p.sub_event_type || p.event_type));
      button.appendChild(head);
      button.appendChild(el("span", "kh-item-meta",
        p.event_date + " · " + [p.location, p.country].filter(Boolean).join(", ") +
        (p.fatalities ? " · " + p.fatalities + " killed" : "")));
      button.addEventListener("click", function () {
        map.setView(latlng, Math.max(map.getZoom(), 7), { animate: false });
        marker.openPopup();
        selectItem(button);
      });
      marker.on("popupopen", function () { selectItem(button); });
      li.appendChild(button);
      list.appendChild(li);
    });
    if (!features.length) list.appendChild(el("li", "kh-empty", "No located events match."));
    return bounds;
  }

  function main() {
    if (!window.L || !window.topojson) {
      showError("The map's vendored libraries are missing: run `bash web/build.sh` and reload.");
      document.getElementById("kh-counts").textContent = "";
      return;
    }
    var map = L.map("kh-map", { zoomSnap: 0.25, minZoom: 1, worldCopyJump: true, preferCanvas: false });
    map.createPane("kh-countries").style.zIndex = 250;
    map.setView([25, 20], 2);
    window.khMap = map;  // for tests and the console

    var query = apiQuery();
    var countries = fetch(COUNTRIES_URL)
      .then(function (r) { if (!r.ok) throw new Error(r.status); return r.json(); })
      .then(function (topo) { drawCountries(map, topo); })
      .catch(function () { showError("Country outlines could not be loaded (" + COUNTRIES_URL + ")."); });
    var stats = getJSON("/api/stats").catch(function () { return null; });
    var events = getJSON("/api/events.geojson?" + query.toString());

    Promise.all([events, stats])
      .then(function (res) {
        var fc = res[0];
        setCounts(fc, res[1], query);
        var bounds = drawEvents(map, fc.features);
        addLegend(map, fc.features);
        if (bounds.isValid()) map.fitBounds(bounds.pad(0.25), { maxZoom: 7, animate: false });
        return countries;
      })
      .then(function () { document.body.setAttribute("data-ready", "true"); })
      .catch(function (err) {
        document.getElementById("kh-counts").textContent = "";
        showError("Could not load events: " + err.message);
        document.body.setAttribute("data-ready", "error");
      });
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", main);
  else main();
})();
