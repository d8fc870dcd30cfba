/* yizhan 驿站 — the riders' page's service worker: the page and its files stay at hand, so
 * with a weak signal (or none) the page still opens and shows the last list it had.
 * The list itself is kept by the page (localStorage, with its time); this worker keeps the
 * page's shell and its content-hashed files. */
"use strict";

var VERSION = {{ version|tojson }};
var SHELL = "yizhan-rider-" + VERSION;
var FILES = {{ files|tojson }};
var PAGES = {{ pages|tojson }};

self.addEventListener("install", function (event) {
  event.waitUntil(
    caches.open(SHELL)
      .then(function (cache) { return cache.addAll(FILES.concat(PAGES)); })
      .then(function () { return self.skipWaiting(); })
  );
});

self.addEventListener("activate", function (event) {
  event.waitUntil(
    caches.keys()
      .then(function (keys) {
        return Promise.all(keys.filter(function (k) {
          return k.indexOf("yizhan-rider-") === 0 && k !== SHELL;
        }).map(function (k) { return caches.delete(k); }));
      })
      .then(function () { return self.clients.claim(); })
  );
});

function shellFor(url) {
  var lang = url.searchParams.get("lang") === "en" ? "en" : "zh";
  return "/rider?lang=" + lang;
}

self.addEventListener("fetch", function (event) {
  var request = event.request;
  var url = new URL(request.url);
  if (request.method !== "GET" || url.origin !== self.location.origin) { return; }
  if (request.mode === "navigate" && url.pathname === "/rider") {
    /* the network first (fresh list); without it, the page's shell in the rider's language */
    event.respondWith(fetch(request).catch(function () {
      return caches.match(shellFor(url)).then(function (hit) {
        return hit || Response.error();
      });
    }));
    return;
  }
  if (url.pathname.indexOf("/static/") === 0) {
    /* content-hashed names never change: the kept copy is the right one */
    event.respondWith(caches.match(request).then(function (hit) {
      return hit || fetch(request);
    }));
  }
});
