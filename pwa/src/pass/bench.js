// /scan?bench: window.cxGateBench(code, n) → ms per offline verification (for measurements), and
// window.cxGateVerify(code, keys, now) → the offline verdict on a code, to compare with the server's.
import { importServerKeys, verifyCode } from './verify.js'

/** @param {() => object|null} savedKeys the gate's cached GET /scans/keys ({data, fetchedAt}) */
export function exposeGateBench(savedKeys) {
  window.cxGateVerify = async (code, keyList, now, limits = { windowS: 30, skewS: 30 }) => {
    try {
      return { ok: await verifyCode(code, await importServerKeys(keyList), now, limits) }
    } catch (err) {
      return { rejected: err?.result || String(err) }
    }
  }
  window.cxGateBench = async (code, n = 100) => {
    const saved = savedKeys()
    const serverKeys = await importServerKeys(saved.data.keys)
    const now = Math.floor(Date.now() / 1000)
    const limits = { windowS: saved.data.window_s, skewS: saved.data.skew_s }
    await verifyCode(code, serverKeys, now, limits)
    const t0 = performance.now()
    for (let i = 0; i < n; i++) await verifyCode(code, serverKeys, now, limits)
    return (performance.now() - t0) / n
  }
}
