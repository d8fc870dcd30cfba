/* The grid workbench: desk, case page, roster, notifications — over the /v1 API.
   Every text from the data goes in with textContent (never innerHTML); every change sends
   the session's CSRF token. Works without a map library too (the desk map is optional). */
(function () {
  "use strict";
  var config = JSON.parse(document.body.getAttribute("data-config"));
  var t = config.text;
  var staff = config.user.staff;
  var state = { offset: 0, limit: 20, total: 0, roster: [], mapLayer: null, map: null, caseMap: null };

  function $(sel, root) { return (root || document).querySelector(sel); }
  function el(tag, attrs, kids) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (k) {
      if (k === "text") { node.textContent = attrs[k]; }
      else if (k === "cls") { node.className = attrs[k]; }
      else { node.setAttribute(k, attrs[k]); }
    });
    (kids || []).forEach(function (kid) { if (kid) { node.appendChild(kid); } });
    return node;
  }
  function fmt(template, n) { return template.replace("{n}", String(n)); }
  function when(iso) {
    if (!iso) { return ""; }
    var d = new Date(iso);
    return d.toLocaleString(config.lang === "zh" ? "zh-CN" : "en-GB", { hour12: false });
  }
  function toast(message, bad) {
    var box = $("[data-role=toast]");
    box.textContent = message;
    box.className = "toast" + (bad ? " bad" : "");
    box.hidden = false;
    clearTimeout(toast.timer);
    toast.timer = setTimeout(function () { box.hidden = true; }, 4000);
  }

  function api(method, url, body) {
    // errors in the page's language, whatever the browser's (the domain's own Chinese words)
    var headers = { "Accept": "application/json", "Accept-Language": speaks() };
    if (method !== "GET") { headers["X-CSRF-Token"] = config.csrf; }
    if (body) { headers["Content-Type"] = "application/json"; }
    return fetch(url, {
      method: method, headers: headers, credentials: "same-origin",
      body: body ? JSON.stringify(body) : undefined
    }).then(function (r) {
      if (r.status === 401) { window.location.href = "/manager?lang=" + config.lang; }
      return r.text().then(function (text) {
        var data = null;
        try { data = text ? JSON.parse(text) : null; } catch (e) { data = null; }
        if (!r.ok) {
          var msg = data && data.error ? data.error.message : ("HTTP " + r.status);
          var err = new Error(msg); err.status = r.status;
          err.code = data && data.error ? data.error.code : null;
          throw err;
        }
        return data;
      });
    });
  }
  function failed(err) { toast(t.failed + err.message, true); }
  function speaks() { return config.lang === "en" ? "en" : "zh-CN"; }

  /* ---- tabs ------------------------------------------------------------------------------ */
  function show(view) {
    document.querySelectorAll("[data-view]").forEach(function (s) {
      s.hidden = s.getAttribute("data-view") !== view;
    });
    document.querySelectorAll("[data-tab]").forEach(function (b) {
      b.classList.toggle("on", b.getAttribute("data-tab") === view || (view === "case" && b.getAttribute("data-tab") === "desk"));
    });
    if (view === "desk" && state.map) { setTimeout(function () { state.map.invalidateSize(); }, 0); }
  }
  document.querySelectorAll("[data-tab]").forEach(function (b) {
    b.addEventListener("click", function () {
      var tab = b.getAttribute("data-tab");
      show(tab);
      if (tab === "roster") { loadRoster(); }
      if (tab === "notices") { loadNotices(); }
      if (tab === "desk") { loadCases(); }
    });
  });

  /* ---- filters --------------------------------------------------------------------------- */
  var form = $("[data-role=filters]");
  function option(select, value, label) { select.appendChild(el("option", { value: value, text: label })); }
  (function fillFilters() {
    var status = form.elements.status;
    option(status, "open", t.open_group);
    option(status, "", t.any);
    Object.keys(config.statuses).forEach(function (code) { option(status, code, config.statuses[code]); });
    var category = form.elements.category;
    option(category, "", t.any);
    Object.keys(config.categories).forEach(function (code) { option(category, code, config.categories[code]); });
  })();
  function query() {
    var p = new URLSearchParams();
    var words = form.elements.q.value.trim();
    if (words) { p.append("q", words); }
    if (form.elements.status.value) { p.append("status", form.elements.status.value); }
    if (form.elements.category.value) { p.append("category", form.elements.category.value); }
    if (form.elements.member_id && form.elements.member_id.value) { p.append("member_id", form.elements.member_id.value); }
    if (form.elements.overdue.checked) { p.append("overdue", "true"); }
    if (form.elements.due_soon.checked) { p.append("due_within_hours", "72"); }
    if (form.elements.sort.value !== "newest") { p.append("sort", form.elements.sort.value); }
    return p;
  }
  form.addEventListener("change", function () { state.offset = 0; loadCases(); });
  form.addEventListener("submit", function (e) { e.preventDefault(); state.offset = 0; loadCases(); });
  $("[data-role=prev]").addEventListener("click", function () {
    state.offset = Math.max(0, state.offset - state.limit); loadCases();
  });
  $("[data-role=next]").addEventListener("click", function () {
    if (state.offset + state.limit < state.total) { state.offset += state.limit; loadCases(); }
  });

  /* ---- the desk -------------------------------------------------------------------------- */
  var OPEN = config.open_statuses;
  function daysLate(c) {
    if (OPEN.indexOf(c.status) < 0) { return 0; }
    var late = (Date.now() - new Date(c.resolution_due).getTime()) / 86400000;
    return late > 0 ? Math.max(1, Math.floor(late)) : 0;  /* whole days, a late case at least 1 */
  }
  /* the deadline clock: time left to resolve, green, amber in the last quarter, red when late */
  function clock(c) {
    if (OPEN.indexOf(c.status) < 0) { return null; }
    var now = Date.now(), due = new Date(c.resolution_due).getTime(), start = new Date(c.created_at).getTime();
    var left = due - now, hours = Math.abs(left) / 3600000;
    var span = hours >= 48 ? fmt(t.clock_days, Math.floor(hours / 24)) : fmt(t.clock_hours, Math.max(1, Math.floor(hours)));
    var tone = left < 0 ? "red" : (left < (due - start) / 4 ? "amber" : "green");
    return el("span", { cls: "clock " + tone, "data-clock": tone, title: t.due + " " + when(c.resolution_due), text: (left < 0 ? t.clock_late : t.clock_left).replace("{span}", span) });
  }
  function caseRow(c) {
    var late = daysLate(c);
    var row = el("li", { cls: "case-row" + (late ? " late" : ""), "data-case-id": String(c.id), "data-status": c.status, tabindex: "0" }, [
      el("span", { cls: "ref", text: c.reference }),
      el("span", { cls: "status s-" + c.status, text: config.statuses[c.status] || c.status }),
      el("span", { cls: "cat", text: config.categories[c.category] || c.category }),
      el("span", { cls: "place", text: [c.town_name, c.grid_code].filter(Boolean).join(" · ") }),
      el("span", { cls: "who", text: c.member ? c.member.name : "—" }),
      el("span", { cls: "due", text: late ? fmt(t.days_late, late) : t.due + " " + when(c.resolution_due).split(" ")[0] }),
      clock(c)
    ]);
    row.addEventListener("click", function () { openCase(c.id); });
    row.addEventListener("keydown", function (e) { if (e.key === "Enter") { openCase(c.id); } });
    return row;
  }
  function loadCases() {
    var p = query();
    $("[data-role=export]").setAttribute("href", "/v1/cases/export.xlsx?" + p.toString());
    p.append("limit", String(state.limit));
    p.append("offset", String(state.offset));
    var mine = state.seq = (state.seq || 0) + 1;  /* only the latest request may draw the list */
    return api("GET", "/v1/cases?" + p.toString()).then(function (data) {
      if (mine !== state.seq) { return; }
      state.total = data.total;
      var list = $("[data-role=cases]");
      list.textContent = "";
      data.cases.forEach(function (c) { list.appendChild(caseRow(c)); });
      if (!data.cases.length) { list.appendChild(el("li", { cls: "empty", text: t.none })); }
      $("[data-role=count]").textContent = fmt(t.total, data.total);
      $("[data-role=prev]").disabled = state.offset === 0;
      $("[data-role=next]").disabled = state.offset + state.limit >= data.total;
      drawDeskMap(data.cases);
    }).catch(failed);
  }
  function colour(c) {
    if (daysLate(c)) { return "#c62828"; }
    return { escalated: "#ef6c00", returned: "#8e24aa", resolved: "#2e7d32", closed: "#757575" }[c.status] || "#1565c0";
  }
  /* under every map: the own basemap (streets, water, outlines and names from this server's
     tiles); without it, the district outlines alone */
  var outlines = null;
  var ownBasemap = !!(config.basemap && window.yizhanBasemap);
  function withOutlines(map) {
    if (typeof L === "undefined") { return; }
    if (ownBasemap) { window.yizhanBasemap(map, config.basemap); return; }
    (outlines = outlines || fetch("/rider/boundaries.json").then(function (r) { return r.ok ? r.json() : null; }))
      .then(function (fc) {
        if (fc) { L.geoJSON(fc, { style: { color: "#607d8b", weight: 1.2, fill: false }, interactive: false }).addTo(map); }
      }).catch(function () { /* the map works without them */ });
  }
  function drawDeskMap(cases) {
    if (!staff || typeof L === "undefined" || !$("#desk-map")) { return; }
    if (!state.map) {
      state.map = L.map("desk-map", { attributionControl: ownBasemap });
      state.map.setView([22.4, 112.75], 9);
      withOutlines(state.map);
    }
    if (state.mapLayer) { state.map.removeLayer(state.mapLayer); }
    var points = [];
    state.mapLayer = L.layerGroup(cases.filter(function (c) { return c.location; }).map(function (c) {
      var ll = [c.location.coordinates[1], c.location.coordinates[0]];
      points.push(ll);
      var mark = L.circleMarker(ll, { radius: 7, color: colour(c), fillOpacity: 0.8 });
      mark.on("click", function () { openCase(c.id); });
      return mark;
    })).addTo(state.map);
    if (points.length) { state.map.fitBounds(points, { padding: [20, 20], maxZoom: 14 }); }
  }

  /* ---- a case ---------------------------------------------------------------------------- */
  function section(title, kids) { return el("section", { cls: "part" }, [el("h3", { text: title })].concat(kids)); }
  function openCase(id) {
    show("case");
    var box = $("[data-role=case]");
    box.textContent = "";
    var mine = state.caseSeq = (state.caseSeq || 0) + 1;
    Promise.all([
      api("GET", "/v1/cases/" + id),
      api("GET", "/v1/cases/" + id + "/events"),
      api("GET", "/v1/cases/" + id + "/attachments"),
      staff && !state.roster.length ? loadRosterData() : Promise.resolve(null)
    ]).then(function (all) {
      if (mine === state.caseSeq) { renderCase(all[0], all[1].events, all[2].attachments); }
    }).catch(function (err) {
      /* a case that left your scope (a member's 退单 went through): back to the desk */
      if (err.status === 404) { show("desk"); loadCases(); } else { failed(err); }
    });
  }
  /* a phone number is a tap to call (only digits and + reach the link); anything else is text */
  var PHONE_LIKE = /^[0-9+()\-\s]{5,25}$/;
  function reporterLine(c) {
    var line = el("p", { cls: "reporter" });
    if (c.reporter_name) { line.appendChild(el("span", { text: c.reporter_name + " " })); }
    var contact = c.reporter_contact || "";
    if (PHONE_LIKE.test(contact)) {
      line.appendChild(el("a", { cls: "call", href: "tel:" + contact.replace(/[^0-9+]/g, ""), text: contact }));
    } else if (contact) {
      line.appendChild(el("span", { text: contact }));
    }
    return line;
  }
  function renderCase(c, events, files) {
    var box = $("[data-role=case]");
    box.textContent = "";
    box.setAttribute("data-case-id", String(c.id));
    state.caseVersion = c.version;
    box.setAttribute("data-status", c.status);
    var late = daysLate(c);
    box.appendChild(el("h2", {}, [
      el("span", { text: c.reference + " " }),
      el("span", { cls: "status s-" + c.status, "data-role": "status", text: config.statuses[c.status] || c.status }),
      late ? el("span", { cls: "late-tag", text: " " + fmt(t.days_late, late) }) : null,
      clock(c)
    ]));
    box.appendChild(el("p", { cls: "meta", text: [config.categories[c.category] || c.category, c.district_name, c.town_name, c.grid_code, c.member ? c.member.name : ""].filter(Boolean).join(" · ") }));
    box.appendChild(section(t.description, [el("p", { cls: "desc", text: c.description })]));
    if (c.station_id && staff) { box.appendChild(section(t.station, [stationFix(c.station_id)])); }
    if (c.reporter_name || c.reporter_contact) {
      box.appendChild(section(t.reporter, [reporterLine(c)]));
    }
    if (c.location) {
      var mapBox = el("div", { cls: "case-map", id: "case-map" });
      box.appendChild(mapBox);
      if (typeof L !== "undefined") {
        setTimeout(function () {
          if (state.caseMap) { state.caseMap.remove(); }
          var ll = [c.location.coordinates[1], c.location.coordinates[0]];
          state.caseMap = L.map("case-map", { attributionControl: ownBasemap }).setView(ll, 15);
          withOutlines(state.caseMap);
          L.circleMarker(ll, { radius: 9, color: colour(c), fillOpacity: 0.8 }).addTo(state.caseMap);
        }, 0);
      }
    }
    if (c.location) { box.appendChild(section(t.navigate, [navigateTo(c)])); }
    box.appendChild(section(t.actions, actionsFor(c)));
    var returning = OPEN.indexOf(c.status) >= 0 ? returnPart(c, events) : null;
    if (returning) { box.appendChild(section(t.return_review, [returning])); }
    if (OPEN.indexOf(c.status) >= 0) { box.appendChild(section(t.extension, [extensionPart(c, events)])); }
    if (c.assignment) {
      var why = (config.lang === "zh" ? c.assignment.reason_zh : c.assignment.reason) || c.assignment.reason || "";
      box.appendChild(section(t.assignment, [el("p", { "data-role": "why", text: String(why) })]));
    }
    box.appendChild(section(t.attachments, attachmentsPart(c, files)));
    box.appendChild(section(t.history, [historyList(events, c)]));
  }
  /* a station-problem case: fix the station's hours and amenities right here */
  function stationFix(id) {
    var part = el("div", { cls: "station-fix", "data-station-id": String(id) });
    api("GET", "/v1/stations/" + id).then(function (f) {
      var p = f.properties;
      part.appendChild(el("p", { cls: "station-name", text: p.name + (p.address ? " · " + p.address : "") }));
      if (p.problem_reports_7d) { part.appendChild(el("p", { cls: "meta", text: fmt(t.station_word, p.problem_reports_7d) })); }
      var hours = el("input", { type: "text", name: "opening_hours", maxlength: "255" });
      hours.value = p.opening_hours;
      part.appendChild(el("label", { cls: "field" }, [el("span", { text: t.station_hours }), hours]));
      var boxes = Object.keys(config.amenities).map(function (code) {
        var box = el("input", { type: "checkbox", name: "amenity", value: code });
        box.checked = p.amenities.indexOf(code) >= 0;
        return el("label", { cls: "skill" }, [box, el("span", { text: config.amenities[code] })]);
      });
      part.appendChild(el("fieldset", { cls: "amenities" }, [el("legend", { text: t.station_amenities })].concat(boxes)));
      var save = el("button", { type: "button", "data-action": "save-station", text: t.station_save });
      save.addEventListener("click", function () {
        var chosen = Array.prototype.filter.call(part.querySelectorAll("input[name=amenity]"), function (b) { return b.checked; })
          .map(function (b) { return b.value; });
        api("PATCH", "/v1/stations/" + id, { opening_hours: hours.value.trim(), amenities: chosen, version: p.version })
          .then(function (g) { p.version = g.properties.version; toast(t.station_saved); })
          .catch(failed);
      });
      part.appendChild(save);
    }).catch(failed);
    return part;
  }
  /* the request of kind ("extension" or "return") still waiting for a decision, or null */
  function waitingRequest(events, kind) {
    var waiting = null;
    events.forEach(function (e) {
      if (e.action === kind + "_requested") { waiting = e; }
      if (e.action === kind + "_approved" || e.action === kind + "_refused") { waiting = null; }
    });
    return waiting;
  }
  /* a waiting request in words; staff approve or refuse it with a note */
  function decisionPart(c, kind, said, words) {
    var part = el("div", { cls: kind, "data-role": kind });
    part.appendChild(el("p", { "data-role": kind + "-waiting", text: said }));
    if (!staff) { return part; }
    var note = el("input", { name: kind + "_note", maxlength: "1000", placeholder: t.reason });
    var yes = el("button", { type: "button", "data-action": "approve-" + kind, text: words[0] });
    var no = el("button", { type: "button", "data-action": "refuse-" + kind, text: words[1] });
    [[yes, true], [no, false]].forEach(function (pair) {
      pair[0].addEventListener("click", function () {
        api("POST", "/v1/cases/" + c.id + "/" + kind + "s/decision", { approve: pair[1], version: c.version, note: note.value.trim() || null })
          .then(function () { toast(t.changed); reload(c); }).catch(failed);
      });
    });
    part.appendChild(note); part.appendChild(yes); part.appendChild(no);
    return part;
  }
  /* 退单审核: a member's return waits for a manager */
  function returnPart(c, events) {
    var waiting = waitingRequest(events, "return");
    if (!waiting) { return null; }
    return decisionPart(c, "return", t.return_waiting + (waiting.reason ? "：" + waiting.reason : ""), [t.return_approve, t.return_refuse]);
  }
  /* 延期申请: the member asks for more time; a manager approves or refuses */
  function extensionPart(c, events) {
    var waiting = waitingRequest(events, "extension");
    if (waiting) {
      var said = fmt(t.ext_waiting, waiting.data.days) + (waiting.reason ? "：" + waiting.reason : "");
      return decisionPart(c, "extension", said, [t.ext_approve, t.ext_refuse]);
    }
    var part = el("div", { cls: "extension", "data-role": "extension" });
    var days = el("select", { name: "extension_days" });
    [1, 2, 3, 5, 7, 10, 14, 30].forEach(function (n) { days.appendChild(el("option", { value: String(n), text: fmt(t.ext_days, n) })); });
    var why = el("input", { name: "extension_reason", maxlength: "1000", placeholder: t.reason });
    var ask = el("button", { type: "button", "data-action": "ask-extension", text: t.ext_ask });
    ask.addEventListener("click", function () {
      if (!why.value.trim()) { why.focus(); toast(t.reason + "?", true); return; }
      api("POST", "/v1/cases/" + c.id + "/extensions", { days: Number(days.value), reason: why.value.trim() })
        .then(function () { toast(t.changed); reload(c); }).catch(failed);
    });
    part.appendChild(days); part.appendChild(why); part.appendChild(ask);
    return part;
  }
  /* hand-off to the region's map apps, to the case's place (the member on a phone) */
  function navigateTo(c) {
    var links = el("p", { cls: "nav-links", "data-role": "navigate" });
    var q = new URLSearchParams({ lat: String(c.location.coordinates[1]), lon: String(c.location.coordinates[0]), name: c.reference, lang: config.lang });
    api("GET", "/v1/navigation?" + q.toString()).then(function (answer) {
      answer.links.forEach(function (n) {
        links.appendChild(el("a", { "data-app": n.app, href: n.href, target: "_blank", rel: "noopener noreferrer", text: n.label }));
      });
    }).catch(function () { /* the case works without it */ });
    return links;
  }
  function reload(c) { openCase(c.id); }
  function move(c, to, extra) {
    var body = Object.assign({ to: to, version: c.version }, extra || {});
    return api("POST", "/v1/cases/" + c.id + "/transitions", body).then(function () {
      toast(t.changed); reload(c);
    }).catch(function (err) {
      if (err.status === 409 && err.code === "stale") { toast(t.stale, true); reload(c); }
      else { failed(err); }
    });
  }
  /* whether this case's return (退单) by a member waits for a manager (退单审核) */
  function reviewed(c) { return config.return_review.indexOf("*") >= 0 || config.return_review.indexOf(c.category) >= 0; }
  function askReturn(c, why) {
    api("POST", "/v1/cases/" + c.id + "/returns", { reason: why })
      .then(function () { toast(t.return_asked); reload(c); }).catch(failed);
  }
  function actionsFor(c) {
    var parts = [];
    var allowed = (config.transitions[c.status] || []).filter(function (to) {
      return config.role_moves.indexOf(to) >= 0 && config.moves[to];
    });
    var reason = el("input", { name: "reason", placeholder: t.reason, maxlength: "500", "data-role": "reason" });
    var buttons = el("p", { cls: "moves" });
    allowed.forEach(function (to) {
      var b = el("button", { type: "button", "data-move": to, text: config.moves[to] });
      b.addEventListener("click", function () {
        if (config.needs_reason.indexOf(to) >= 0 && !reason.value.trim()) { reason.focus(); toast(t.reason + "?", true); return; }
        if (to === "returned" && !staff && reviewed(c)) { askReturn(c, reason.value.trim()); return; }
        move(c, to, reason.value.trim() ? { reason: reason.value.trim() } : {});
      });
      buttons.appendChild(b);
    });
    if (allowed.some(function (to) { return config.needs_reason.indexOf(to) >= 0; })) { parts.push(reason); }
    parts.push(buttons);
    if (staff && (config.transitions[c.status] || []).indexOf("assigned") >= 0) {
      var pick = el("select", { "data-role": "reassign" }, [el("option", { value: "", text: t.choose_member })]);
      rosterByDistance(c).forEach(function (m) {
        var away = m.minutes !== null ? Math.round(m.minutes) + " " + t.minutes : m.km.toFixed(1) + " " + t.km;
        var label = m.name + " · " + m.open_cases + "/" + m.capacity + (m.on_leave ? " · " + t.on_leave : "") + " · " + away;
        pick.appendChild(el("option", { value: String(m.id), text: label }));
      });
      var go = el("button", { type: "button", "data-move": "assigned", text: t.reassign });
      go.addEventListener("click", function () {
        if (pick.value) { move(c, "assigned", { member_id: Number(pick.value) }); }
      });
      parts.push(el("p", { cls: "reassign" }, [pick, go]));
    }
    if (staff && c.status === "resolved") { parts.push(callbackForm(c)); }
    parts.push(noteForm(c));
    return parts;
  }
  function km(a, b) {
    var r = Math.PI / 180, dLat = (b[1] - a[1]) * r, dLon = (b[0] - a[0]) * r;
    var h = Math.sin(dLat / 2) * Math.sin(dLat / 2) + Math.cos(a[1] * r) * Math.cos(b[1] * r) * Math.sin(dLon / 2) * Math.sin(dLon / 2);
    return 12742 * Math.asin(Math.sqrt(h));
  }
  /* members nearest first: the travel time from their base computed when the case came in
     (the assignment's candidates), else the straight distance */
  function rosterByDistance(c) {
    var at = c.location ? c.location.coordinates : null;
    var times = {};
    ((c.assignment && c.assignment.candidates) || []).forEach(function (k) {
      if (k.travel_time_s !== null) { times[k.member_id] = k.travel_time_s / 60; }
    });
    return state.roster.map(function (m) {
      var minutes = times[m.id] !== undefined ? times[m.id] : null;
      return Object.assign({}, m, { km: at ? km(at, m.base.coordinates) : 0, minutes: minutes });
    }).sort(function (a, b) {
      var ka = a.minutes !== null ? a.minutes : a.km * 4, kb = b.minutes !== null ? b.minutes : b.km * 4;
      return (a.on_leave - b.on_leave) || (ka - kb);
    });
  }
  function callbackForm(c) {
    var reached = el("select", { name: "reached", "data-role": "reached" }, [
      el("option", { value: "true", text: t.reached }), el("option", { value: "false", text: t.not_reached })
    ]);
    var score = el("select", { name: "satisfaction", "data-role": "satisfaction" });
    [5, 4, 3, 2, 1].forEach(function (n) { score.appendChild(el("option", { value: String(n), text: String(n) })); });
    var note = el("input", { name: "note", maxlength: "500", placeholder: t.note });
    var save = el("button", { type: "button", "data-role": "save-callback", text: t.save_callback });
    save.addEventListener("click", function () {
      var ok = reached.value === "true";
      api("POST", "/v1/cases/" + c.id + "/callback", { reached: ok, satisfaction: ok ? Number(score.value) : null, note: note.value || null })
        .then(function () { toast(t.changed); reload(c); }).catch(failed);
    });
    return el("div", { cls: "callback" }, [el("h4", { text: t.callback }), reached, el("label", { text: t.satisfaction }, [score]), note, save]);
  }
  function noteForm(c) {
    var text = el("textarea", { name: "note", maxlength: "2000", rows: "2", placeholder: t.note, "data-role": "note" });
    var add = el("button", { type: "button", "data-role": "add-note", text: t.add_note });
    add.addEventListener("click", function () {
      if (!text.value.trim()) { return; }
      api("POST", "/v1/cases/" + c.id + "/notes", { text: text.value }).then(function () { toast(t.changed); reload(c); }).catch(failed);
    });
    return el("div", { cls: "note" }, [text, add]);
  }
  function attachmentsPart(c, files) {
    var list = el("ul", { cls: "files", "data-role": "files" });
    files.forEach(function (f) {
      list.appendChild(el("li", {}, [el("a", { href: f.url, text: f.name }), el("span", { text: " · " + Math.ceil(f.size / 1024) + " KB · " + f.actor })]));
    });
    function send(input) {
      if (!input.files.length) { return; }
      var file = input.files[0];
      fetch("/v1/cases/" + c.id + "/attachments", {
        method: "POST", credentials: "same-origin", body: file,
        headers: { "X-CSRF-Token": config.csrf, "Content-Type": file.type || "application/octet-stream",
                   "X-Filename": encodeURIComponent(file.name), "Accept": "application/json",
                   "Accept-Language": speaks() }
      }).then(function (r) {
        if (!r.ok) { return r.json().then(function (d) { throw new Error(d.error ? d.error.message : "HTTP " + r.status); }); }
        toast(t.changed); reload(c);
      }).catch(failed);
    }
    var input = el("input", { type: "file", accept: "image/jpeg,image/png,application/pdf", "data-role": "upload" });
    input.addEventListener("change", function () { send(input); });
    /* on a phone: straight from the camera */
    var camera = el("input", { type: "file", accept: "image/jpeg,image/png", capture: "environment", "data-role": "camera" });
    camera.addEventListener("change", function () { send(camera); });
    return [list, el("label", { cls: "upload", text: t.upload + " " }, [input]), el("label", { cls: "upload camera", text: t.camera + " " }, [camera])];
  }
  function historyList(events, c) {
    var list = el("ol", { cls: "history", "data-role": "history" });
    /* the intake's choice is explained in the page's language (the record keeps English) */
    var chosen = c.assignment && (config.lang === "zh" ? c.assignment.reason_zh : c.assignment.reason);
    events.forEach(function (e, i) {
      var words = { note: t.note, callback: t.callback, attachment: t.attachments, extension_requested: t.ext_requested,
        extension_approved: t.ext_approved, extension_refused: t.ext_refused, duplicate_linked: t.duplicate_linked,
        return_requested: t.return_requested, return_approved: t.return_approved, return_refused: t.return_refused };
      var what = e.to_status ? (config.statuses[e.to_status] || e.to_status) : (words[e.action] || e.action);
      var reason = e.reason;
      if (chosen && e.actor === "system" && e.to_status === "assigned" && i < 3) { reason = chosen; }
      var extra = reason ? "：" + reason : "";
      if (e.action === "callback" && e.data) {
        extra = "：" + (e.data.reached ? t.reached + " · " + t.satisfaction + " " + e.data.satisfaction : t.not_reached) + (e.reason ? " · " + e.reason : "");
      }
      if (e.action === "attachment" && e.data) { extra = "：" + e.data.name; }
      if (e.action.indexOf("extension_") === 0 && e.data) { extra = "：" + fmt(t.ext_days, e.data.days) + (e.reason ? " · " + e.reason : ""); }
      list.appendChild(el("li", { "data-action": e.action }, [
        el("time", { text: when(e.at) }), el("span", { cls: "actor", text: " " + e.actor + " · " }), el("b", { text: what }), el("span", { text: extra })
      ]));
    });
    return list;
  }
  $("[data-role=back]").addEventListener("click", function () { show("desk"); loadCases(); });

  /* ---- batch assignment (admins): a preview, then apply ----------------------------------- */
  function batchReport(data) {
    var box = $("[data-role=batch-report]");
    box.textContent = "";
    box.hidden = false;
    var words = t.batch_summary
      .replace("{cases}", data.cases).replace("{assigned}", data.assigned)
      .replace("{total}", Math.round((data.total_travel_time_s || 0) / 60))
      .replace("{greedy}", Math.round(((data.baseline || {}).total_travel_time_s || 0) / 60))
      .replace("{load}", data.max_load || 0).replace("{greedy_load}", (data.baseline || {}).max_load || 0);
    box.appendChild(el("p", { "data-role": "batch-summary", text: words }));
    var list = el("ol", { cls: "proposals" });
    (data.proposals || []).slice(0, 20).forEach(function (p) {
      list.appendChild(el("li", { "data-case-id": String(p.case_id), text: p.reference + " → " + p.member_name + " · " + Math.round(p.travel_time_s / 60) + " " + t.minutes }));
    });
    box.appendChild(list);
    if (!data.applied && data.assigned) {
      var go = el("button", { type: "button", "data-role": "batch-apply", text: t.apply });
      go.addEventListener("click", function () { runBatch(true); });
      box.appendChild(go);
    }
  }
  function runBatch(apply) {
    return api("POST", "/v1/cases/assign-batch?apply=" + (apply ? "true" : "false")).then(function (data) {
      if (data && data.cases !== undefined) {
        batchReport(data);
        if (apply) { toast(t.changed); loadCases(); }
      } else { toast(t.running); }
    }).catch(failed);
  }
  var batchButton = $("[data-role=batch]");
  if (batchButton) { batchButton.addEventListener("click", function () { runBatch(false); }); }

  /* ---- roster ---------------------------------------------------------------------------- */
  function loadRosterData() {
    return api("GET", "/v1/members").then(function (data) {
      state.roster = data.members;
      var pick = form.elements.member_id;
      if (pick && pick.options.length === 0) {
        option(pick, "", t.any);
        data.members.forEach(function (m) { option(pick, String(m.id), m.name); });
      }
      return data.members;
    });
  }
  function loadRoster() {
    loadRosterData().then(function (members) {
      var body = $("[data-role=roster]");
      body.textContent = "";
      members.forEach(function (m) {
        var cap = el("input", { type: "number", min: "0", max: "50", value: String(m.capacity), "data-role": "capacity" });
        var leave = el("input", { type: "checkbox", "data-role": "leave" });
        leave.checked = m.on_leave;
        /* skills: a box per case category, in a fold so the table stays narrow on a phone */
        var boxes = Object.keys(config.categories).map(function (code) {
          var box = el("input", { type: "checkbox", value: code, "data-skill": code });
          box.checked = m.skills.indexOf(code) >= 0;
          return el("label", { cls: "skill" }, [box, el("span", { text: config.categories[code] })]);
        });
        var summary = m.skills.map(function (s) { return config.categories[s] || s; }).join("、") || "—";
        var skills = el("details", { "data-role": "skills" }, [el("summary", { text: summary })].concat(boxes));
        var save = el("button", { type: "button", "data-role": "save-member", text: t.save });
        save.addEventListener("click", function () {
          var chosen = Array.prototype.slice.call(skills.querySelectorAll("input:checked")).map(function (b) { return b.value; });
          api("PATCH", "/v1/members/" + m.id, { capacity: Number(cap.value), on_leave: leave.checked, skills: chosen })
            .then(function () { toast(t.changed); loadRoster(); }).catch(failed);
        });
        body.appendChild(el("tr", { "data-member-id": String(m.id) }, [
          el("td", { text: m.name + " (" + m.code + ")" }), el("td", { text: String(m.open_cases) }),
          el("td", {}, [cap]), el("td", {}, [leave]), el("td", {}, [skills]),
          el("td", {}, [save])
        ]));
      });
    }).catch(failed);
  }

  /* ---- notifications --------------------------------------------------------------------- */
  function loadNotices() {
    return api("GET", "/v1/notifications").then(function (data) {
      var badge = $("[data-role=unread]");
      badge.hidden = !data.unread;
      badge.textContent = String(data.unread);
      var list = $("[data-role=notices]");
      list.textContent = "";
      data.notifications.forEach(function (n) {
        var item = el("li", { cls: n.read ? "read" : "unread", "data-kind": n.kind }, [
          el("time", { text: when(n.at) }),
          el("span", { text: " " + (config.lang === "en" && n.message_en ? n.message_en : n.message) })
        ]);
        if (n.case_id) { item.addEventListener("click", function () { openCase(n.case_id); }); }
        list.appendChild(item);
      });
      if (!data.notifications.length) { list.appendChild(el("li", { cls: "empty", text: t.no_notices })); }
      state.notices = data.notifications;
    }).catch(failed);
  }
  $("[data-role=mark-read]").addEventListener("click", function () {
    var ids = (state.notices || []).filter(function (n) { return !n.read; }).map(function (n) { return n.id; });
    if (!ids.length) { return; }
    api("POST", "/v1/notifications/read", { ids: ids }).then(loadNotices).catch(failed);
  });

  /* ---- intake (受理登记): staff register a call ---------------------------------------- */
  var intake = $("[data-role=intake]");
  function fillIntake() {
    Object.keys(config.channels).forEach(function (code) { option(intake.elements.channel, code, config.channels[code]); });
    Object.keys(config.categories).filter(function (code) { return code !== "station_problem"; })
      .forEach(function (code) { option(intake.elements.category, code, config.categories[code]); });
    config.towns.forEach(function (town) { option(intake.elements.town_id, String(town.id), town.district + " · " + town.name); });
  }
  function intakeMap() {
    if (state.intakeMap || typeof L === "undefined") { return; }
    state.intakeMap = L.map("intake-map", { attributionControl: ownBasemap }).setView([22.4, 112.75], 9);
    withOutlines(state.intakeMap);
    state.intakeMap.on("click", function (e) {
      intake.elements.lat.value = e.latlng.lat.toFixed(6);
      intake.elements.lon.value = e.latlng.lng.toFixed(6);
      if (state.intakePin) { state.intakePin.remove(); }
      state.intakePin = L.marker(e.latlng).addTo(state.intakeMap);
      $("[data-role=picked]").textContent = t.picked + " " + e.latlng.lat.toFixed(5) + ", " + e.latlng.lng.toFixed(5);
    });
  }
  /* earlier cases the call may repeat: the same phone, or the same employer nearby */
  function findSimilar() {
    var f = intake.elements, q = new URLSearchParams();
    if (f.reporter_contact.value.trim()) { q.set("phone", f.reporter_contact.value.trim()); }
    if (f.employer.value.trim()) { q.set("employer", f.employer.value.trim()); }
    if (f.lat.value && f.lon.value) { q.set("lat", f.lat.value); q.set("lon", f.lon.value); }
    var box = $("[data-role=similar]"), list = box.querySelector("ul");
    if (!q.has("phone") && !q.has("employer")) { box.hidden = true; state.similar = []; return Promise.resolve(); }
    return api("GET", "/v1/cases/similar?" + q.toString()).then(function (answer) {
      state.similar = answer.cases;
      list.textContent = "";
      answer.cases.forEach(function (c) {
        var item = el("li", { "data-similar-id": String(c.id) }, [
          el("a", { href: "#", text: c.reference }),
          el("span", { text: " " + [config.statuses[c.status] || c.status, config.categories[c.category] || c.category, c.employer, when(c.created_at)].filter(Boolean).join(" · ") })
        ]);
        item.querySelector("a").addEventListener("click", function (e) { e.preventDefault(); openCase(c.id); });
        list.appendChild(item);
      });
      box.hidden = !answer.cases.length;
    }).catch(failed);
  }
  function registered(c) {
    var box = $("[data-role=registered]");
    box.textContent = "";
    var who = c.member ? fmt(t.assigned_to.replace("{who}", "{n}"), c.member.name) : fmt(t.queued_to.replace("{queue}", "{n}"), c.queue);
    box.appendChild(el("p", { cls: "done", "data-reference": c.reference, text: t.registered.replace("{ref}", c.reference) + " · " + who }));
    var why = c.assignment ? ((config.lang === "zh" ? c.assignment.reason_zh : c.assignment.reason) || c.assignment.reason || "") : "";
    if (why) { box.appendChild(el("p", { cls: "meta", text: String(why) })); }
    var go = el("button", { type: "button", "data-action": "open-registered", text: t.open_case });
    go.addEventListener("click", function () { openCase(c.id); });
    box.appendChild(go);
    (state.similar || []).filter(function (o) { return o.id !== c.id; }).forEach(function (o) {
      var dup = el("button", { type: "button", "data-action": "mark-duplicate", "data-of": String(o.id), text: t.mark_duplicate.replace("{ref}", o.reference) });
      dup.addEventListener("click", function () {
        api("POST", "/v1/cases/" + c.id + "/duplicate", { of: o.id, version: c.version }).then(function (closed) {
          toast(t.marked_duplicate.replace("{ref}", o.reference));
          box.appendChild(el("p", { cls: "meta", "data-role": "duplicate-done", text: closed.reference + " · " + (config.statuses[closed.status] || closed.status) }));
          dup.disabled = true;
        }).catch(failed);
      });
      box.appendChild(dup);
    });
  }
  if (intake) {
    fillIntake();
    ["reporter_contact", "employer"].forEach(function (name) { intake.elements[name].addEventListener("change", findSimilar); });
    intake.addEventListener("submit", function (e) {
      e.preventDefault();
      var f = intake.elements;
      var body = {
        reporter_name: f.reporter_name.value.trim(), reporter_contact: f.reporter_contact.value.trim(),
        channel: f.channel.value, category: f.category.value, description: f.description.value.trim()
      };
      if (f.employer.value.trim()) { body.employer = f.employer.value.trim(); }
      if (f.address.value.trim()) { body.address = f.address.value.trim(); }
      if (f.lat.value && f.lon.value) { body.lat = Number(f.lat.value); body.lon = Number(f.lon.value); }
      if (f.town_id.value) { body.town_id = Number(f.town_id.value); }
      var send = intake.querySelector("[data-action=register]");
      send.disabled = true;
      api("POST", "/v1/cases/intake", body).then(function (c) {
        registered(c);
        $("[data-role=similar]").hidden = true;
        toast(t.registered.replace("{ref}", c.reference));
        intake.reset();
        fillIntakeReset();
      }).catch(failed).then(function () { send.disabled = false; });
    });
  }
  function fillIntakeReset() {
    if (state.intakePin) { state.intakePin.remove(); state.intakePin = null; }
    $("[data-role=picked]").textContent = "";
  }
  document.querySelectorAll("[data-tab=intake]").forEach(function (b) { b.addEventListener("click", intakeMap); });

  /* ---- the desk's figures (KPIs) --------------------------------------------------------- */
  function pct(x) { return x === null || x === undefined ? "—" : Math.round(x * 100) + "%"; }
  function num(x) { return x === null || x === undefined ? "—" : String(x); }
  function kpiCells(r, label) {
    return [label, num(r.received), pct(r.on_time_acceptance), pct(r.on_time_resolution), num(r.satisfaction),
      pct(r.callback_reach), num(r.open_now), num(r.overdue_now), num(r.median_hours_to_resolve)]
      .map(function (text) { return el("td", { text: text }); });
  }
  function loadKpis() {
    var table = $("[data-role=kpis]"), by = $("[data-role=kpi-filters]").elements.by.value;
    return Promise.all([
      api("GET", "/v1/cases/kpis?by=" + by + "&lang=" + config.lang),
      api("GET", "/v1/cases/kpis?by=week&lang=" + config.lang)
    ]).then(function (all) {
      var body = table.querySelector("tbody"), foot = table.querySelector("tfoot");
      body.textContent = ""; foot.textContent = "";
      all[0].rows.forEach(function (r) { body.appendChild(el("tr", { "data-key": String(r.key) }, kpiCells(r, r.label || "—"))); });
      foot.appendChild(el("tr", { "data-role": "kpi-total" }, kpiCells(all[0].total, t.kpi_total)));
      var trend = $("[data-role=trend]"), weeks = all[1].rows;
      trend.textContent = "";
      var top = Math.max.apply(null, weeks.map(function (w) { return w.received; }).concat([1]));
      weeks.forEach(function (w) {
        var bar = el("div", { cls: "week-bar", title: w.label + ": " + w.received, "data-week": w.label }, [
          el("span", { cls: "fill", style: "height:" + Math.max(2, Math.round(110 * w.received / top)) + "px" }),
          el("span", { cls: "n", text: String(w.received) }),
          el("span", { cls: "w", text: w.label.slice(5) })
        ]);
        trend.appendChild(bar);
      });
    }).catch(failed);
  }
  var kpiForm = $("[data-role=kpi-filters]");
  if (kpiForm) { kpiForm.addEventListener("change", loadKpis); }
  document.querySelectorAll("[data-tab=kpis]").forEach(function (b) { b.addEventListener("click", loadKpis); });

  /* ---- live: a case changed somewhere; ask again (the API answers within your scope) ------ */
  function refreshLive() {
    clearTimeout(state.liveTimer);
    state.liveTimer = setTimeout(function () {
      if (!$("[data-view=desk]").hidden) { loadCases(); }
      loadNotices();
      var open = $("[data-role=case]").getAttribute("data-case-id");
      if (!$("[data-view=case]").hidden && open) {
        api("GET", "/v1/cases/" + open).then(function (c) {
          /* only when it changed, and only if the person is still looking at it (not gone back) */
          var still = !$("[data-view=case]").hidden && $("[data-role=case]").getAttribute("data-case-id") === open;
          if (still && c.version !== state.caseVersion) { openCase(c.id); }
        }).catch(function () { /* it may have left your scope: the desk says so on return */ });
      }
    }, 300);
  }
  if (window.EventSource) {
    var live = new EventSource("/v1/live");
    live.addEventListener("open", function () { document.body.setAttribute("data-live", "open"); });
    live.addEventListener("error", function () { document.body.setAttribute("data-live", "retrying"); });
    live.addEventListener("cases", refreshLive);
    /* a resumed stream: whatever changed meanwhile is asked for again */
    live.addEventListener("hello", function () { if (state.liveBefore) { refreshLive(); } state.liveBefore = true; });
  }

  if (staff) { loadRosterData().catch(failed); }
  loadCases();
  loadNotices();
  if (config.view === "kpis" && kpiForm) { show("kpis"); loadKpis(); }
  if (config.view === "intake" && intake) { show("intake"); intakeMap(); }
})();
