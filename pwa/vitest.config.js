// Unit tests (npm run test:unit): plain modules under src/ in Node (WebCrypto, TextEncoder and
// atob/btoa are global there), without the app's Vite plugins.
import { defineConfig } from 'vitest/config'

export default defineConfig({
  test: {
    environment: 'node',
    include: ['tests/unit/**/*.test.js'],
  },
})
