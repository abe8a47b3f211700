/* The teacher app's service worker: the page and its assets are kept on the phone, so /guru opens
 * with no signal (its script then draws the last known offers and week from the phone's storage).
 * API calls and the live connection are never answered from here. */
"use strict";
const CACHE = "guru-online-v2"; // a new name when the scripts must change together
const SHELL = [
  "/guru",
  "/static/pages/css/pages.css",
  "/static/pages/js/common.js",
  "/static/pages/js/teacher.js",
  "/static/pages/vendor/socket.io-4.8.1.min.js",
  "/static/pages/icons/icon.svg",
  "/guru/manifest.webmanifest",
];

self.addEventListener("install", (event) => {
  event.waitUntil(caches.open(CACHE).then((cache) => cache.addAll(SHELL)).then(() => self.skipWaiting()));
});

self.addEventListener("activate", (event) => {
  event.waitUntil(
    caches.keys()
      .then((names) => Promise.all(names.filter((n) => n !== CACHE).map((n) => caches.delete(n))))
      .then(() => self.clients.claim()),
  );
});

self.addEventListener("fetch", (event) => {
  const url = new URL(event.request.url);
  if (event.request.method !== "GET" || url.origin !== self.location.origin) return;
  if (url.pathname === "/guru" || url.pathname === "/guru/manifest.webmanifest") {
    // The page: fresh when there is signal (and kept), the kept copy when there is none.
    event.respondWith(
      fetch(event.request)
        .then((response) => {
          if (response.ok && !response.redirected) {
            const copy = response.clone();
            caches.open(CACHE).then((cache) => cache.put(url.pathname, copy));
          }
          return response;
        })
        .catch(() => caches.match(url.pathname)),
    );
  } else if (url.pathname.startsWith("/static/pages/")) {
    // Assets: the kept copy at once, refreshed behind it.
    event.respondWith(
      caches.match(url.pathname).then((kept) => {
        const fresh = fetch(event.request).then((response) => {
          if (response.ok) { const copy = response.clone(); caches.open(CACHE).then((cache) => cache.put(url.pathname, copy)); }
          return response;
        }).catch(() => kept);
        return kept || fresh;
      }),
    );
  }
});
