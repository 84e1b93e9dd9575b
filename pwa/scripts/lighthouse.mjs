// Lighthouse (mobile defaults: a mid-range phone, simulated slow 4G and 4× CPU slowdown) on the
// screens bench/lighthouse.py names, in Debian's Chromium (CHROME_PATH). Screens that need a
// signed-in visitor get the session cookie and the app's "signed in here" hint before the run.
// Input: one JSON argument {base, screens: [{name, path, cookie?}]}; output: JSON scores on stdout.
import lighthouse from 'lighthouse'
import puppeteer from 'puppeteer-core'

const { base, screens } = JSON.parse(process.argv[2])
const browser = await puppeteer.launch({
  executablePath: process.env.CHROME_PATH || '/usr/bin/chromium',
  headless: 'new',
  args: ['--headless=new', '--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage',
    '--disable-background-networking', '--disable-component-update', '--disable-sync'],
})
const RUNS = Number(process.env.LIGHTHOUSE_RUNS || 3) // the median run is kept (Lighthouse's advice)

async function audit(screen) {
  const context = await browser.createBrowserContext() // cold: no cache, no service worker
  try {
    const page = await context.newPage()
    if (screen.cookie) {
      await page.setCookie({ name: 'cx_token', value: screen.cookie, url: base })
      await page.evaluateOnNewDocument(() => localStorage.setItem('cx.signedIn', '1'))
    }
    const run = await lighthouse(
      base + screen.path,
      {
        logLevel: 'error',
        output: 'json',
        onlyCategories: ['performance', 'accessibility', 'best-practices', 'seo'],
        disableStorageReset: Boolean(screen.cookie), // keep the session the screen needs
      },
      undefined, // the default config is the mobile one
      page,
    )
    const lhr = run.lhr
    return {
      name: screen.name,
      path: screen.path,
      scores: Object.fromEntries(Object.entries(lhr.categories).map(([k, c]) => [k, c.score])),
      metrics: {
        fcp_ms: lhr.audits['first-contentful-paint']?.numericValue,
        lcp_ms: lhr.audits['largest-contentful-paint']?.numericValue,
        tbt_ms: lhr.audits['total-blocking-time']?.numericValue,
        cls: lhr.audits['cumulative-layout-shift']?.numericValue,
      },
      failing: Object.values(lhr.audits)
        .filter((a) => a.score !== null && a.score < 0.9 && !['informative', 'manual'].includes(a.scoreDisplayMode))
        .map((a) => `${a.id}=${a.score}`),
      runtimeError: lhr.runtimeError?.message,
      benchmarkIndex: lhr.environment?.benchmarkIndex, // this machine's CPU speed as Lighthouse measured it
      warnings: lhr.runWarnings,
    }
  } finally {
    await context.close()
  }
}

const results = []
try {
  for (const screen of screens) {
    const runs = []
    for (let i = 0; i < RUNS; i++) runs.push(await audit(screen))
    runs.sort((a, b) => (a.scores.performance ?? 0) - (b.scores.performance ?? 0))
    const median = runs[Math.floor(runs.length / 2)]
    median.performance_runs = runs.map((r) => r.scores.performance)
    results.push(median)
  }
} finally {
  await browser.close()
}
process.stdout.write(JSON.stringify(results))
