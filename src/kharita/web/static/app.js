/* Kharita's map page: events, who holds which place, and attacks on health care.
 *
 * Report text is untrusted. Everything taken from the API is put on the page as
 * text nodes (textContent / createTextNode), never through innerHTML, and every
 * Leaflet icon is given a DOM element, never an HTML string.
 *
 * Filters (type, actor, side, fatalities, text) go to the server, which returns
 * the matching events for all dates; the time window and its animation are then
 * applied here, so moving the slider or playing costs no request.
 */
(function () {
  "use strict";

  var PAGE_SIZE = 5000;        // the API's largest page
  var MAX_EVENTS = 50000;      // stop following cursors past this many
  var MAX_LIST_ITEMS = 400;    // list rows drawn at once; the map shows all
  var PLAY_TICK_MS = 900;
  var COUNTRIES_URL = "/static/vendor/countries-50m.json";
  var ADMIN1_URL = "/static/vendor/admin1.json";
  var ADMIN1_MIN_ZOOM = 5;     // first-level outlines only once zoomed in to a region
  var DAY_MS = 86400000;

  // ACLED's event types; Okabe–Ito colours (distinguishable with colour-blindness).
  var TYPE_COLOURS = [
    ["Battles", "#d55e00"],
    ["Explosions/Remote violence", "#e69f00"],
    ["Violence against civilians", "#cc79a7"],
    ["Protests", "#0072b2"],
    ["Riots", "#009e73"],
    ["Strategic developments", "#56b4e9"]
  ];
  // Sides holding a place (control.yaml / actors.yaml); "contested" when reports disagree.
  var SIDE_COLOURS = [
    ["government", "#0072b2"],
    ["opposition", "#d55e00"],
    ["jihadist", "#2b2b2b"],
    ["kurdish", "#009e73"],
    ["houthi", "#cc79a7"],
    ["separatist", "#e69f00"],
    ["coalition", "#56b4e9"],
    ["communal", "#f0e442"],
    ["contested", "#a0a0a0"]
  ];
  var OTHER_COLOUR = "#6b6b6b";
  var HEALTH_COLOUR = "#b3261e";
  var PRECISION = { 1: "exact day", 2: "within a week", 3: "within a month" };
  var GEO_PRECISION = { 1: "the place itself", 2: "near the place", 3: "the region" };
  var FIELD_LABELS = {
    event_date: "date", sub_event_type: "event", event_type: "event type",
    actor1: "actor 1", actor2: "actor 2", assoc_actor_1: "associated actor 1",
    assoc_actor_2: "associated actor 2", location: "location", admin1: "admin1",
    admin2: "admin2", country: "country", fatalities: "fatalities", injuries: "injuries",
    weapons: "weapon", civilian_targeting: "civilian targeting"
  };

  function lookup(table, key) {
    var k = String(key || "").toLowerCase();
    for (var i = 0; i < table.length; i++) if (table[i][0].toLowerCase() === k) return table[i][1];
    return OTHER_COLOUR;
  }
  function typeColour(type) { return lookup(TYPE_COLOURS, type); }
  function sideColour(side) { return lookup(SIDE_COLOURS, side); }

  // -- tiny DOM helpers (text only) ------------------------------------------
  function el(tag, className, text) {
    var node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined && text !== null) node.textContent = String(text);
    return node;
  }
  function $(id) { return document.getElementById(id); }

  function swatch(colour) {
    var s = el("span", "kh-swatch");
    s.style.backgroundColor = colour;
    s.setAttribute("aria-hidden", "true");
    return s;
  }

  function showError(message) {
    var box = $("kh-error");
    box.textContent = message;
    box.hidden = false;
  }
  function clearError() { $("kh-error").hidden = true; }

  function safeHttpUrl(url) {
    try {
      var u = new URL(String(url), window.location.href);
      return u.protocol === "http:" || u.protocol === "https:" ? u.href : null;
    } catch (e) {
      return null;
    }
  }

  function link(text, url) {
    var href = url ? safeHttpUrl(url) : null;
    if (!href) return el("span", null, text);
    var a = el("a", null, text);
    a.href = href;
    if (new URL(href).origin !== window.location.origin) {
      a.target = "_blank";
      a.rel = "noopener noreferrer";
    }
    return a;
  }

  // -- dates as whole days (UTC), so a window is two integers ---------------
  function toDay(iso) {
    var m = /^(\d{4})-(\d{2})-(\d{2})/.exec(String(iso || ""));
    return m ? Math.round(Date.UTC(+m[1], +m[2] - 1, +m[3]) / DAY_MS) : null;
  }
  function fromDay(day) { return new Date(day * DAY_MS).toISOString().slice(0, 10); }
  function addStep(day, step, n) {
    if (step === "day") return day + n;
    if (step === "week") return day + 7 * n;
    var d = new Date(day * DAY_MS);
    return Math.round(Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + n, d.getUTCDate()) / DAY_MS);
  }
  // The first day of the period (day / ISO week / month) holding `day`.
  function periodStart(day, interval) {
    if (interval === "day") return day;
    if (interval === "week") return day - ((new Date(day * DAY_MS).getUTCDay() + 6) % 7);
    var d = new Date(day * DAY_MS);
    return Math.round(Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), 1) / DAY_MS);
  }

  // -- fetching --------------------------------------------------------------
  function getJSON(url, optional) {
    return fetch(url, { headers: { Accept: "application/json" } }).then(function (r) {
      if (optional && (r.status === 404 || r.status === 405)) return null;
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
  // A list from an endpoint that answers a list, {items: [...]} or a FeatureCollection.
  function itemsOf(body) {
    if (!body) return [];
    if (Array.isArray(body)) return body;
    return body.items || body.features || body.buckets || body.places || body.periods || [];
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

  function snippetFigure(snippet) {
    var fig = el("figure", "kh-snippet");
    var quote = el("blockquote", "kh-snippet-text");
    var text = String(snippet.text || "");
    renderTree(quote, text, highlightTree(text, snippet.highlights));
    fig.appendChild(quote);
    var cap = el("figcaption", "kh-snippet-source");
    cap.appendChild(link(snippet.title || "report " + snippet.report_id, snippet.url));
    var label = [snippet.outlet, snippet.published].filter(Boolean).join(", ");
    if (label) cap.appendChild(document.createTextNode(" — " + label));
    fig.appendChild(cap);
    return fig;
  }

  // Evidence spans without a snippet (an event fetched from /api/events/{id}).
  function spanQuotes(spans) {
    var p = el("p", "kh-spans");
    (spans || []).forEach(function (s, i) {
      if (i) p.appendChild(document.createTextNode(" … "));
      var mark = el("mark", null, s.text);
      p.appendChild(mark);
    });
    return p;
  }

  // -- the side panel --------------------------------------------------------
  var panelOpener = null;

  function openPanel(content, opener) {
    var panel = $("kh-panel");
    var body = $("kh-panel-body");
    body.replaceChildren(content);
    panel.hidden = false;
    if (opener) panelOpener = opener;
    var title = $("kh-panel-title");
    if (title) title.focus({ preventScroll: true });
    panel.scrollTop = 0;
  }

  function closePanel() {
    var panel = $("kh-panel");
    if (panel.hidden) return;
    panel.hidden = true;
    $("kh-panel-body").replaceChildren();
    document.querySelectorAll(".kh-selected").forEach(function (n) { n.classList.remove("kh-selected"); });
    document.querySelectorAll("[aria-current='true']").forEach(function (n) { n.removeAttribute("aria-current"); });
    var back = panelOpener;
    panelOpener = null;
    if (back && document.contains(back)) back.focus();
  }

  function panelTitle(text) {
    var h = el("h2", "kh-panel-title", text);
    h.id = "kh-panel-title";
    h.tabIndex = -1;
    return h;
  }

  function row(dl, term, value) {
    if (value === undefined || value === null || value === "") return;
    dl.appendChild(el("dt", null, term));
    var dd = el("dd");
    if (value instanceof Node) dd.appendChild(value);
    else dd.textContent = String(value);
    dl.appendChild(dd);
  }

  function actorText(actor, assoc, side) {
    if (!actor) return "";
    var out = actor;
    if (assoc) out += " (with " + assoc + ")";
    if (side) out += " — " + side + " side";
    return out;
  }

  function claimText(c) {
    var what = c.kind === "injuries" ? "injured" : "killed";
    var n = (c.approximate ? "about " : "") + c.value;
    var who = c.victims ? n + " " + c.victims + " " + what : n + " " + what;
    return who + ", according to " + (c.source || "an unattributed source");
  }

  function healthRows(dl, h) {
    if (!h) return;
    var facilities = Array.isArray(h.facility_types) ? h.facility_types.join(", ") : h.facility_types;
    row(dl, "Health care", [h.attack_type, facilities, h.facility_damage]
      .filter(Boolean).join(" · "));
    var hurt = [];
    var count = function (n, one, many, what) { if (n) hurt.push(n + " " + (n === 1 ? one : many) + " " + what); };
    count(h.health_workers_killed, "health worker", "health workers", "killed");
    count(h.health_workers_injured, "health worker", "health workers", "injured");
    count(h.patients_killed, "patient", "patients", "killed");
    count(h.patients_injured, "patient", "patients", "injured");
    row(dl, "Health toll", hurt.join(", "));
    row(dl, "SSA certainty", h.certainty);
  }

  // `p`: a feature's properties or an Event from /api/events/{id} (with evidence snippets).
  // `pending`: `p` is a list page's feature, without evidence; the evidence is on its way
  // (`data-evidence` says "loading", then "loaded" on the panel that replaces this one).
  function eventPanel(p, pending) {
    var box = el("article", "kh-event");
    var id = p.event_id || p.event_id_cnty;
    box.setAttribute("data-event-id", id);
    box.setAttribute("data-evidence", pending ? "loading" : "loaded");
    box.appendChild(panelTitle(p.sub_event_type || p.event_type || "Event"));
    var type = el("p", "kh-event-type");
    type.appendChild(swatch(typeColour(p.event_type)));
    type.appendChild(document.createTextNode(p.event_type || "unknown type"));
    box.appendChild(type);

    var dl = el("dl", "kh-facts");
    var precision = PRECISION[p.time_precision] || (p.time_precision ? "precision " + p.time_precision : "");
    row(dl, "Date", p.event_date + (precision ? " (" + precision + ")" : ""));
    var place = [p.location, p.admin1 && p.admin1 !== p.location ? p.admin1 : "", p.country]
      .filter(Boolean).join(", ");
    if (place && GEO_PRECISION[p.geo_precision]) place += " (" + GEO_PRECISION[p.geo_precision] + ")";
    row(dl, "Where", place);
    row(dl, "Actor 1", actorText(p.actor1, p.assoc_actor_1, p.side1) || "unknown");
    row(dl, "Actor 2", actorText(p.actor2, p.assoc_actor_2, p.side2));
    row(dl, "Fatalities", String(p.fatalities || 0));
    if (p.injuries) row(dl, "Injuries", String(p.injuries));
    if (p.weapons && p.weapons.length) row(dl, "Weapons", p.weapons.join(", "));
    row(dl, "Civilian targeting", p.civilian_targeting);
    healthRows(dl, p.health);
    if (typeof p.confidence === "number") row(dl, "Confidence", p.confidence.toFixed(2));
    row(dl, "Event id", id);
    box.appendChild(dl);

    var claims = p.claims || [];
    if (claims.length) {
      var cs = el("section", "kh-claims");
      cs.appendChild(el("h3", null, "Claims"));
      var ul = el("ul");
      claims.forEach(function (c) {
        var li = el("li", null, claimText(c));
        if (c.evidence && c.evidence.length) li.appendChild(spanQuotes(c.evidence));
        ul.appendChild(li);
      });
      cs.appendChild(ul);
      box.appendChild(cs);
    }

    var snippets = p.evidence_snippets || [];
    var ev = el("section", "kh-evidence");
    if (pending) {
      ev.appendChild(el("h3", null, "Evidence"));
      ev.appendChild(el("p", "kh-muted kh-evidence-status", "Loading the evidence…"));
      ev.setAttribute("aria-busy", "true");
      box.appendChild(ev);
    } else if (snippets.length) {
      ev.appendChild(el("h3", null, snippets.length > 1 ? "Evidence (" + snippets.length + " reports)" : "Evidence"));
      snippets.forEach(function (s) { ev.appendChild(snippetFigure(s)); });
      box.appendChild(ev);
    } else if (p.evidence && Object.keys(p.evidence).length) {
      ev.appendChild(el("h3", null, "Evidence"));
      var edl = el("dl", "kh-facts");
      Object.keys(p.evidence).forEach(function (field) {
        row(edl, FIELD_LABELS[field] || field, spanQuotes(p.evidence[field]));
      });
      ev.appendChild(edl);
      box.appendChild(ev);
    }

    var reports = p.report_ids || [];
    if (reports.length) {
      var rs = el("section", "kh-reports");
      rs.appendChild(el("h3", null, reports.length > 1 ? "Reports (" + reports.length + ")" : "Report"));
      var byReport = {};
      snippets.forEach(function (s) { byReport[s.report_id] = s; });
      var rl = el("ul");
      reports.forEach(function (rid) {
        var li = el("li");
        var s = byReport[rid];
        if (s && s.url && safeHttpUrl(s.url)) {
          li.appendChild(link(s.title || s.url, s.url));
          li.appendChild(document.createTextNode(" · "));
        } else if (s && s.title) {
          li.appendChild(el("span", null, s.title + " · "));
        }
        li.appendChild(link("stored text", "/api/reports/" + encodeURIComponent(rid)));
        rl.appendChild(li);
      });
      rs.appendChild(rl);
      if (p.source) rs.appendChild(el("p", "kh-muted", "Sources: " + p.source));
      box.appendChild(rs);
      box.appendChild(talliesSection(reports));
    }
    if (p.notes) box.appendChild(el("p", "kh-notes", p.notes));
    return box;
  }

  function tallyText(t) {
    var n = (t.approximate ? "about " : "") + t.value + " " + t.unit + (t.verb ? " " + t.verb : "");
    // The period as written, but mid-sentence: "Since February 1" -> "since February 1".
    var when = t.period ? t.period.charAt(0).toLowerCase() + t.period.slice(1) : (t.since ? "since " + t.since : "");
    var where = t.places && t.places.length ? "in " + t.places.join(", ") : "";
    return [n, where, when].filter(Boolean).join(" ") +
      ", according to " + (t.source || "an unattributed source");
  }

  // Stored reports and events, fetched once per page: a panel is drawn twice when its event
  // comes from a list page (facts first, then the evidence), and events are opened again.
  var reportDetails = {};  // report id -> promise of /api/reports/{id} (null when unavailable)
  var fullEvents = {};     // event id -> promise of /api/events/{id}

  function reportDetail(rid) {
    if (!(rid in reportDetails)) {
      reportDetails[rid] = getJSON("/api/reports/" + encodeURIComponent(rid), true).catch(function () { return null; });
    }
    return reportDetails[rid];
  }

  function fullEvent(eventId) {
    if (!(eventId in fullEvents)) {
      fullEvents[eventId] = getJSON("/api/events/" + encodeURIComponent(eventId)).catch(function (err) {
        delete fullEvents[eventId];  // asked again next time
        throw err;
      });
    }
    return fullEvents[eventId];
  }

  // The running counts ("nine facilities attacked since February 1") the event's reports give:
  // claims of the report, not events, so they come with the report and are filled in when it
  // arrives. The section stays hidden when the reports give none.
  function talliesSection(reportIds) {
    var section = el("section", "kh-tallies");
    section.hidden = true;
    section.appendChild(el("h3", null, "Running counts in the report"));
    var list = el("ul");
    section.appendChild(list);
    Promise.all(reportIds.map(reportDetail)).then(function (details) {
      details.forEach(function (d) {
        ((d && d.tallies) || []).forEach(function (t) {
          var li = el("li", null, tallyText(t));
          if (t.evidence && t.evidence.length) li.appendChild(spanQuotes(t.evidence));
          list.appendChild(li);
        });
      });
      section.hidden = list.children.length === 0;
      section.setAttribute("data-loaded", String(list.children.length));
    });
    return section;
  }

  // Frame the map on some bounds, keeping the markers clear of the legend (bottom right)
  // and the zoom buttons.
  function fitTo(bounds) {
    map.fitBounds(bounds, { paddingTopLeft: [60, 40], paddingBottomRight: [280, 60], maxZoom: 8, animate: false });
  }

  // Bring a layer's markers into view when some lie outside it.
  function showAll(layer) {
    var bounds = layer.getBounds();
    if (bounds.isValid() && !map.getBounds().contains(bounds)) fitTo(bounds);
  }

  // -- page state ------------------------------------------------------------
  var map, clusters, legend, admin1Layer;
  var controlLayer = null, healthLayer = null;
  var state = {
    view: "events",
    features: [],
    markers: {},        // event id -> L.Marker
    byId: {},           // event id -> feature properties
    domain: null,       // [first day, last day] of the unfiltered data
    win: null,          // [first day, last day] shown
    bins: [],           // histogram: [{start, end, events, fatalities}]
    histogramSource: "",
    playing: null,
    loadSeq: 0,
    panelSeq: 0,        // the newest event panel asked for: answers for older ones are dropped
    legendCounts: {}
  };

  function serverFilters() {
    var out = new URLSearchParams();
    [["kh-type", "event_type"], ["kh-actor", "actor"], ["kh-side", "side"],
     ["kh-fat-min", "fatalities_min"], ["kh-fat-max", "fatalities_max"], ["kh-q", "q"]].forEach(function (pair) {
      var v = $(pair[0]).value.trim();
      if (v !== "") out.set(pair[1], v);
    });
    return out;
  }

  function busy(on) {
    if (on) document.body.setAttribute("data-busy", "true");
    else document.body.removeAttribute("data-busy");
  }

  // All events matching the server-side filters, following `next_cursor`.
  function fetchEvents(params) {
    var features = [];
    var meta = { unlocated: 0, truncated: false };
    function page(cursor) {
      var q = new URLSearchParams(params);
      q.set("limit", String(PAGE_SIZE));
      if (cursor) q.set("cursor", cursor);
      return getJSON("/api/events.geojson?" + q.toString()).then(function (fc) {
        features = features.concat(fc.features || []);
        if (fc.meta && fc.meta.unlocated) meta.unlocated += fc.meta.unlocated;
        if (fc.next_cursor && features.length < MAX_EVENTS) return page(fc.next_cursor);
        meta.truncated = Boolean(fc.next_cursor);
        return { features: features, meta: meta };
      });
    }
    return page(null);
  }

  // -- markers ---------------------------------------------------------------
  var EventIcon = null;  // L.DivIcon labelled with its event, made once Leaflet is known to be here

  function defineIcons() {
    EventIcon = L.DivIcon.extend({
      createIcon: function (old) {
        var div = L.DivIcon.prototype.createIcon.call(this, old);
        div.setAttribute("data-event-id", this.options.eventId);
        div.setAttribute("role", "button");
        div.setAttribute("aria-label", this.options.label);
        return div;
      }
    });
  }

  function eventMarker(f) {
    var p = f.properties;
    var c = f.geometry.coordinates;
    var dot = el("span", "kh-dot");
    dot.style.backgroundColor = typeColour(p.event_type);
    var size = 14 + Math.round(Math.min(10, Math.sqrt(p.fatalities || 0) * 1.5));
    dot.style.width = dot.style.height = size + "px";
    var label = (p.sub_event_type || p.event_type) + ", " + p.event_date + ", " +
      [p.location, p.country].filter(Boolean).join(", ");
    var marker = L.marker([c[1], c[0]], {
      icon: new EventIcon({
        html: dot, className: "kh-marker", iconSize: [size, size],
        eventId: p.event_id, label: label
      }),
      keyboard: true,
      title: label,
      eventType: p.event_type || "Other"
    });
    marker.on("click", function () {
      openEvent(p.event_id, marker.getElement());
    });
    return marker;
  }

  // A cluster shows its share of each event type as a ring around its count.
  function clusterIcon(cluster) {
    var counts = {};
    var children = cluster.getAllChildMarkers();
    children.forEach(function (m) { counts[m.options.eventType] = (counts[m.options.eventType] || 0) + 1; });
    var stops = [], at = 0, parts = [];
    Object.keys(counts).sort(function (a, b) { return counts[b] - counts[a]; }).forEach(function (t) {
      var share = counts[t] / children.length * 100;
      stops.push(typeColour(t) + " " + at + "% " + (at + share) + "%");
      parts.push(counts[t] + " " + t);
      at += share;
    });
    var n = children.length;
    var size = n < 10 ? 34 : n < 100 ? 40 : 48;
    var ring = el("span", "kh-cluster-ring");
    ring.style.background = "conic-gradient(" + stops.join(", ") + ")";
    ring.appendChild(el("span", "kh-cluster-count", n));
    var icon = L.divIcon({ html: ring, className: "kh-cluster", iconSize: [size, size] });
    // Leaflet copies `title` only for plain markers; label the cluster for screen readers here.
    cluster.options.title = n + " events: " + parts.join(", ") + ". Enter zooms in.";
    return icon;
  }

  // -- the time window -------------------------------------------------------
  function inWindow(p) {
    var d = toDay(p.event_date);
    return d !== null && d >= state.win[0] && d <= state.win[1];
  }

  function setWindow(start, end, fromInput) {
    var lo = state.domain[0], hi = state.domain[1];
    start = Math.max(lo, Math.min(hi, start));
    end = Math.max(lo, Math.min(hi, end));
    if (start > end) {
      if (fromInput === "end") start = end; else end = start;
    }
    state.win = [start, end];
    $("kh-start").value = String(start - lo);
    $("kh-end").value = String(end - lo);
    if (fromInput !== "from") $("kh-from").value = fromDay(start);
    if (fromInput !== "to") $("kh-to").value = fromDay(end);
    $("kh-start").setAttribute("aria-valuetext", fromDay(start));
    $("kh-end").setAttribute("aria-valuetext", fromDay(end));
    applyWindow();
  }

  function setDomain(lo, hi) {
    state.domain = [lo, hi];
    ["kh-start", "kh-end"].forEach(function (id) {
      var input = $(id);
      input.min = "0";
      input.max = String(hi - lo);
    });
    ["kh-from", "kh-to"].forEach(function (id) {
      $(id).min = fromDay(lo);
      $(id).max = fromDay(hi);
    });
  }

  function applyWindow() {
    var shown = state.features.filter(function (f) { return inWindow(f.properties); });
    var layers = shown.map(function (f) { return state.markers[f.properties.event_id]; });
    clusters.clearLayers();
    clusters.addLayers(layers);
    drawList(shown);
    state.legendCounts = {};
    shown.forEach(function (f) {
      var t = f.properties.event_type || "Other";
      state.legendCounts[t] = (state.legendCounts[t] || 0) + 1;
    });
    if (state.view === "events") renderLegend();
    setCounts(shown.length);
    updateExports();
    drawHistogram();
    document.body.setAttribute("data-window", fromDay(state.win[0]) + "/" + fromDay(state.win[1]));
  }

  function setCounts(shown) {
    var parts = [];
    var total = state.features.length;
    parts.push(shown + (shown === 1 ? " event" : " events") + " in " +
      fromDay(state.win[0]) + " – " + fromDay(state.win[1]));
    var filters = [];
    serverFilters().forEach(function (v, k) { filters.push(k.replace("_", " ") + " " + v); });
    if (shown !== total) parts.push(total + (filters.length ? " match the filters" : " in all"));
    if (filters.length) parts.push("filtered by " + filters.join(", "));
    if (state.meta && state.meta.unlocated) parts.push(state.meta.unlocated + " without coordinates");
    if (state.meta && state.meta.truncated) parts.push("first " + total + " loaded");
    if (state.stats) parts.push(state.stats.events + " events from " + state.stats.reports + " reports stored");
    $("kh-counts").textContent = parts.join(" · ");
  }

  function updateExports() {
    var q = serverFilters();
    q.set("date_from", fromDay(state.win[0]));
    q.set("date_to", fromDay(state.win[1]));
    q.set("format", "acled-csv");
    $("kh-export-csv").href = "/api/export?" + q.toString();
    q.set("format", "geojson");
    $("kh-export-geojson").href = "/api/export?" + q.toString();
  }

  function drawList(shown) {
    var list = $("kh-list");
    list.replaceChildren();
    var sorted = shown.slice().sort(function (a, b) {
      return String(b.properties.event_date).localeCompare(String(a.properties.event_date));
    });
    sorted.slice(0, MAX_LIST_ITEMS).forEach(function (f) {
      var p = f.properties;
      var li = el("li");
      var button = el("button", "kh-item");
      button.type = "button";
      button.setAttribute("data-event-id", p.event_id);
      var head = el("span", "kh-item-head");
      head.appendChild(swatch(typeColour(p.event_type)));
      head.appendChild(el("span", "kh-item-type", p.sub_event_type || p.event_type));
      button.appendChild(head);
      button.appendChild(el("span", "kh-item-meta",
        p.event_date + " · " + [p.location, p.country].filter(Boolean).join(", ") +
        (p.fatalities ? " · " + p.fatalities + " killed" : "")));
      button.addEventListener("click", function () {
        openEvent(p.event_id, button);
        showMarker(state.markers[p.event_id]);
      });
      li.appendChild(button);
      list.appendChild(li);
    });
    if (sorted.length > MAX_LIST_ITEMS) {
      list.appendChild(el("li", "kh-empty", (sorted.length - MAX_LIST_ITEMS) +
        " more on the map; narrow the window or the filters to list them."));
    }
    if (!sorted.length) list.appendChild(el("li", "kh-empty", "No located events in this window."));
  }

  function markSelected(eventId) {
    document.querySelectorAll(".kh-selected").forEach(function (n) { n.classList.remove("kh-selected"); });
    document.querySelectorAll(".kh-item[aria-current='true']").forEach(function (n) { n.removeAttribute("aria-current"); });
    var item = document.querySelector('.kh-item[data-event-id="' + CSS.escape(eventId) + '"]');
    if (item) {
      item.setAttribute("aria-current", "true");
      item.scrollIntoView({ block: "nearest" });
    }
    var marker = state.markers[eventId];
    var node = marker && marker.getElement();
    if (node) node.classList.add("kh-selected");
  }

  // Bring a point into the part of the map the side panel does not cover.
  function reveal(latlng) {
    if (!latlng) return;
    var right = $("kh-panel").hidden ? 40 : $("kh-panel").offsetWidth + 40;
    if (map.getZoom() < 6) map.setView(latlng, 7, { animate: false });
    map.panInside(latlng, { paddingTopLeft: [60, 40], paddingBottomRight: [right, 40], animate: false });
  }

  // Pan (zooming in from a world view) so the marker, or the cluster holding it, is in view.
  function showMarker(marker) {
    if (!marker) return;
    reveal(marker.getLatLng());
    var shown = clusters.getVisibleParent(marker);
    var node = shown && shown.getElement();
    if (node) node.classList.add("kh-selected");
  }

  // `healthRow`: the register's row, when opened from the health view (features carry no SSA record).
  // A loaded event's facts show at once; list pages carry no evidence, so the stored event
  // (/api/events/{id}, with its evidence snippets) follows and takes the panel's place.
  function openEvent(eventId, opener, healthRow) {
    var p = state.byId[eventId];
    var seq = ++state.panelSeq;
    markSelected(eventId);
    var withHealth = function (ev) {
      return healthRow && !ev.health ? Object.assign({}, ev, { health: healthRow }) : ev;
    };
    if (p && p.evidence_snippets) {  // a page that came with its evidence
      openPanel(eventPanel(withHealth(p)), opener);
      return;
    }
    if (p) openPanel(eventPanel(withHealth(p), true), opener);
    fullEvent(eventId).then(function (ev) {
      if (seq !== state.panelSeq) return;  // another event was opened meanwhile
      var shown = $("kh-panel-body").querySelector(".kh-event");
      if (!p) {  // not among the loaded events (a health record outside the filters)
        openPanel(eventPanel(withHealth(ev)), opener);
      } else if (!$("kh-panel").hidden && shown && shown.getAttribute("data-event-id") === eventId) {
        var focused = shown.contains(document.activeElement);
        shown.replaceWith(eventPanel(withHealth(ev)));
        if (focused) $("kh-panel-title").focus({ preventScroll: true });
      }
    }).catch(function (err) {
      if (seq !== state.panelSeq) return;
      if (!p) {
        showError("Could not load event " + eventId + ": " + err.message);
        return;
      }
      var status = document.querySelector('#kh-panel .kh-event[data-event-id="' + CSS.escape(eventId) +
        '"] .kh-evidence-status');
      if (!status) return;
      status.textContent = "Could not load the evidence: " + err.message;
      status.closest(".kh-event").setAttribute("data-evidence", "failed");
      status.parentNode.removeAttribute("aria-busy");
    });
  }

  // -- play ------------------------------------------------------------------
  function stopPlay() {
    if (state.playing) window.clearInterval(state.playing);
    state.playing = null;
    var b = $("kh-play");
    b.setAttribute("aria-pressed", "false");
    b.textContent = "Play";
  }

  function startPlay() {
    var step = $("kh-step").value;
    var lo = state.domain[0], hi = state.domain[1];
    var start = state.win[0], end = state.win[1];
    // Playing the whole range, or from its very end, restarts with one step's window.
    if ((start === lo && end === hi) || end >= hi) {
      start = lo;
      end = Math.min(hi, addStep(lo, step, 1) - 1);
      setWindow(start, end);
    }
    var b = $("kh-play");
    b.setAttribute("aria-pressed", "true");
    b.textContent = "Pause";
    state.playing = window.setInterval(function () {
      if (state.win[1] >= hi) { stopPlay(); return; }
      var width = state.win[1] - state.win[0];
      var next = addStep(state.win[0], step, 1);
      setWindow(next, Math.min(hi, next + width));
    }, PLAY_TICK_MS);
  }

  // -- histogram -------------------------------------------------------------
  // Bins from /api/histogram with the current filters, else counted here.
  function loadHistogram(params) {
    var interval = $("kh-interval").value;
    var q = new URLSearchParams(params);
    q.set("interval", interval);
    return getJSON("/api/histogram?" + q.toString(), true).then(function (body) {
      var bins = [];
      itemsOf(body).forEach(function (b) {
        var start = toDay(b.start || b.period_start || b.date || b.period);
        if (start === null && /^\d{4}-\d{2}$/.test(String(b.period || ""))) start = toDay(b.period + "-01");
        if (start === null) return;
        bins.push({ start: start, end: addStep(start, interval, 1) - 1,
                    events: Number(b.events != null ? b.events : b.count) || 0,
                    fatalities: Number(b.fatalities) || 0 });
      });
      if (body) {
        state.histogramSource = "api";
        state.bins = bins;
      } else {
        state.histogramSource = "local";
        state.bins = localBins(interval);
      }
      $("kh-histogram").setAttribute("data-source", state.histogramSource);
    });
  }

  function localBins(interval) {
    var byStart = {};
    state.features.forEach(function (f) {
      var d = toDay(f.properties.event_date);
      if (d === null) return;
      var s = periodStart(d, interval);
      var b = byStart[s] || (byStart[s] = { start: s, end: addStep(s, interval, 1) - 1, events: 0, fatalities: 0 });
      b.events += 1;
      b.fatalities += f.properties.fatalities || 0;
    });
    return Object.keys(byStart).map(function (k) { return byStart[k]; })
      .sort(function (a, b) { return a.start - b.start; });
  }

  function drawHistogram() {
    var canvas = $("kh-histogram");
    var width = canvas.clientWidth || 300, height = canvas.clientHeight || 84;
    var ratio = window.devicePixelRatio || 1;
    if (canvas.width !== Math.round(width * ratio)) canvas.width = Math.round(width * ratio);
    if (canvas.height !== Math.round(height * ratio)) canvas.height = Math.round(height * ratio);
    var ctx = canvas.getContext("2d");
    ctx.setTransform(ratio, 0, 0, ratio, 0, 0);
    ctx.clearRect(0, 0, width, height);
    if (!state.domain) return;
    var lo = state.domain[0], hi = state.domain[1] + 1;
    var x = function (day) { return (day - lo) / Math.max(1, hi - lo) * width; };
    var top = 4, bottom = height - 14;
    var maxEvents = 1, maxDead = 1, totalEvents = 0;
    state.bins.forEach(function (b) {
      maxEvents = Math.max(maxEvents, b.events);
      maxDead = Math.max(maxDead, b.fatalities);
      totalEvents += b.events;
    });
    // The window, as a band behind the bars.
    ctx.fillStyle = "#dde8f5";
    ctx.fillRect(x(state.win[0]), 0, Math.max(2, x(state.win[1] + 1) - x(state.win[0])), bottom);
    state.bins.forEach(function (b) {
      var x0 = x(Math.max(lo, b.start)), x1 = x(Math.min(hi, b.end + 1));
      var h = (bottom - top) * b.events / maxEvents;
      var inside = b.end >= state.win[0] && b.start <= state.win[1];
      ctx.fillStyle = inside ? "#1a5fb4" : "#9aa5b1";
      ctx.fillRect(x0 + 0.5, bottom - h, Math.max(1.5, x1 - x0 - 1), h);
      if (b.fatalities) {  // fatalities: a dark tick at their share of the peak
        var y = bottom - (bottom - top) * b.fatalities / maxDead;
        ctx.fillStyle = "#7a140e";
        ctx.fillRect(x0 + 0.5, y - 1, Math.max(1.5, x1 - x0 - 1), 2);
      }
    });
    ctx.fillStyle = "#3d4450";
    ctx.font = "10px system-ui, sans-serif";
    ctx.textBaseline = "bottom";
    ctx.textAlign = "left";
    ctx.fillText(fromDay(state.domain[0]), 0, height);
    ctx.textAlign = "right";
    ctx.fillText(fromDay(state.domain[1]), width, height);
    var peak = state.bins.reduce(function (best, b) { return !best || b.events > best.events ? b : best; }, null);
    var summary = totalEvents + " events in " + state.bins.length + " " + $("kh-interval").value + "s" +
      (peak ? "; most (" + peak.events + ") from " + fromDay(peak.start) : "");
    canvas.setAttribute("aria-label", "Events over time: " + summary);
    $("kh-histogram-caption").textContent = "Bars: events; ticks: fatalities.";
  }

  // Clicking a bar narrows the window to its period.
  function histogramClick(evt) {
    if (!state.domain) return;
    var canvas = $("kh-histogram");
    var rect = canvas.getBoundingClientRect();
    var lo = state.domain[0], hi = state.domain[1] + 1;
    var day = lo + Math.floor((evt.clientX - rect.left) / rect.width * (hi - lo));
    var bin = state.bins.filter(function (b) { return b.start <= day && day <= b.end; })[0];
    if (bin) { stopPlay(); setWindow(bin.start, bin.end); }
  }

  // -- legend ----------------------------------------------------------------
  function legendList(entries) {
    var ul = el("ul");
    entries.forEach(function (e) {
      var li = el("li");
      li.appendChild(swatch(e[1]));
      li.appendChild(document.createTextNode(e[0]));
      ul.appendChild(li);
    });
    if (!entries.length) ul.appendChild(el("li", null, "nothing to show"));
    return ul;
  }

  function renderLegend() {
    var box = legend.getContainer();
    if (!box) return;
    box.replaceChildren();
    if (state.view === "events") {
      var counts = state.legendCounts;
      var known = TYPE_COLOURS.map(function (t) { return t[0]; });
      var types = known.filter(function (t) { return counts[t]; })
        .concat(Object.keys(counts).filter(function (t) { return known.indexOf(t) < 0; }).sort());
      box.appendChild(el("h2", "kh-legend-title", "Event type"));
      box.appendChild(legendList(types.map(function (t) { return [t + " (" + counts[t] + ")", typeColour(t)]; })));
    } else if (state.view === "control") {
      var sides = state.controlSides || {};
      box.appendChild(el("h2", "kh-legend-title", "Held by"));
      box.appendChild(legendList(Object.keys(sides).sort().map(function (s) {
        return [s + " (" + sides[s] + ")", sideColour(s)];
      })));
    } else {
      box.appendChild(el("h2", "kh-legend-title", "Attacks on health care"));
      box.appendChild(legendList([["attack (" + (state.healthCount || 0) + ")", HEALTH_COLOUR]]));
    }
  }

  // -- loading events --------------------------------------------------------
  function fillOptions(features) {
    var types = {}, actors = {}, sides = {};
    features.forEach(function (f) {
      var p = f.properties;
      if (p.event_type) types[p.event_type] = true;
      [p.actor1, p.actor2, p.assoc_actor_1, p.assoc_actor_2].forEach(function (a) { if (a) actors[a] = true; });
      [p.side1, p.side2].forEach(function (s) { if (s) sides[s] = true; });
    });
    var typeSelect = $("kh-type");
    TYPE_COLOURS.map(function (t) { return t[0]; })
      .concat(Object.keys(types).sort())
      .filter(function (t, i, all) { return all.indexOf(t) === i; })
      .forEach(function (t) { typeSelect.appendChild(new Option(t, t)); });
    var sideSelect = $("kh-side");
    SIDE_COLOURS.map(function (s) { return s[0]; })
      .filter(function (s) { return s !== "contested"; })
      .concat(Object.keys(sides).sort())
      .filter(function (s, i, all) { return all.indexOf(s) === i; })
      .forEach(function (s) { sideSelect.appendChild(new Option(s, s)); });
    var datalist = $("kh-actors");
    Object.keys(actors).sort().forEach(function (a) {
      var o = document.createElement("option");
      o.value = a;
      datalist.appendChild(o);
    });
  }

  function loadEvents(first) {
    var seq = ++state.loadSeq;
    var params = serverFilters();
    busy(true);
    stopPlay();
    return fetchEvents(params).then(function (res) {
      if (seq !== state.loadSeq) return null;  // a newer filter won
      state.features = res.features.filter(function (f) {
        return f.geometry && f.geometry.coordinates && toDay(f.properties.event_date) !== null;
      });
      state.meta = res.meta;
      state.byId = {};
      state.markers = {};
      state.features.forEach(function (f) {
        state.byId[f.properties.event_id] = f.properties;
        state.markers[f.properties.event_id] = eventMarker(f);
      });
      if (first) {
        var days = state.features.map(function (f) { return toDay(f.properties.event_date); });
        var today = Math.floor(Date.now() / DAY_MS);
        var lo = days.length ? Math.min.apply(null, days) : today;
        var hi = days.length ? Math.max.apply(null, days) : today;
        setDomain(lo, hi);
        state.win = [lo, hi];
        // Bars a few pixels wide at least: days for two months of data, weeks for two years.
        $("kh-interval").value = hi - lo <= 62 ? "day" : hi - lo <= 730 ? "week" : "month";
        fillOptions(state.features);
        var bounds = L.latLngBounds(state.features.map(function (f) {
          return [f.geometry.coordinates[1], f.geometry.coordinates[0]];
        }));
        if (bounds.isValid()) fitTo(bounds);
        $("kh-control-date").value = fromDay(hi);
      }
      return loadHistogram(params).then(function () {
        if (seq !== state.loadSeq) return;
        setWindow(state.win[0], state.win[1]);
        clearError();
      });
    }).finally(function () { if (seq === state.loadSeq) busy(false); });
  }

  // -- control view ----------------------------------------------------------
  function loadControl() {
    var day = $("kh-control-date").value;
    if (!toDay(day)) { showError("Choose a date for the control map."); return Promise.resolve(); }
    busy(true);
    return getJSON("/api/control?date=" + encodeURIComponent(day)).then(function (body) {
      var features = itemsOf(body);
      if (controlLayer) controlLayer.remove();
      controlLayer = L.featureGroup();
      var list = $("kh-control-list");
      list.replaceChildren();
      var sides = {};
      features.sort(function (a, b) {
        return String(a.properties.place).localeCompare(String(b.properties.place));
      }).forEach(function (f) {
        var p = f.properties;
        var side = p.side || "unknown";
        sides[side] = (sides[side] || 0) + 1;
        var key = String(f.id || p.place_key || p.place);
        var li = el("li");
        var button = el("button", "kh-item");
        button.type = "button";
        button.setAttribute("data-place-key", key);
        button.setAttribute("data-side", side);
        var head = el("span", "kh-item-head");
        head.appendChild(swatch(sideColour(side)));
        head.appendChild(el("span", null, p.place));
        button.appendChild(head);
        button.appendChild(el("span", "kh-item-meta", side + " since " + p.since +
          (p.admin1 ? " · " + p.admin1 : "")));
        li.appendChild(button);
        list.appendChild(li);
        var open = function (opener) {
          openPlace(key, p, opener).then(function () {
            if (f.geometry && f.geometry.coordinates) reveal(L.latLng(f.geometry.coordinates[1], f.geometry.coordinates[0]));
          });
        };
        button.addEventListener("click", function () { open(button); });
        if (f.geometry && f.geometry.coordinates) {
          var c = f.geometry.coordinates;
          var m = L.circleMarker([c[1], c[0]], {
            radius: 9, weight: side === "contested" ? 3 : 1.5,
            color: side === "contested" ? "#1b1b1b" : "#ffffff",
            dashArray: side === "contested" ? "3 3" : null,
            fillColor: sideColour(side), fillOpacity: 0.95,
            className: "kh-control-marker"
          });
          // Names stay on the map while they are few enough to read.
          m.bindTooltip(el("span", null, features.length <= 30 ? p.place : p.place + ": " + side), {
            permanent: features.length <= 30, direction: "right", offset: [8, 0], className: "kh-place-label"
          });
          m.on("click", function () { open(button); });
          m.on("add", function () {
            var path = m.getElement();
            if (path) {
              path.setAttribute("data-place-key", key);
              path.setAttribute("data-side", side);
            }
          });
          controlLayer.addLayer(m);
        }
      });
      if (!features.length) list.appendChild(el("li", "kh-empty", "No place has a known holder on " + day + "."));
      state.controlSides = sides;
      if (state.view === "control") {
        controlLayer.addTo(map);
        showAll(controlLayer);
        renderLegend();
        $("kh-counts").textContent = features.length + (features.length === 1 ? " place" : " places") +
          " with a known holder on " + day;
      }
      document.body.setAttribute("data-control-date", day);
    }).catch(function (err) {
      showError("Could not load the control map: " + err.message);
    }).finally(function () { busy(false); });
  }

  // The timeline endpoint looks places up by name; keep the one whose key was clicked.
  function openPlace(key, props, opener) {
    return getJSON("/api/places/" + encodeURIComponent(props.place) + "/control").then(function (body) {
      var places = itemsOf(body);
      var match = places.filter(function (pl) { return pl.place_key === key; })[0] || places[0];
      var periods = match ? match.periods || [] : [];
      var box = el("article", "kh-place");
      box.setAttribute("data-place-key", key);
      box.appendChild(panelTitle(props.place));
      box.appendChild(el("p", "kh-muted", [props.admin1, props.country].filter(Boolean).join(", ")));
      box.appendChild(el("h3", null, "Who held it"));
      var ol = el("ol", "kh-periods");
      periods.forEach(function (period) {
        var li = el("li");
        var head = el("p", "kh-item-head");
        head.appendChild(swatch(sideColour(period.side)));
        head.appendChild(document.createTextNode((period.side || "unknown") + ": from " + period.start +
          (period.end ? " until " + period.end : "") +
          (PRECISION[period.precision] ? " (" + PRECISION[period.precision] + ")" : "")));
        li.appendChild(head);
        (period.claims || []).forEach(function (claim) {
          var c = el("div", "kh-claim");
          c.appendChild(el("span", "kh-muted", claim.kind + (claim.actor ? ", " + claim.actor : "") +
            ", report of " + claim.as_of + " "));
          c.appendChild(link("(stored text)", "/api/reports/" + encodeURIComponent(claim.report_id)));
          c.appendChild(spanQuotes(claim.evidence));
          li.appendChild(c);
        });
        ol.appendChild(li);
      });
      if (!periods.length) ol.appendChild(el("li", "kh-empty", "No timeline stored for this place."));
      box.appendChild(ol);
      openPanel(box, opener);
    }).catch(function (err) { showError("Could not load the place's timeline: " + err.message); });
  }

  // -- health view -----------------------------------------------------------
  function healthValue(row, key) {
    if (row[key] !== undefined) return row[key];
    return row.health ? row.health[key] : undefined;
  }

  function loadHealth() {
    busy(true);
    var rows = [];
    function page(cursor) {  // every row, following cursors; rows carry their coordinates
      var q = new URLSearchParams({ limit: String(PAGE_SIZE) });
      if (cursor) q.set("cursor", cursor);
      return getJSON("/api/health-attacks?" + q.toString()).then(function (body) {
        rows = rows.concat(itemsOf(body));
        if (body && body.next_cursor && rows.length < MAX_EVENTS) return page(body.next_cursor);
        return rows;
      });
    }
    return page(null)
      .then(function () {
        state.healthCount = rows.length;
        var body = $("kh-health-table").tBodies[0];
        body.replaceChildren();
        rows.forEach(function (r) {
          var id = r.event_id || r.event_id_cnty;
          var tr = el("tr");
          tr.setAttribute("data-event-id", id);
          var dateCell = el("td");
          var button = el("button", "kh-link-button", r.event_date);
          button.type = "button";
          button.setAttribute("aria-label", "Open the event of " + r.event_date + " in " + (r.location || "an unknown place"));
          button.addEventListener("click", function () {
            openEvent(id, button, r);
            if (r.latitude != null && r.longitude != null) reveal(L.latLng(r.latitude, r.longitude));
          });
          dateCell.appendChild(button);
          tr.appendChild(dateCell);
          tr.appendChild(el("td", null, [r.location, r.country].filter(Boolean).join(", ")));
          tr.appendChild(el("td", null, healthValue(r, "attack_type")));
          var facilities = healthValue(r, "facility_types");
          tr.appendChild(el("td", null, Array.isArray(facilities) ? facilities.join(", ") : facilities));
          var killed = (Number(healthValue(r, "health_workers_killed")) || 0) + (Number(healthValue(r, "patients_killed")) || 0);
          tr.appendChild(el("td", "kh-num", killed));
          tr.appendChild(el("td", null, healthValue(r, "certainty")));
          body.appendChild(tr);
        });
        if (!rows.length) {
          var tr = el("tr");
          var td = el("td", "kh-empty", "No attack on health care is stored.");
          td.colSpan = 6;
          tr.appendChild(td);
          body.appendChild(tr);
        }
        if (healthLayer) healthLayer.remove();
        healthLayer = L.featureGroup();
        rows.forEach(function (p) {
          if (p.latitude == null || p.longitude == null) return;
          var c = [p.longitude, p.latitude];
          var id = p.event_id;
          var cross = el("span", "kh-health-dot", "+");
          var label = "Attack on health care, " + p.event_date + ", " + [p.location, p.country].filter(Boolean).join(", ");
          var m = L.marker([c[1], c[0]], {
            icon: new EventIcon({ html: cross, className: "kh-health-marker", iconSize: [22, 22], eventId: id, label: label }),
            keyboard: true, title: label
          });
          m.on("click", function () { openEvent(id, m.getElement(), p); });
          healthLayer.addLayer(m);
        });
        if (state.view === "health") {
          healthLayer.addTo(map);
          showAll(healthLayer);
          renderLegend();
          $("kh-counts").textContent = rows.length + (rows.length === 1 ? " attack" : " attacks") +
            " on health care stored";
        }
        document.body.setAttribute("data-health", String(rows.length));
      })
      .catch(function (err) { showError("Could not load the health-care register: " + err.message); })
      .finally(function () { busy(false); });
  }

  // -- views -----------------------------------------------------------------
  function setView(view) {
    if (view === state.view) return;
    stopPlay();
    closePanel();
    state.view = view;
    document.body.setAttribute("data-view", view);
    document.querySelectorAll(".kh-view").forEach(function (b) {
      b.setAttribute("aria-pressed", String(b.getAttribute("data-view") === view));
    });
    document.querySelectorAll(".kh-pane").forEach(function (pane) {
      pane.hidden = pane.getAttribute("data-for") !== view;
    });
    map.invalidateSize({ animate: false });  // the side bar is wider in the health view
    [clusters, controlLayer, healthLayer].forEach(function (layer) { if (layer) layer.remove(); });
    if (view === "events") {
      clusters.addTo(map);
      if (state.win) applyWindow();
    } else if (view === "control") {
      loadControl();
    } else {
      loadHealth();
    }
    renderLegend();
  }

  // -- basemap ---------------------------------------------------------------
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

  function topoFeatures(topo, preferred) {
    var name = topo.objects[preferred] ? preferred : Object.keys(topo.objects)[0];
    var geo = topojson.feature(topo, topo.objects[name]);
    geo.features.forEach(function (f) { unwrapGeometry(f.geometry); });
    return geo;
  }

  function drawCountries(topo) {
    L.geoJSON(topoFeatures(topo, "countries"), {
      pane: "kh-countries",
      renderer: L.svg({ pane: "kh-countries" }),
      interactive: false,
      attribution: "Boundaries: Natural Earth",
      style: { color: "#6f7885", weight: 0.8, fillColor: "#f3efe6", fillOpacity: 1 }
    }).addTo(map);
  }

  // Only the borders between units: a mesh, drawn once, on a canvas (4,600 units).
  function drawAdmin1(topo) {
    var name = topo.objects.admin1 ? "admin1" : Object.keys(topo.objects)[0];
    var mesh = topojson.mesh(topo, topo.objects[name], function (a, b) { return a !== b; });
    var lines = mesh.type === "MultiLineString" ? mesh.coordinates : [mesh.coordinates];
    lines.forEach(unwrapRing);
    admin1Layer = L.geoJSON({ type: "Feature", geometry: { type: "MultiLineString", coordinates: lines } }, {
      pane: "kh-admin1",
      renderer: L.canvas({ pane: "kh-admin1" }),
      interactive: false,
      style: { color: "#8c8f99", weight: 0.7, dashArray: "3 3", opacity: 0.9 }
    });
    var toggle = function () {
      if (map.getZoom() >= ADMIN1_MIN_ZOOM) admin1Layer.addTo(map);
      else admin1Layer.remove();
    };
    map.on("zoomend", toggle);
    toggle();
    document.body.setAttribute("data-admin1-units", String(topo.objects[name].geometries.length));
  }

  function loadBasemap() {
    var countries = fetch(COUNTRIES_URL)
      .then(function (r) { if (!r.ok) throw new Error(r.status); return r.json(); })
      .then(drawCountries)
      .catch(function () { showError("Country outlines could not be loaded (" + COUNTRIES_URL + ")."); });
    var admin1 = fetch(ADMIN1_URL)
      .then(function (r) { if (!r.ok) throw new Error(r.status); return r.json(); })
      .then(drawAdmin1)
      .catch(function () { showError("Province outlines could not be loaded (" + ADMIN1_URL + ")."); });
    // An online tile layer only when the server is configured with one (`kharita serve --tiles`).
    var tiles = getJSON("/api/config", true).then(function (config) {
      var url = config && (config.tiles || config.tile_url);
      if (url && /^https?:\/\//.test(url)) {
        L.tileLayer(url, {
          attribution: config.tiles_attribution || config.tile_attribution || "", maxZoom: 18, pane: "kh-tiles"
        }).addTo(map);
        document.body.setAttribute("data-tiles", "on");
      }
    }).catch(function () { /* no config: the offline basemap alone */ });
    return Promise.all([countries, admin1, tiles]);
  }

  // -- wiring ----------------------------------------------------------------
  function debounce(fn, ms) {
    var t = null;
    return function () {
      window.clearTimeout(t);
      t = window.setTimeout(fn, ms);
    };
  }

  function wire() {
    var reload = function () {
      loadEvents(false).catch(function (err) { showError("Could not load events: " + err.message); });
    };
    var form = $("kh-filters");
    form.addEventListener("submit", function (e) { e.preventDefault(); reload(); });
    form.addEventListener("reset", function () { window.setTimeout(reload, 0); });
    ["kh-type", "kh-side"].forEach(function (id) { $(id).addEventListener("change", reload); });
    ["kh-actor", "kh-fat-min", "kh-fat-max", "kh-q"].forEach(function (id) {
      $(id).addEventListener("change", reload);  // on Enter or leaving the field
    });

    $("kh-start").addEventListener("input", function () {
      stopPlay();
      setWindow(state.domain[0] + Number($("kh-start").value), state.win[1], "start");
    });
    $("kh-end").addEventListener("input", function () {
      stopPlay();
      setWindow(state.win[0], state.domain[0] + Number($("kh-end").value), "end");
    });
    $("kh-from").addEventListener("change", function () {
      var d = toDay($("kh-from").value);
      if (d !== null) { stopPlay(); setWindow(d, state.win[1], "from"); }
    });
    $("kh-to").addEventListener("change", function () {
      var d = toDay($("kh-to").value);
      if (d !== null) { stopPlay(); setWindow(state.win[0], d, "to"); }
    });
    $("kh-all-time").addEventListener("click", function () {
      stopPlay();
      setWindow(state.domain[0], state.domain[1]);
    });
    $("kh-play").addEventListener("click", function () {
      if (state.playing) stopPlay(); else startPlay();
    });
    $("kh-interval").addEventListener("change", function () {
      loadHistogram(serverFilters()).then(drawHistogram);
    });
    $("kh-histogram").addEventListener("click", histogramClick);
    window.addEventListener("resize", debounce(drawHistogram, 150));

    document.querySelectorAll(".kh-view").forEach(function (b) {
      b.addEventListener("click", function () { setView(b.getAttribute("data-view")); });
    });
    $("kh-control-form").addEventListener("submit", function (e) { e.preventDefault(); loadControl(); });
    $("kh-control-date").addEventListener("change", function () { if (state.view === "control") loadControl(); });

    $("kh-panel-close").addEventListener("click", closePanel);
    document.addEventListener("keydown", function (e) {
      if (e.key === "Escape" && !$("kh-panel").hidden) {
        e.preventDefault();
        closePanel();
      }
    });
  }

  function main() {
    if (!window.L || !window.topojson || !L.markerClusterGroup) {
      showError("The map's vendored libraries are missing: run `bash web/build.sh` and reload.");
      $("kh-counts").textContent = "";
      document.body.setAttribute("data-ready", "error");
      return;
    }
    defineIcons();
    map = L.map("kh-map", { zoomSnap: 0.25, minZoom: 1, maxZoom: 12, worldCopyJump: true });
    map.createPane("kh-tiles").style.zIndex = 240;
    map.createPane("kh-countries").style.zIndex = 250;
    map.createPane("kh-admin1").style.zIndex = 260;
    map.setView([25, 20], 2);
    window.khMap = map;  // for tests and the console

    clusters = L.markerClusterGroup({
      iconCreateFunction: clusterIcon,
      showCoverageOnHover: false,
      maxClusterRadius: 40,
      spiderfyOnMaxZoom: true,
      chunkedLoading: true
    }).addTo(map);
    legend = L.control({ position: "bottomright" });
    legend.onAdd = function () {
      var box = el("div", "kh-legend");
      L.DomEvent.disableClickPropagation(box);
      return box;
    };
    legend.addTo(map);
    wire();

    var basemap = loadBasemap();
    var stats = getJSON("/api/stats", true).catch(function () { return null; });
    stats.then(function (s) { state.stats = s; });
    Promise.all([loadEvents(true), basemap, stats])
      .then(function () {
        if (state.stats) setCounts(state.features.filter(function (f) { return inWindow(f.properties); }).length);
        document.body.setAttribute("data-ready", "true");
      })
      .catch(function (err) {
        $("kh-counts").textContent = "";
        showError("Could not load events: " + err.message);
        document.body.setAttribute("data-ready", "error");
      });
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", main);
  else main();
})();
