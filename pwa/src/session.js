// Who is logged in. The server keeps the session (HttpOnly cookie); GET /me tells us who.
// A plain flag in localStorage remembers that this browser logged in, so that a visitor who
// never did is not sent to /me (a 401 there is noise in the console and the server log).
import { ref } from 'vue'
import { api, setToken, hasToken, ApiError } from './api'
import { resetNotices } from './notifications'
import { forgetPassData } from './pass/idb'

const HINT_KEY = 'cx.signedIn'
export const user = ref(null)
export const userLoaded = ref(false)

function hint(on) {
  try {
    if (on) localStorage.setItem(HINT_KEY, '1')
    else localStorage.removeItem(HINT_KEY)
  } catch {
    /* ignore */
  }
}

export function mayHaveSession() {
  try {
    return hasToken() || localStorage.getItem(HINT_KEY) === '1'
  } catch {
    return hasToken()
  }
}

// One request at a time: the app shell and a screen may both ask at start-up.
let inflight = null

export function loadMe() {
  if (!inflight) inflight = fetchMe().finally(() => (inflight = null))
  return inflight
}

async function fetchMe() {
  try {
    user.value = await api.me()
    hint(true)
  } catch (err) {
    if (err instanceof ApiError && (err.status === 401 || err.status === 403)) {
      user.value = null
      hint(false)
      setToken(null)
    } else throw err
  } finally {
    userLoaded.value = true
  }
  return user.value
}

// What the service worker keeps of one person's bookings (sw.js: cx-api-reservations) must not
// be shown to the next person who logs in on this phone.
async function forgetPersonalData() {
  resetNotices()
  await forgetPassData() // the pass, its device key and a gate's offline data (pass/idb.js)
  try {
    if (typeof caches !== 'undefined') await caches.delete('cx-api-reservations')
  } catch {
    /* ignore */
  }
}

export async function login(email, password) {
  const res = await api.login({ email, password })
  await forgetPersonalData()
  if (res?.access_token) setToken(res.access_token)
  hint(true)
  return fetchMe()
}

// phone sign-in (issue 21): the code POST /auth/sms-code texted to this phone
export async function loginByPhone(phone, smsCode) {
  const res = await api.login({ phone, sms_code: smsCode })
  await forgetPersonalData()
  if (res?.access_token) setToken(res.access_token)
  hint(true)
  return fetchMe()
}

export async function register(email, password, displayName) {
  await api.register({ email, password, display_name: displayName })
  return login(email, password)
}

export async function logout() {
  try {
    await api.logout()
  } catch {
    /* the local session ends either way */
  }
  setToken(null)
  hint(false)
  user.value = null
  await forgetPersonalData()
}
