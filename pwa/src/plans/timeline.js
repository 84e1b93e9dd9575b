// Pure helpers of the plan screen: the timeline's rows (travel legs between the items), the form's
// time choices and the request body. No Vue, no network: unit-tested in tests/unit/plans.test.js.

export const CENTRE = { lat: 31.7797, lng: 119.9554 } // 南大街, the old centre
export const VENUE_INTERESTS = ['museum', 'heritage_site', 'park', 'memorial_hall', 'art_gallery', 'scenic_area', 'library', 'intangible_heritage']
export const EVENT_INTERESTS = ['performance', 'exhibition', 'family', 'workshop', 'festival']

/** '07:00', '07:30', … '22:00' */
export function timeChoices(first = 7, last = 22, stepMin = 30) {
  const out = []
  for (let m = first * 60; m <= last * 60; m += stepMin) out.push(`${String(Math.floor(m / 60)).padStart(2, '0')}:${String(m % 60).padStart(2, '0')}`)
  return out
}

export function minutes(hhmm) {
  const [h, m] = hhmm.split(':').map(Number)
  return h * 60 + m
}

/** The POST /plans body from the form's state. */
export function planRequest(form, lang) {
  const party = {
    adults: Math.max(0, form.adults | 0),
    children: Math.max(0, form.children | 0),
    seniors: Math.max(0, form.seniors | 0),
  }
  if (party.adults + party.children + party.seniors === 0) party.adults = 1
  return {
    date: form.date,
    start: { lat: +form.start.lat.toFixed(5), lng: +form.start.lng.toFixed(5) },
    start_time: form.from,
    end_time: form.to,
    interests: [...form.interests],
    party,
    step_free: !!form.stepFree,
    lang,
  }
}

/** Timeline rows: each item preceded by its travel leg (none before a break taken where one is). */
export function timelineRows(items) {
  const rows = []
  items.forEach((item, i) => {
    const leg = item.travel
    if (item.kind !== 'break' && leg && (leg.minutes > 0 || i === 0)) rows.push({ type: 'leg', key: `leg-${i}`, leg })
    rows.push({ type: 'item', key: `item-${i}`, item, index: i })
  })
  return rows
}

/** The items with a slot: what "book all" books. */
export function bookable(items) {
  return items.filter((i) => i.slot_id != null)
}

/** Places on the sketch: the start and each visit, numbered 1, 2, … in order. */
export function sketchPoints(plan) {
  const visits = plan.items.filter((i) => i.kind !== 'break' && i.location)
  return { start: plan.start, stops: visits.map((v, n) => ({ order: n + 1, location: v.location, title: v.title, mode: v.travel?.mode })) }
}

/** The item's `why` without the title it starts with (the card shows the title above it). */
export function reason(item) {
  for (const sep of ['：', ': ']) {
    if (item.why.startsWith(item.title + sep)) {
      const rest = item.why.slice(item.title.length + sep.length)
      return rest.charAt(0).toUpperCase() + rest.slice(1)
    }
  }
  return item.why
}

const LAST_KEY = 'cx.lastPlan'

/** The last plan made on this phone (its id is its key: kept on the phone only). */
export function lastPlan() {
  try {
    return JSON.parse(localStorage.getItem(LAST_KEY) || 'null')
  } catch {
    return null
  }
}

export function rememberPlan(plan) {
  try {
    localStorage.setItem(LAST_KEY, JSON.stringify({ id: plan.id, date: plan.date }))
  } catch {
    /* ignore */
  }
}
