// Who is logged in. The server keeps the session (HttpOnly cookie); GET /me tells us who.
// A plain flag in localStorage remembers that this browser logged in, so that a visitor who
// never did is not sent to /me (a 401 there is noise in the console and the server log).
import { ref } from 'vue'
import { api, setToken, hasToken, ApiError } from './api'

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

export async function loadMe() {
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

export async function login(email, password) {
  const res = await api.login({ email, password })
  if (res?.access_token) setToken(res.access_token)
  hint(true)
  return loadMe()
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
}
