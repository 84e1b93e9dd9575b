// Small pure helpers of the help screens (unit-tested in tests/unit/cases.test.js).

export const EMERGENCY = [
  { number: '110', key: 'help.call110' },
  { number: '120', key: 'help.call120' },
]

/** A tel: link for a phone number as venues list it ("0519-85165089", "400-188-0005"). */
export function telHref(phone) {
  const digits = String(phone || '').replace(/[^\d+]/g, '')
  return digits ? `tel:${digits}` : ''
}

const TAG = { open: 'warning', acknowledged: 'primary', escalated: 'danger', resolved: 'success', closed: 'default' }

/** The Vant tag type of a status. */
export function statusTag(status) {
  return TAG[status] || 'default'
}

/** The moves a viewer may make from `status` (the server decides; this only shows the buttons). */
export function nextMoves(status, { handler, mine }) {
  const moves = []
  if (handler) {
    if (status === 'open') moves.push('acknowledged', 'escalated')
    if (status === 'acknowledged') moves.push('resolved', 'escalated')
    if (status === 'escalated') moves.push('acknowledged', 'resolved')
  }
  if ((handler || mine) && status === 'resolved') moves.push('closed')
  return moves
}

/** Whether the signed-in user handles cases (staff, governance, admin). */
export function isHandler(who) {
  return !!who && (who.roles || []).some((r) => r === 'staff' || r === 'governance' || r === 'admin')
}

/** Minutes left to a deadline (negative when past), from ISO strings. */
export function minutesLeft(dueIso, nowMs = Date.now()) {
  return Math.round((Date.parse(dueIso) - nowMs) / 60000)
}

/** Insert or move a case to the top of a list of cases, by id. */
export function upsertCase(list, item) {
  return [item, ...list.filter((c) => c.id !== item.id)]
}

/** "12-03 14:05" in the city's time (Asia/Shanghai), whatever the phone's zone. */
export function shortTime(iso, language = 'zh') {
  if (!iso) return ''
  const parts = new Intl.DateTimeFormat(language === 'en' ? 'en-GB' : 'zh-CN', {
    timeZone: 'Asia/Shanghai',
    month: '2-digit',
    day: '2-digit',
    hour: '2-digit',
    minute: '2-digit',
    hour12: false,
  }).formatToParts(new Date(iso))
  const get = (type) => parts.find((p) => p.type === type)?.value || ''
  return `${get('month')}-${get('day')} ${get('hour')}:${get('minute')}`
}

/** A map link for a WGS-84 point (AMap's marker page converts from WGS-84 itself). */
export function mapHref(location) {
  if (!location || typeof location.lat !== 'number') return ''
  return `https://uri.amap.com/marker?position=${location.lng},${location.lat}&coordinate=wgs84&src=changxiang&callnative=1`
}

/** Who handles a case, for people: the venue's name, else the district's, else the city's desk. */
export function handledBy(assigned, names, districtName, cityLabel) {
  const a = assigned || {}
  if (a.venue_slug) return names[a.venue_slug] || a.venue_slug
  if (a.district) return districtName(a.district)
  return cityLabel
}
