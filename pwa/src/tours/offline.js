// "Save for offline" for a guided tour: the tour's JSON (both languages), its images and its audio go
// into Cache Storage ('cx-saved-tours'), where the service worker answers from when the network is
// gone (sw.js), and where the tour screen reads audio from directly (a blob, so no range requests).
// What is saved, and how many bytes, is remembered in localStorage ('cx.savedTours').
import { API_BASE } from '../api'

export const SAVED_CACHE = 'cx-saved-tours'
const INDEX_KEY = 'cx.savedTours'
const LANGS = ['zh', 'en']

export function tourUrl(slug, lang) {
  return `${API_BASE}/tours/${encodeURIComponent(slug)}?lang=${lang}`
}

export function poiUrl(id, lang) {
  return `${API_BASE}/pois/${encodeURIComponent(id)}?lang=${lang}`
}

function readIndex() {
  try {
    return JSON.parse(localStorage.getItem(INDEX_KEY) || '{}') || {}
  } catch {
    return {}
  }
}

function writeIndex(index) {
  try {
    localStorage.setItem(INDEX_KEY, JSON.stringify(index))
  } catch {
    /* private mode: the cache still works for this visit */
  }
}

export function savedInfo(slug) {
  return readIndex()[slug] || null
}

export function offlineSupported() {
  return typeof caches !== 'undefined'
}

/** Every URL a saved tour needs: its JSON in both languages, then the media of both. */
function mediaOf(tours) {
  const urls = new Set()
  for (const tour of tours) {
    for (const img of tour.images || []) urls.add(img)
    for (const stop of tour.stops || []) {
      if (stop.audio_url) urls.add(stop.audio_url)
      for (const img of stop.images || []) urls.add(img)
    }
  }
  return [...urls]
}

/** Download and keep a tour; `progress(done, total)` is called as files arrive. Returns the index entry. */
export async function saveTour(slug, progress = () => {}) {
  const cache = await caches.open(SAVED_CACHE)
  let bytes = 0
  const tours = []
  for (const l of LANGS) {
    const url = tourUrl(slug, l)
    const res = await fetch(url, { headers: { Accept: 'application/json' } })
    if (!res.ok) throw new Error(`tour ${slug}: ${res.status}`)
    const blob = await res.clone().blob()
    bytes += blob.size
    await cache.put(url, res.clone())
    tours.push(await res.json())
  }
  // the stops' own pages (a plaque's QR code opens them), both languages
  for (const stop of tours[0].stops) {
    for (const l of LANGS) {
      const url = poiUrl(stop.poi.id, l)
      const res = await fetch(url, { headers: { Accept: 'application/json' } })
      if (!res.ok) throw new Error(`${url}: ${res.status}`)
      bytes += (await res.clone().blob()).size
      await cache.put(url, res)
    }
  }
  const media = mediaOf(tours)
  let done = 0
  progress(done, media.length)
  for (const url of media) {
    const res = await fetch(url)
    if (!res.ok) throw new Error(`${url}: ${res.status}`)
    bytes += (await res.clone().blob()).size
    await cache.put(url, res)
    progress(++done, media.length)
  }
  const files = media.length + LANGS.length * (1 + tours[0].stops.length)
  const entry = { slug, bytes, files, saved_at: new Date().toISOString() }
  const index = readIndex()
  index[slug] = entry
  writeIndex(index)
  return entry
}

export async function removeTour(slug) {
  const index = readIndex()
  delete index[slug]
  writeIndex(index)
  const cache = await caches.open(SAVED_CACHE)
  // what the tours still saved need (a POI or a file may belong to two tours)
  const keep = new Set()
  for (const other of Object.keys(index)) {
    for (const l of LANGS) {
      const res = await cache.match(tourUrl(other, l))
      if (!res) continue
      const tour = await res.json()
      for (const u of mediaOf([tour])) keep.add(new URL(u, location.origin).pathname)
      for (const stop of tour.stops) keep.add(`${API_BASE}/pois/${stop.poi.id}`)
    }
  }
  for (const request of await cache.keys()) {
    const path = new URL(request.url).pathname
    if (path === `${API_BASE}/tours/${slug}` || !keep.has(path)) await cache.delete(request)
  }
}

/** The saved tour's JSON, when the network can't give it. */
export async function savedTour(slug, lang) {
  if (!offlineSupported()) return null
  const res = await caches.match(tourUrl(slug, lang), { cacheName: SAVED_CACHE })
  return res ? res.json() : null
}

/** A URL the <audio> element can play: a blob of the saved file, else the network URL. */
export async function playableUrl(url) {
  if (!url || !offlineSupported()) return url
  const res = await caches.match(url, { cacheName: SAVED_CACHE })
  if (!res) return url
  return URL.createObjectURL(await res.blob())
}

/** Bytes all saved tours take (what the app shows), and the browser's own estimate of its storage. */
export async function storageUse() {
  const saved = Object.values(readIndex()).reduce((n, e) => n + (e.bytes || 0), 0)
  let usage = null
  try {
    usage = (await navigator.storage?.estimate?.())?.usage ?? null
  } catch {
    /* ignore */
  }
  return { saved, usage }
}

export function formatBytes(n) {
  if (n < 1024 * 1024) return `${Math.max(1, Math.round(n / 1024))} KB`
  const mb = n / (1024 * 1024)
  return `${mb.toFixed(mb < 10 ? 1 : 0)} MB`
}
