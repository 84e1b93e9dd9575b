// A very small IndexedDB wrapper: one database per feature, key-value object stores.
// IndexedDB (not localStorage) because it keeps a CryptoKey by structured clone, non-extractable.

const opened = new Map()

export function idbAvailable() {
  return typeof indexedDB !== 'undefined'
}

function request(req) {
  return new Promise((resolve, reject) => {
    req.onsuccess = () => resolve(req.result)
    req.onerror = () => reject(req.error)
  })
}

export function openDb(name, stores) {
  if (!opened.has(name)) {
    const p = new Promise((resolve, reject) => {
      const req = indexedDB.open(name, 1)
      req.onupgradeneeded = () => {
        for (const s of stores) if (!req.result.objectStoreNames.contains(s)) req.result.createObjectStore(s)
      }
      req.onsuccess = () => {
        const db = req.result
        // another tab deleting the database (log-out) must not be blocked by this connection
        db.onversionchange = () => {
          db.close()
          opened.delete(name)
        }
        resolve(db)
      }
      req.onerror = () => reject(req.error)
      req.onblocked = () => reject(new Error('indexedDB blocked'))
    })
    p.catch(() => opened.delete(name))
    opened.set(name, p)
  }
  return opened.get(name)
}

export class Store {
  constructor(dbName, store, allStores) {
    this.dbName = dbName
    this.store = store
    this.allStores = allStores
  }

  async _os(mode) {
    const db = await openDb(this.dbName, this.allStores)
    return db.transaction(this.store, mode).objectStore(this.store)
  }

  async get(key) {
    return request((await this._os('readonly')).get(key))
  }

  async set(key, value) {
    return request((await this._os('readwrite')).put(value, key))
  }

  async del(key) {
    return request((await this._os('readwrite')).delete(key))
  }

  async keys() {
    return request((await this._os('readonly')).getAllKeys())
  }

  async values() {
    return request((await this._os('readonly')).getAll())
  }

  async clear() {
    return request((await this._os('readwrite')).clear())
  }
}

/** Delete a whole database (log-out: the next person on this phone must not find it). */
export async function deleteDb(name) {
  if (!idbAvailable()) return
  const db = opened.get(name)
  opened.delete(name)
  if (db) await db.then((d) => d.close()).catch(() => {})
  await new Promise((resolve) => {
    const req = indexedDB.deleteDatabase(name)
    req.onsuccess = req.onerror = req.onblocked = () => resolve()
  })
}

/**
 * At log-in and log-out: this phone's pass, device key and gate data belong to the last account.
 * A gate's queue of offline scans not yet uploaded is kept (they are admissions that happened).
 */
export async function forgetPassData() {
  if (!idbAvailable()) return
  await deleteDb('cx-pass')
  try {
    const waiting = await new Store('cx-scan', 'queue', ['kv', 'queue']).keys()
    if (waiting.length) {
      await new Store('cx-scan', 'kv', ['kv', 'queue']).del('keys')
      return
    }
  } catch {
    /* no such database */
  }
  await deleteDb('cx-scan')
}
