// Links from content (an exhibition's rights statement, …) are rendered only when they are https: URLs
// or /media/ paths, the rule the server applies on every write (backend/lib/content_urls.py); a value
// stored before that rule (`javascript:…`, `http:…`, `//host`) renders as plain text instead.
const SAFE = /^(https:\/\/[A-Za-z0-9](?:[A-Za-z0-9.-]*[A-Za-z0-9])?(?::[0-9]{1,5})?(?:[/?#][^\s\\<>"'`]*)?|\/media\/(?!\/)(?!.*(?:\.\.|\/\/))[A-Za-z0-9._~/%-]+)$/

export function safeHref(value) {
  return typeof value === 'string' && value.length <= 300 && SAFE.test(value) ? value : ''
}
