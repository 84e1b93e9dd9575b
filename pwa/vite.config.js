import { mkdirSync, writeFileSync } from 'node:fs'
import { fileURLToPath, URL } from 'node:url'
import { defineConfig } from 'vite'
import vue from '@vitejs/plugin-vue'
import Components from 'unplugin-vue-components/vite'
import { VantResolver } from '@vant/auto-import-resolver'
import { VitePWA } from 'vite-plugin-pwa'

// The API server the dev server proxies to (`make run` starts it on 127.0.0.1:8000).
const apiTarget = process.env.CX_API_URL || 'http://127.0.0.1:8000'

// Vant's icon font lists a copy on a CDN after its inlined woff2: the strict Content-Security-Policy
// (font-src 'self' data:) refuses it, and the app makes no third-party requests, so those sources go.
const dropRemoteFontSources = {
  postcssPlugin: 'drop-remote-font-sources',
  AtRule: {
    'font-face': (rule) => {
      rule.walkDecls('src', (decl) => {
        const sources = decl.value.split(/,(?![^(]*\))/)
        decl.value = sources.filter((src) => !/url\(\s*['"]?(https?:)?\/\//.test(src)).join(',')
      })
    },
  },
}

// …and its inlined woff2 (34 KB of base64) would sit in the render-blocking stylesheet: it becomes a
// file of its own (hashed by Vite like any asset), fetched only when an icon is drawn.
const iconFontToFile = {
  name: 'icon-font-to-file',
  enforce: 'pre',
  transform(code, id) {
    if (!id.replace(/\\/g, '/').endsWith('vant/es/icon/index.css')) return null
    return code.replace(/url\(data:font\/woff2;(?:charset=utf-8;)?base64,([A-Za-z0-9+/=]+)\)/, (_m, b64) => {
      const dir = fileURLToPath(new URL('./node_modules/.cache/icon-font/', import.meta.url))
      mkdirSync(dir, { recursive: true })
      const file = dir + 'vant-icon.woff2'
      writeFileSync(file, Buffer.from(b64, 'base64'))
      return `url(${file})`
    })
  },
}

export const THEME_COLOR = '#0e4a4a'
export const BACKGROUND_COLOR = '#f7f3ea'

export default defineConfig({
  plugins: [
    vue(),
    iconFontToFile,
    // Vant components are imported on demand (component + its CSS) as templates use them.
    Components({ resolvers: [VantResolver()], dts: false }),
    VitePWA({
      strategies: 'injectManifest',
      srcDir: 'src',
      filename: 'sw.js',
      registerType: 'autoUpdate',
      injectRegister: 'script-defer',
      includeAssets: ['offline.html', 'icons/*.png', 'robots.txt'],
      manifest: {
        id: '/',
        name: '常享 Changxiang',
        short_name: '常享',
        description: '常州文旅：场馆、活动、预约与导览 · Culture & travel in Changzhou',
        lang: 'zh-CN',
        dir: 'ltr',
        start_url: '/',
        scope: '/',
        display: 'standalone',
        orientation: 'portrait',
        theme_color: THEME_COLOR,
        background_color: BACKGROUND_COLOR,
        categories: ['travel', 'lifestyle', 'education'],
        icons: [
          { src: '/icons/icon-192.png', sizes: '192x192', type: 'image/png', purpose: 'any' },
          { src: '/icons/icon-512.png', sizes: '512x512', type: 'image/png', purpose: 'any' },
          { src: '/icons/maskable-512.png', sizes: '512x512', type: 'image/png', purpose: 'maskable' },
        ],
        shortcuts: [
          { name: '场馆 Venues', short_name: '场馆', url: '/venues', icons: [{ src: '/icons/icon-192.png', sizes: '192x192' }] },
        ],
      },
      injectManifest: {
        globPatterns: ['**/*.{js,css,html,png,svg,ico,webmanifest,woff2}'],
        // the deep-zoom viewer (OpenSeadragon, ~100 KB gzipped) is kept on first use instead (src/sw.js)
        globIgnores: ['**/openseadragon-*.js'],
        // the apple-touch/favicon PNGs are small; everything else precached is the app shell
        maximumFileSizeToCacheInBytes: 3 * 1024 * 1024,
      },
      devOptions: { enabled: false },
    }),
  ],
  css: { postcss: { plugins: [dropRemoteFontSources] } },
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    target: 'es2020',
    cssCodeSplit: true,
    reportCompressedSize: true,
  },
  server: {
    host: '127.0.0.1',
    port: 5173,
    proxy: {
      '/api': { target: apiTarget, changeOrigin: true },
      '/media': { target: apiTarget, changeOrigin: true },
    },
  },
  preview: {
    proxy: {
      '/api': { target: apiTarget, changeOrigin: true },
    },
  },
})
