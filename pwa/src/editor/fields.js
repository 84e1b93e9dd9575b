// The server's validators answer with problem+json: `errors: [{field, message}]` (or, for a body that
// doesn't decode, a detail ending "at `$.field`"). The phone editors show each message next to its field.
import { t, problemMessage } from '../i18n'

/** {field: message} of an API error, the field being the body's top-level name ("title", "quota"). */
export function fieldErrors(err) {
  const out = {}
  // a body the schema refuses (a number out of range, a malformed value) has no sentence of its own
  const message = err?.code === 'validation_error' ? t('ed.invalidField') : problemMessage(err)
  for (const e of err?.errors || []) {
    const name = String(e?.field || '').replace(/^\$\./, '').split(/[.[]/)[0]
    if (name) out[name] = message
  }
  const m = /at `\$\.(\w+)/.exec(err?.detail || '')
  if (m && !out[m[1]]) out[m[1]] = message
  return out
}
