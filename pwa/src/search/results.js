// Search results and guide answers, as the screens use them: where a result opens, results grouped
// by kind in a fixed order, and an answer's text cut into plain parts and citation links ([1], [2]).

export const KIND_ORDER = ['venue', 'event', 'tour', 'exhibition', 'article', 'poi', 'amenity']

/** The route a result (or a citation) opens: {kind, slug, category?}. */
export function resultLink(item) {
  const slug = item.slug
  switch (item.kind) {
    case 'venue':
      return { name: 'venue', params: { slug } }
    case 'event':
      return { name: 'event', params: { slug } }
    case 'tour':
      return { name: 'tour', params: { slug } }
    case 'exhibition':
      return { name: 'exhibition', params: { slug } }
    case 'article':
      return { name: 'article', params: { slug } }
    case 'poi':
      return { name: 'poi', params: { id: slug } }
    case 'amenity':
      return { name: 'nearby', query: item.category ? { kind: item.category } : {} }
    default:
      return { name: 'home' }
  }
}

/** [{kind, items}] in KIND_ORDER, each group keeping the ranking of the list; empty kinds left out. */
export function groupByKind(items) {
  const groups = new Map(KIND_ORDER.map((k) => [k, []]))
  for (const item of items || []) {
    if (!groups.has(item.kind)) groups.set(item.kind, [])
    groups.get(item.kind).push(item)
  }
  return [...groups].filter(([, list]) => list.length).map(([kind, list]) => ({ kind, items: list }))
}

/** The answer's text as parts: {text} and {cite: n} for each "[n]" that names one of the citations. */
export function answerParts(answer, citations) {
  const parts = []
  const re = /\[(\d{1,2})\]/g
  let last = 0
  let m
  while ((m = re.exec(answer || '')) !== null) {
    const n = Number(m[1])
    if (n >= 1 && n <= (citations || []).length) {
      if (m.index > last) parts.push({ text: answer.slice(last, m.index) })
      parts.push({ cite: n })
      last = m.index + m[0].length
    }
  }
  if (last < (answer || '').length) parts.push({ text: answer.slice(last) })
  return parts
}

/** The facts about one cited item (its kind and slug), in the answer's order. */
export function factsFor(facts, citation) {
  return (facts || []).filter((f) => f.kind === citation.kind && f.slug === citation.slug)
}
