/* The walker page's service worker (scope /w/): the page opens without signal.

   - The walker's page (/w/<token>) and its small map: from the network, kept for later; without
     signal, the kept copy. The page then shows the last known progress and the next point, and
     queues check-ins and an SOS in the phone's storage until the signal returns (walker.js).
   - Scripts, styles, Leaflet: their URLs carry a content hash, so a kept copy is never stale.
   - The API (/api/...) is never answered from here: an answer must come from the server. */
"use strict";
var CACHE = "rw-walker-v1";

self.addEventListener("install", function () { self.skipWaiting(); });
self.addEventListener("activate", function (event) {
  event.waitUntil(caches.keys().then(function (names) {
    return Promise.all(names.filter(function (n) { return n !== CACHE; }).map(function (n) { return caches.delete(n); }));
  }).then(function () { return self.clients.claim(); }));
});

function kept(request) {
  return caches.match(request, { ignoreSearch: true, ignoreVary: true });
}

function networkFirst(request) {
  return fetch(request).then(function (response) {
    if (response.ok) {
      var copy = response.clone();
      var key = new URL(request.url);
      key.search = "";
      caches.open(CACHE).then(function (cache) { cache.put(key.href, copy); });
    }
    return response;
  }).catch(function () {
    return kept(request).then(function (hit) { return hit || Response.error(); });
  });
}

function cacheFirst(request) {
  return caches.match(request).then(function (hit) {
    return hit || fetch(request).then(function (response) {
      if (response.ok) {
        var copy = response.clone();
        caches.open(CACHE).then(function (cache) { cache.put(request, copy); });
      }
      return response;
    });
  });
}

/* The page names what it needs to open again: itself, its map, its script and style. */
self.addEventListener("message", function (event) {
  var data = event.data || {};
  if (data.type !== "rw-keep" || !Array.isArray(data.urls)) return;
  event.waitUntil(caches.open(CACHE).then(function (cache) {
    return Promise.all(data.urls.map(function (u) {
      var url = new URL(u, location.origin);
      if (url.origin !== location.origin) return null;
      var key = /^\/w\//.test(url.pathname) ? url.origin + url.pathname : url.href;
      return fetch(url.href).then(function (r) {
        if (!r.ok) return null;
        var kept = cache.put(key, r.clone());
        if (!/\/map$/.test(url.pathname)) return kept;
        /* the map's own scripts and styles (Leaflet from /vendor/), so it draws offline too */
        return r.text().then(function (html) {
          var found = html.match(/(?:src|href)="\/(?:vendor|static)\/[^"]+"/g) || [];
          return Promise.all([kept].concat(found.map(function (attr) {
            var sub = attr.slice(attr.indexOf('"') + 1, -1);
            return cache.match(sub).then(function (hit) { return hit || cache.add(sub); });
          })));
        });
      }).catch(function () {});
    }));
  }));
});

self.addEventListener("fetch", function (event) {
  var request = event.request;
  var url = new URL(request.url);
  if (request.method !== "GET" || url.origin !== location.origin) return;
  if (/^\/w\/[^/]+(\/map)?$/.test(url.pathname) && url.pathname !== "/w/sw.js") {
    event.respondWith(networkFirst(request));
  } else if (url.pathname.indexOf("/static/") === 0 || url.pathname.indexOf("/vendor/") === 0) {
    event.respondWith(cacheFirst(request));
  }
});
