// The API documentation pages (/schema and /schema/swagger: Swagger UI) load their scripts and styles
// from the app itself, never from a CDN (blocked on many mainland networks, absent offline): after
// `vite build`, the bundles come out of node_modules (swagger-ui-dist, exact version in
// package-lock.json) into dist/schema-ui/, which the server serves at /schema-ui.
// Not precached by the service worker: the manifest is made before this runs.
import { copyFileSync, mkdirSync } from 'node:fs'
import { fileURLToPath, URL } from 'node:url'

const here = (path) => fileURLToPath(new URL(path, import.meta.url))
const FILES = {
  'swagger-ui/swagger-ui-bundle.js': 'swagger-ui-dist/swagger-ui-bundle.js',
  'swagger-ui/swagger-ui-standalone-preset.js': 'swagger-ui-dist/swagger-ui-standalone-preset.js',
  'swagger-ui/swagger-ui.css': 'swagger-ui-dist/swagger-ui.css',
}

for (const [to, from] of Object.entries(FILES)) {
  const target = here(`../dist/schema-ui/${to}`)
  mkdirSync(here(`../dist/schema-ui/${to.split('/')[0]}`), { recursive: true })
  copyFileSync(here(`../node_modules/${from}`), target)
}
console.log(`schema-ui: ${Object.keys(FILES).length} files in dist/schema-ui`)
