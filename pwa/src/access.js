// Who may open a screen: a route names the roles that may in `meta.roles` (router.js). Before such
// a screen opens, one guard finds out who is signed in (the server's /me; offline, the profile this
// phone saw last at the gate scanner), and the screen asks `useAccess()` rather than reading roles
// itself. The server still decides every request: this only spares a visitor a screen that can do
// nothing for them, and shows them why.
import { computed, shallowRef } from 'vue'
import { useRoute } from 'vue-router'
import { user, loadMe, mayHaveSession } from './session'

/** Whether `who` holds one of `roles`; admin always may, as on the server (lib/auth.py require_roles). */
export function hasRole(who, roles) {
  if (!roles?.length) return true
  return !!who && (who.roles || []).some((r) => r === 'admin' || roles.includes(r))
}

// offline and not signed in as far as this page knows: the profile the gate scanner kept
const offlineProfile = shallowRef(null)

async function findWho() {
  let who = null
  try {
    // a browser that never signed in is not asked about (a 401 is only noise)
    who = user.value || (mayHaveSession() ? await loadMe() : null)
  } catch {
    who = null // no network
  }
  offlineProfile.value = null
  if (!who && typeof navigator !== 'undefined' && !navigator.onLine) {
    const { cachedMe } = await import('./pass/gate')
    offlineProfile.value = await cachedMe()
  }
}

/** router.beforeEach: a screen with `meta.roles` opens once we know who is asking. */
export async function rolesGuard(to) {
  if (to.meta.roles) await findWho()
  return true
}

/**
 * For the screen on show: `who` (the signed-in user, or offline the last one seen) and whether
 * they may use it (`allowed`, from the route's meta.roles).
 */
export function useAccess() {
  const route = useRoute()
  const who = computed(() => user.value || offlineProfile.value)
  const allowed = computed(() => hasRole(who.value, route.meta.roles))
  return { who, allowed }
}

/** Whether the signed-in user may open the screen named `name` (for links to it). */
export function mayOpen(router, name) {
  return hasRole(user.value, router.resolve({ name }).meta.roles)
}
