// Content pictures in the size a screen shows: the server serves every /media/ picture at 320, 640, 960 and
// 1280 px wide (WebP, /media/w/{width}/…; backend/media/pictures.py), so an <img> names them in `srcset` and
// the browser picks by its `sizes` and the phone's pixel density. Our illustrations (content/media/
// illustrations/) stand in for photographs until the city loads its own, and say so.

export const WIDTHS = [320, 640, 960, 1280]
const MEDIA = /^\/media\/(?!w\/)(.+\.(?:webp|png|jpe?g))$/i

/** `srcset` for a /media/ picture ('' for anything else: an https: picture is shown as it is). */
export function srcsetFor(url) {
  const m = MEDIA.exec(url || '')
  if (!m) return ''
  return WIDTHS.map((w) => `/media/w/${w}/${m[1]} ${w}w`).join(', ')
}

/** A small version for a thumbnail or a placeholder (the 320 px one), or the picture itself. */
export function smallFor(url) {
  const m = MEDIA.exec(url || '')
  return m ? `/media/w/320/${m[1]}` : url || ''
}

/** Whether the picture is one of our illustrations (drawn, not photographed). */
export function isIllustration(url) {
  return /^\/media\/(?:w\/\d+\/)?illustrations\//.test(url || '')
}

/** The illustration of an event category, for events that come without a picture. */
export function eventCover(event) {
  return event?.image || (event?.category ? `/media/illustrations/events/${event.category}.webp` : '')
}
