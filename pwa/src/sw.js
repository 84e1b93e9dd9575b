/* Changxiang service worker (Workbox, built by vite-plugin-pwa with the injectManifest strategy).
 *
 * - precaches the app shell (index.html, JS, CSS, icons, offline.html)
 * - client-side routes are answered with the precached index.html, except server paths
 * - GET /api/v1/venues* is NetworkFirst, so the venue list and details seen once work offline
 * - GET /api/v1/reservations* and /api/v1/me/notifications are NetworkFirst too ("my bookings"
 *   offline after one visit); the app deletes that cache at log-in and log-out. Writes (POST) are
 *   never cached: only GET requests match any route here.
 * - GET /api/v1/amenities* (the finder) is NetworkFirst: the last results show offline
 * - GET /api/v1/events* and /api/v1/articles* (the calendar, guides) are NetworkFirst too
 * - /admin/ (Piccolo Admin, marketers) is a server path, never the app shell
 * - a navigation that can be answered neither from the network nor the cache gets offline.html
 * - guided tours, POIs and exhibitions (GET /api/v1/tours*, /pois*, /exhibitions*) are NetworkFirst,
 *   falling back to any cache, including the tours a visitor saved for offline ('cx-saved-tours',
 *   filled by the app: src/tours/offline.js); /media/* (narration audio, exhibition images) is
 *   answered from a saved copy first, then the network (and kept in 'cx-media')
 * - the deep-zoom viewer's script (not precached: most visitors never open it) and the IIIF tiles it shows
 *   (GET /iiif/…, backend/exhibitions/image_service.py) are kept on first use, cache first
 */
import { clientsClaim } from 'workbox-core'
import {
  precacheAndRoute,
  cleanupOutdatedCaches,
  createHandlerBoundToURL,
  matchPrecache,
} from 'workbox-precaching'
import { registerRoute, NavigationRoute, setCatchHandler } from 'workbox-routing'
import { CacheFirst, NetworkFirst, NetworkOnly, StaleWhileRevalidate } from 'workbox-strategies'
import { ExpirationPlugin } from 'workbox-expiration'
import { CacheableResponsePlugin } from 'workbox-cacheable-response'

// registerType "autoUpdate": a new worker takes over at once.
self.skipWaiting()
clientsClaim()

precacheAndRoute(self.__WB_MANIFEST)
cleanupOutdatedCaches()

// Paths the server answers itself; never replace them with the app shell.
const SERVER_PATHS = [/^\/api\//, /^\/schema/, /^\/healthz/, /^\/readyz/, /^\/metrics/, /^\/admin(\/|$)/, /^\/iiif\//]

registerRoute(new NavigationRoute(createHandlerBoundToURL('index.html'), { denylist: SERVER_PATHS }))

// Venue list and details: fresh when online, the last answer when offline.
registerRoute(
  ({ url, request }) =>
    request.method === 'GET' &&
    url.origin === self.location.origin &&
    url.pathname.startsWith('/api/v1/venues'),
  new NetworkFirst({
    cacheName: 'cx-api-venues',
    networkTimeoutSeconds: 6,
    plugins: [
      new CacheableResponsePlugin({ statuses: [200] }),
      new ExpirationPlugin({ maxEntries: 300, maxAgeSeconds: 14 * 24 * 3600 }),
    ],
  }),
)

// My bookings and messages: the holder's own data, fresh when online, the last answer offline.
// A short network timeout would show stale bookings on a slow line, so wait longer than for venues.
registerRoute(
  ({ url, request }) =>
    request.method === 'GET' &&
    url.origin === self.location.origin &&
    (url.pathname === '/api/v1/reservations' ||
      url.pathname.startsWith('/api/v1/reservations/') ||
      url.pathname === '/api/v1/me/notifications'),
  new NetworkFirst({
    cacheName: 'cx-api-reservations',
    networkTimeoutSeconds: 10,
    plugins: [
      new CacheableResponsePlugin({ statuses: [200] }),
      new ExpirationPlugin({ maxEntries: 100, maxAgeSeconds: 30 * 24 * 3600 }),
    ],
  }),
)

// The finder (/nearby): toilets, chargers and car parks near a point. Fresh when online (charger
// status changes); offline, the last answer for the same query (position rounded by the app).
registerRoute(
  ({ url, request }) =>
    request.method === 'GET' && url.origin === self.location.origin && url.pathname.startsWith('/api/v1/amenities'),
  new NetworkFirst({
    cacheName: 'cx-api-amenities',
    networkTimeoutSeconds: 6,
    plugins: [
      new CacheableResponsePlugin({ statuses: [200] }),
      new ExpirationPlugin({ maxEntries: 60, maxAgeSeconds: 7 * 24 * 3600 }),
    ],
  }),
)

// The event calendar and the travel guides: fresh when online, the last answer offline.
registerRoute(
  ({ url, request }) =>
    request.method === 'GET' &&
    url.origin === self.location.origin &&
    (url.pathname.startsWith('/api/v1/events') || url.pathname.startsWith('/api/v1/articles')) &&
    !url.pathname.endsWith('.ics'),
  new NetworkFirst({
    cacheName: 'cx-api-events',
    networkTimeoutSeconds: 6,
    plugins: [
      new CacheableResponsePlugin({ statuses: [200] }),
      new ExpirationPlugin({ maxEntries: 80, maxAgeSeconds: 7 * 24 * 3600 }),
    ],
  }),
)

// The gate scanner's WebAssembly QR decoder (only where the browser has no BarcodeDetector): not
// precached for every visitor; kept on first use (hashed name, so cache-first) for offline gates.
registerRoute(
  ({ url, request }) =>
    request.method === 'GET' && url.origin === self.location.origin && /^\/assets\/.+\.wasm$/.test(url.pathname),
  new CacheFirst({ cacheName: 'cx-wasm', plugins: [new CacheableResponsePlugin({ statuses: [200] }), new ExpirationPlugin({ maxEntries: 4 })] }),
)

// The deep-zoom viewer's script (hashed name) and the exhibitions' IIIF tiles and info.json (a picture is never
// replaced under the same identifier): cache first, a bounded number kept.
registerRoute(
  ({ url, request }) =>
    request.method === 'GET' && url.origin === self.location.origin && /^\/assets\/openseadragon-[\w-]+\.js$/.test(url.pathname),
  new CacheFirst({ cacheName: 'cx-viewer', plugins: [new CacheableResponsePlugin({ statuses: [200] }), new ExpirationPlugin({ maxEntries: 2 })] }),
)
registerRoute(
  ({ url, request }) => request.method === 'GET' && url.origin === self.location.origin && url.pathname.startsWith('/iiif/'),
  new CacheFirst({
    cacheName: 'cx-iiif',
    plugins: [new CacheableResponsePlugin({ statuses: [200] }), new ExpirationPlugin({ maxEntries: 400, maxAgeSeconds: 30 * 86400 })],
  }),
)

// Guided tours, readable buildings and exhibitions: fresh when online; offline, the last answer or
// the copy the visitor saved for offline (any cache: 'cx-saved-tours' is written by the app).
const GUIDE_PATHS = ['/api/v1/tours', '/api/v1/pois/', '/api/v1/exhibitions']
registerRoute(
  ({ url, request }) =>
    request.method === 'GET' && url.origin === self.location.origin && GUIDE_PATHS.some((p) => url.pathname.startsWith(p)),
  async ({ request }) => {
    try {
      const res = await fetch(request)
      if (res.ok) {
        const cache = await caches.open('cx-api-guides')
        await cache.put(request, res.clone())
      }
      return res
    } catch (err) {
      const hit = await caches.match(request, { ignoreVary: true })
      if (hit) return hit
      throw err
    }
  },
)

// Tour audio and exhibition images: a saved copy first (it never changes under the same name), else
// the network. Range requests (audio seeking) go straight to the network when nothing is saved.
registerRoute(
  ({ url, request }) => request.method === 'GET' && url.origin === self.location.origin && url.pathname.startsWith('/media/'),
  async ({ request }) => {
    const hit = await caches.match(request.url, { ignoreVary: true })
    if (hit && !request.headers.has('range')) return hit
    try {
      const res = await fetch(request)
      if (res.status === 200 && request.destination === 'image') {
        const cache = await caches.open('cx-media')
        await cache.put(request, res.clone())
      }
      return res
    } catch (err) {
      if (hit) return hit
      throw err
    }
  },
)

// Venue photos and other same-origin media.
registerRoute(
  ({ url, request }) => request.destination === 'image' && url.origin === self.location.origin,
  new StaleWhileRevalidate({
    cacheName: 'cx-images',
    plugins: [
      new CacheableResponsePlugin({ statuses: [200] }),
      new ExpirationPlugin({ maxEntries: 200, maxAgeSeconds: 30 * 24 * 3600 }),
    ],
  }),
)

// Other navigations (the server paths above): network only, so that they can fail into
// the catch handler below when offline.
registerRoute(({ request }) => request.mode === 'navigate', new NetworkOnly())

setCatchHandler(async ({ request }) => {
  if (request.mode === 'navigate' || request.destination === 'document') {
    const page = await matchPrecache('offline.html')
    if (page) return page
  }
  return Response.error()
})
