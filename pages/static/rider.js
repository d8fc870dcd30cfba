/* yizhan 驿站 — the riders' page: position, nearest open stations, map, navigation hand-off.
 * Every text from the data goes into the page as text (textContent), never as HTML. */
(function () {
  "use strict";

  var body = document.body;
  var config = JSON.parse(body.getAttribute("data-config"));
  var t = config.text;
  var list = document.getElementById("list");
  var statusBox = document.getElementById("status");
  var fallback = document.getElementById("fallback");
  var townSelect = document.getElementById("town");
  var hotline = document.getElementById("hotline");
  var state = {
    profile: config.profile,
    amenities: config.amenities.slice(),
    kinds: config.kinds.slice(),
    includeClosed: config.include_closed,
    position: null, // {lat, lon, coord}
    seq: 0,
    items: {}
  };
  var map = null;
  var layer = null;

  function el(tag, attrs, text) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (k) { node.setAttribute(k, attrs[k]); });
    if (text !== undefined && text !== null) { node.textContent = String(text); }
    return node;
  }

  function say(text) { statusBox.textContent = text || ""; }

  /* ---- the list ------------------------------------------------------------------------- */

  function link(app, href, label) {
    return el("a", { "data-app": app, href: href, target: "_blank", rel: "noopener noreferrer" }, label);
  }

  function fill(text, key, value) { return text.replace("{" + key + "}", String(value)); }

  function stationItem(s, far) {
    var li = el("li", {
      "class": far ? "station far" : "station",
      "data-station-id": s.id,
      "data-minutes": s.minutes,
      "data-open": s.open ? "true" : "false",
      "data-kind": s.kind
    });
    li.appendChild(el("span", { "class": "rank r" + s.rank, "aria-hidden": "true" }, s.rank));
    var main = el("div", { "class": "body" });
    main.appendChild(el("h2", { "class": "name" }, s.name));
    var meta = el("p", { "class": "meta" });
    meta.appendChild(el("b", { "class": "minutes" }, s.minutes + " " + t.minutes));
    meta.appendChild(document.createTextNode(" · "));
    meta.appendChild(el("span", { "class": "distance" }, s.distance_text));
    meta.appendChild(document.createTextNode(" · "));
    meta.appendChild(el("span", { "class": "state " + (s.open ? "open" : "closed") }, s.open_label));
    if (s.next_open) {
      meta.appendChild(document.createTextNode(" · "));
      meta.appendChild(el("span", { "class": "next" }, s.next_open));
    }
    main.appendChild(meta);
    var kind = el("p", { "class": "kind" }, s.kind_label);
    if (far) {
      kind.appendChild(document.createTextNode(" · "));
      kind.appendChild(el("span", { "class": "far-label" }, t.far));
    }
    main.appendChild(kind);
    if (s.address) { main.appendChild(el("p", { "class": "address-line" }, s.address)); }
    var am = el("ul", { "class": "amenities" });
    s.amenities.forEach(function (a) {
      var item = el("li", { "data-amenity": a.code });
      item.appendChild(el("span", { "aria-hidden": "true" }, a.icon));
      item.appendChild(document.createTextNode(a.label));
      am.appendChild(item);
    });
    main.appendChild(am);
    var word = el("p", { "class": "word" });
    if (s.word && s.word.confirmed) { word.appendChild(el("span", { "class": "confirmed" }, s.word.confirmed)); }
    if (s.word && s.word.reports) { word.appendChild(el("span", { "class": "reports" }, s.word.reports)); }
    main.appendChild(word);

    var actions = el("div", { "class": "actions" });
    var nav = el("details", { "class": "nav" });
    nav.appendChild(el("summary", { "data-action": "navigate" }, t.navigate));
    var sheet = el("div", { "class": "sheet" });
    s.nav.forEach(function (n) { sheet.appendChild(link(n.app, n.href, n.label)); });
    if (s.phone) { sheet.appendChild(el("a", { "data-app": "tel", href: "tel:" + s.phone }, t.call + " " + s.phone)); }
    nav.appendChild(sheet);
    actions.appendChild(nav);

    var more = el("details", { "class": "more" });
    more.appendChild(el("summary", { "data-action": "details" }, t.details));
    var dl = el("dl", { "class": "sheet" });
    if (s.address) { dl.appendChild(el("dt", {}, t.address)); dl.appendChild(el("dd", { "class": "address" }, s.address)); }
    dl.appendChild(el("dt", {}, t.hours));
    dl.appendChild(el("dd", { "class": "hours" }, s.hours));
    if (s.phone) {
      dl.appendChild(el("dt", {}, t.call));
      var dd = el("dd");
      dd.appendChild(el("a", { href: "tel:" + s.phone }, s.phone));
      dl.appendChild(dd);
    }
    if (s.photo_url) {
      var ph = el("dd");
      ph.appendChild(el("img", { "class": "photo", loading: "lazy", src: s.photo_url, alt: t.photo }));
      dl.appendChild(ph);
    }
    if (s.word && s.word.checked) { dl.appendChild(el("dd", { "class": "checked" }, s.word.checked)); }
    if (s.synthetic) { dl.appendChild(el("dd", { "class": "synthetic" }, t.synthetic)); }
    more.appendChild(dl);
    actions.appendChild(more);
    var report = el("details", { "class": "report" });
    report.appendChild(el("summary", { "data-action": "report", "data-station": s.id }, t.report));
    report.appendChild(el("div", { "class": "sheet", "data-report": s.id }));
    actions.appendChild(report);
    actions.appendChild(el("button", { type: "button", "class": "confirm", "data-action": "confirm", "data-station": s.id }, t.confirm));
    main.appendChild(actions);
    li.appendChild(main);
    return li;
  }

  function showList(items, far) {
    while (list.firstChild) { list.removeChild(list.firstChild); }
    state.items = {};
    items.forEach(function (s) { state.items[s.id] = s; list.appendChild(stationItem(s, far)); });
  }

  /* ---- riders' word: report a problem, confirm "open and fine" ---------------------------- */

  function post(url, body) {
    return fetch(url, {
      method: "POST",
      headers: { "Content-Type": "application/json", Accept: "application/json" },
      body: JSON.stringify(body || {})
    });
  }

  function reportForm(sheet, s) {
    var form = el("form", { "class": "report-form", novalidate: "novalidate" });
    var field = el("fieldset");
    field.appendChild(el("legend", {}, t.report_what));
    config.problems.forEach(function (p, i) {
      var label = el("label", { "class": "choice" });
      var radio = el("input", { type: "radio", name: "problem", value: p.code });
      if (i === 0) { radio.checked = true; }
      label.appendChild(radio);
      label.appendChild(document.createTextNode(p.label));
      field.appendChild(label);
    });
    form.appendChild(field);
    var which = el("label", { "class": "amenity-pick", hidden: "hidden" }, t.report_amenity);
    var select = el("select", { name: "amenity" });
    (s.amenities || []).forEach(function (a) { select.appendChild(el("option", { value: a.code }, a.label)); });
    which.appendChild(select);
    form.appendChild(which);
    var words = el("label", { "class": "words" }, t.report_text);
    words.appendChild(el("textarea", { name: "text", maxlength: "1000", rows: "3" }));
    form.appendChild(words);
    var snap = el("label", { "class": "words" }, t.report_photo);
    snap.appendChild(el("input", { type: "file", name: "photo", accept: "image/*", capture: "environment" }));
    form.appendChild(snap);
    form.appendChild(el("button", { type: "submit", "class": "send" }, t.report_send));
    var answer = el("p", { "class": "answer", role: "status" });
    form.appendChild(answer);
    form.addEventListener("change", function () {
      which.hidden = form.elements.problem.value !== "amenity_broken" || !select.options.length;
    });
    form.addEventListener("submit", function (e) {
      e.preventDefault();
      var body = { problem: form.elements.problem.value };
      if (!which.hidden) { body.amenity = select.value; }
      var text = form.elements.text.value.trim();
      if (text) { body.text = text; }
      form.querySelector(".send").disabled = true;
      post("/v1/stations/" + s.id + "/reports", body)
        .then(function (r) {
          if (r.status === 429) { throw new Error("busy"); }
          if (r.status !== 201) { throw new Error("failed"); }
          return r.json();
        })
        .then(function (made) {
          answer.textContent = fill(t.report_sent, "reference", made.case.reference);
          form.setAttribute("data-sent", made.case.reference);
          var file = form.elements.photo.files && form.elements.photo.files[0];
          if (file) {
            shrink(file).then(function (blob) {
              return fetch("/v1/stations/" + s.id + "/reports/" + made.report_id + "/photo", {
                method: "PUT", headers: { "Content-Type": blob.type, "X-Report-Key": made.photo_key }, body: blob
              });
            }).then(function (r) {
              form.setAttribute("data-photo", r.status === 201 ? "sent" : "failed");
              if (r.status === 201) { answer.textContent += " " + t.photo_sent; }
            }).catch(function () { form.setAttribute("data-photo", "failed"); });
          }
          var count = ((s.word && s.word.reports_7d) || 0) + 1;
          s.word = s.word || {};
          s.word.reports_7d = count;
          var card = list.querySelector('[data-station-id="' + s.id + '"] .word');
          var shown = card && card.querySelector(".reports");
          if (card && !shown) { shown = el("span", { "class": "reports" }); card.appendChild(shown); }
          if (shown) { shown.textContent = fill(t.reports_week, "n", count); }
        })
        .catch(function (err) {
          answer.textContent = err.message === "busy" ? t.report_busy : t.report_failed;
          form.querySelector(".send").disabled = false;
        });
    });
    sheet.appendChild(form);
  }

  /* a phone's photo made small enough to send on a weak signal (JPEG, 1280 px at most) */
  function shrink(file) {
    return new Promise(function (resolve, reject) {
      var img = new Image();
      img.onload = function () {
        var scale = Math.min(1, 1280 / Math.max(img.width, img.height));
        var canvas = document.createElement("canvas");
        canvas.width = Math.round(img.width * scale);
        canvas.height = Math.round(img.height * scale);
        canvas.getContext("2d").drawImage(img, 0, 0, canvas.width, canvas.height);
        URL.revokeObjectURL(img.src);
        canvas.toBlob(function (blob) { if (blob) { resolve(blob); } else { reject(new Error("photo")); } }, "image/jpeg", 0.8);
      };
      img.onerror = function () { reject(new Error("photo")); };
      img.src = URL.createObjectURL(file);
    });
  }

  list.addEventListener("click", function (e) {
    var target = e.target.closest ? e.target.closest("[data-action]") : null;
    if (!target) { return; }
    var s = state.items[target.getAttribute("data-station")];
    if (!s) { return; }
    if (target.getAttribute("data-action") === "report") {
      var sheet = list.querySelector('[data-report="' + s.id + '"]');
      if (sheet && !sheet.firstChild) { reportForm(sheet, s); }
    } else if (target.getAttribute("data-action") === "confirm") {
      target.disabled = true;
      post("/v1/stations/" + s.id + "/confirmations")
        .then(function (r) { target.textContent = r.status === 201 ? t.confirmed : t.report_failed; })
        .catch(function () { target.textContent = t.report_failed; });
    }
  });

  /* ---- the map --------------------------------------------------------------------------- */

  function ensureMap() {
    if (map || typeof L === "undefined") { return map; }
    var own = config.basemap && window.yizhanBasemap;
    map = L.map("map", { zoomControl: true, attributionControl: config.tiles === "gaode" || !!own, maxZoom: 18 });
    if (config.tiles === "gaode") {
      L.tileLayer(config.tile_url, { subdomains: "1234", maxZoom: 18, attribution: "© 高德 AutoNavi" }).addTo(map);
    } else if (own) {
      window.yizhanBasemap(map, config.basemap);
    }
    if (config.view) { map.setView([config.view[0], config.view[1]], config.view[2]); }
    else { map.setView([22.4, 112.75], 9); }
    if (!own) { /* the own basemap draws the districts itself */
      fetch("/rider/boundaries.json" + (config.tiles === "gaode" ? "?tiles=gaode" : ""))
        .then(function (r) { return r.ok ? r.json() : null; })
        .then(function (fc) {
          if (fc) {
            L.geoJSON(fc, { style: { color: "#555", weight: 1.5, fill: false }, interactive: false }).addTo(map);
          }
        })
        .catch(function () { /* the outline is decoration */ });
    }
    map.on("click", function (e) {
      locateAt(e.latlng.lat, e.latlng.lng, config.tiles === "gaode" ? "gcj02" : "wgs84");
    });
    return map;
  }

  function drawMap(answer) {
    if (!ensureMap()) { return; }
    if (layer) { layer.remove(); }
    layer = L.featureGroup().addTo(map);
    var items = answer.items || [];
    items.slice().reverse().forEach(function (s) {
      L.polyline(s.route, { color: s.colour, weight: 5, opacity: 0.85, className: "route" }).addTo(layer);
    });
    items.forEach(function (s) {
      var pin = L.marker([s.lat, s.lon], {
        icon: L.divIcon({ className: "pin r" + s.rank, html: String(s.rank), iconSize: [30, 30] }),
        title: s.name,
        keyboard: true
      }).addTo(layer);
      pin.on("click", function () {
        var item = list.querySelector('[data-station-id="' + s.id + '"]');
        if (item) { item.scrollIntoView({ behavior: "smooth", block: "center" }); item.classList.add("picked"); }
      });
    });
    if (answer.origin) {
      L.circleMarker([answer.origin.lat, answer.origin.lon], {
        radius: 8, color: "#fff", weight: 3, fillColor: "#1565c0", fillOpacity: 1, className: "me"
      }).addTo(layer);
    }
    var bounds = layer.getBounds();
    map.invalidateSize(false); // the layout may have sized the map after Leaflet started
    if (bounds.isValid()) { map.fitBounds(bounds, { padding: [24, 24], maxZoom: 16, animate: false }); }
  }

  /* ---- asking --------------------------------------------------------------------------- */

  function params(pos) {
    var p = new URLSearchParams();
    p.set("lat", pos.lat.toFixed(6));
    p.set("lon", pos.lon.toFixed(6));
    p.set("coord", pos.coord);
    p.set("profile", state.profile);
    p.set("lang", config.lang);
    if (config.tiles === "gaode") { p.set("tiles", "gaode"); }
    if (state.includeClosed) { p.set("include_closed", "1"); }
    state.amenities.forEach(function (a) { p.append("amenity", a); });
    state.kinds.forEach(function (k) { p.append("kind", k); });
    return p.toString();
  }

  /* ---- the last list, kept for a weak signal ---------------------------------------------- */

  var LAST = "yizhan.rider.last";

  function remember(answer) {
    try {
      localStorage.setItem(LAST, JSON.stringify({ at: Date.now(), lang: config.lang, answer: answer }));
    } catch (e) { /* private mode or full: the page works without it */ }
  }

  function recall() {
    try {
      var kept = JSON.parse(localStorage.getItem(LAST) || "null");
      return kept && kept.answer && kept.lang === config.lang ? kept : null;
    } catch (e) { return null; }
  }

  function clock(ms) {
    var d = new Date(ms);
    var pad = function (n) { return (n < 10 ? "0" : "") + n; };
    var today = new Date().toDateString() === d.toDateString();
    return (today ? "" : (d.getMonth() + 1) + "/" + d.getDate() + " ") + pad(d.getHours()) + ":" + pad(d.getMinutes());
  }

  /* the last list, marked with its time; whether there was one */
  function showLast(text) {
    var kept = recall();
    if (!kept) { return false; }
    showList(kept.answer.items || [], kept.answer.beyond);
    say(fill(text, "time", clock(kept.at)));
    list.setAttribute("data-stale", String(kept.at));
    drawMap(kept.answer);
    return true;
  }

  function show(answer, started) {
    var items = answer.items || [];
    list.removeAttribute("data-stale");
    remember(answer);
    showList(items, answer.beyond);
    if (answer.outside) {
      say(items.length ? t.outside : t.outside + " " + t.no_road);
      state.position = { lat: answer.suggested.lat, lon: answer.suggested.lon, coord: "wgs84" };
    } else if (answer.beyond) {
      say(fill(t.beyond, "minutes", answer.cutoff_min));
    } else if (!items.length) {
      say(t.none);
    } else {
      say(answer.snapped_m ? fill(t.snapped, "metres", answer.snapped_m) : "");
    }
    hotline.hidden = !answer.beyond;
    /* far from any station, out of the region or off the roads: the town picker stays offered */
    fallback.hidden = !(answer.outside || answer.beyond || !items.length);
    if (started !== undefined) { list.setAttribute("data-list-ms", String(Math.round(performance.now() - started))); }
    list.setAttribute("data-ready", "true");
    drawMap(answer);
  }

  function locateAt(lat, lon, coord) {
    state.position = { lat: lat, lon: lon, coord: coord };
    var seq = ++state.seq;
    var started = performance.now();
    list.setAttribute("data-ready", "false");
    fetch("/rider/stations?" + params(state.position), { headers: { Accept: "application/json" } })
      .then(function (r) {
        if (r.status === 422) { throw new Error("no_road"); }
        if (!r.ok) { throw new Error("error"); }
        return r.json();
      })
      .then(function (answer) { if (seq === state.seq) { show(answer, started); } })
      .catch(function (e) {
        if (seq !== state.seq) { return; }
        if (e.message !== "no_road" && showLast(t.offline)) {
          fallback.hidden = false;
          list.setAttribute("data-ready", "true");
          return;
        }
        say(e.message === "no_road" ? t.no_road : t.error);
        showList([]);
        fallback.hidden = false;
        list.setAttribute("data-ready", "true");
      });
  }

  function askBrowser() {
    say(t.locating);
    if (!navigator.geolocation) { return offerFallback(); }
    navigator.geolocation.getCurrentPosition(
      function (p) { fallback.hidden = true; locateAt(p.coords.latitude, p.coords.longitude, "wgs84"); },
      offerFallback,
      { enableHighAccuracy: true, timeout: 10000, maximumAge: 60000 }
    );
  }

  function offerFallback() {
    say(t.denied);
    fallback.hidden = false;
    ensureMap();
  }

  /* ---- chips and controls --------------------------------------------------------------- */

  function toggle(listName, code, on) {
    var values = state[listName];
    var i = values.indexOf(code);
    if (on && i < 0) { values.push(code); }
    if (!on && i >= 0) { values.splice(i, 1); }
  }

  document.querySelectorAll("[data-chip]").forEach(function (chip) {
    chip.addEventListener("click", function () {
      var kind = chip.getAttribute("data-chip");
      var code = chip.getAttribute("data-code");
      var on = chip.getAttribute("aria-pressed") !== "true";
      if (kind === "profile") {
        if (!on) { return; }
        pickProfile(code);
      } else if (kind === "open") {
        state.includeClosed = !on;
      } else if (kind === "amenity") {
        toggle("amenities", code, on);
      } else if (kind === "kind") {
        toggle("kinds", code, on);
        if (code === "driver_home") { offerDriving(on); }
      }
      chip.setAttribute("aria-pressed", on ? "true" : "false");
      if (state.position) { locateAt(state.position.lat, state.position.lon, state.position.coord); }
    });
  });

  function pickProfile(code) {
    state.profile = code;
    document.querySelectorAll('[data-chip="profile"]').forEach(function (c) {
      c.setAttribute("aria-pressed", c.getAttribute("data-code") === code ? "true" : "false");
    });
  }

  /* drivers' homes are for drivers: their chip offers (and picks) driving times (by truck
     where the region's roads say something of trucks, else by car) */
  function offerDriving(on) {
    var drive = document.querySelector('[data-chip="profile"][data-driving]');
    if (!drive) { return; }
    var code = drive.getAttribute("data-code");
    drive.hidden = !on;
    if (on) { pickProfile(code); } else if (state.profile === code) { pickProfile("e_bike"); }
  }

  /* a row of chips wider than the screen shows that more follow (until scrolled to its end) */
  document.querySelectorAll(".chips").forEach(function (row) {
    function mark() { row.setAttribute("data-more", row.scrollLeft + row.clientWidth < row.scrollWidth - 4 ? "true" : "false"); }
    row.addEventListener("scroll", mark, { passive: true });
    window.addEventListener("resize", mark);
    mark();
  });

  config.towns.forEach(function (town, i) {
    townSelect.appendChild(el("option", { value: String(i) }, town.district + " · " + town.name));
  });
  townSelect.addEventListener("change", function () {
    var town = config.towns[Number(townSelect.value)];
    if (town) { locateAt(town.lat, town.lon, "wgs84"); }
  });
  document.querySelector('[data-action="locate"]').addEventListener("click", askBrowser);

  /* ---- start ---------------------------------------------------------------------------- */

  if (config.initial) {
    (config.initial.items || []).forEach(function (s) { state.items[s.id] = s; });
    if (config.initial.wgs84) {
      state.position = { lat: config.initial.wgs84.lat, lon: config.initial.wgs84.lon, coord: "wgs84" };
    }
    if (config.initial.outside) {
      state.position = { lat: config.initial.suggested.lat, lon: config.initial.suggested.lon, coord: "wgs84" };
    }
    list.setAttribute("data-ready", "true");
    drawMap(config.initial);
  } else if (statusBox.textContent.trim() && statusBox.textContent.trim() !== t.locating) {
    offerFallback();
  } else {
    ensureMap();
    askBrowser();
    showLast(t.last_list); /* the last list at once, while the position and a new list come */
  }

  /* installable, and the page opens with a weak signal (not inside another site's frame) */
  if ("serviceWorker" in navigator && !body.classList.contains("embed")) {
    navigator.serviceWorker.register("/rider-sw.js", { scope: "/rider" }).catch(function () { /* optional */ });
  }
})();
