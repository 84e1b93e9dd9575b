import { createRouter, createWebHistory } from 'vue-router'
import HomeView from './views/HomeView.vue'
import { rolesGuard } from './access'

// meta.roles: who may use a screen (admin always may); see access.js

const routes = [
  { path: '/', name: 'home', component: HomeView, meta: { title: 'nav.home', tab: 'home' } },
  {
    path: '/venues',
    name: 'venues',
    component: () => import('./views/VenueListView.vue'),
    meta: { title: 'venues.title', tab: 'venues' },
  },
  {
    path: '/venues/:slug',
    name: 'venue',
    component: () => import('./views/VenueDetailView.vue'),
    meta: { title: 'venues.title', tab: 'venues', detail: true },
  },
  {
    path: '/book/:slotId(\\d+)',
    name: 'book',
    component: () => import('./views/BookView.vue'),
    meta: { title: 'book.title', tab: 'venues', detail: true },
  },
  {
    path: '/bookings',
    name: 'bookings',
    component: () => import('./views/BookingsView.vue'),
    meta: { title: 'bookings.title', tab: 'bookings' },
  },
  {
    path: '/bookings/:id',
    name: 'booking',
    component: () => import('./views/BookingDetailView.vue'),
    meta: { title: 'res.title', tab: 'bookings', detail: true },
  },
  {
    path: '/pass',
    name: 'pass',
    component: () => import('./views/PassView.vue'),
    meta: { title: 'pass.title', tab: 'pass' },
  },
  {
    path: '/vouchers',
    name: 'vouchers',
    component: () => import('./views/VouchersView.vue'),
    meta: { title: 'vouchers.title', tab: 'home' },
  },
  {
    path: '/merchant/redeem',
    name: 'merchant-redeem',
    component: () => import('./views/MerchantRedeemView.vue'),
    meta: { title: 'merchant.title', tab: 'me', detail: true, roles: ['merchant'] },
  },
  {
    path: '/scan',
    name: 'scan',
    component: () => import('./views/ScanView.vue'),
    meta: { title: 'scan.title', tab: 'me', detail: true, roles: ['staff'] },
  },
  {
    path: '/nearby',
    name: 'nearby',
    // the map is this screen's largest paint: its code comes with the screen's, not after it has rendered
    component: () => Promise.all([import('./views/NearbyView.vue'), import('./map/CxMap.vue')]).then(([view]) => view),
    meta: { title: 'finder.title', tab: 'home' },
  },
  {
    path: '/tours',
    name: 'tours',
    component: () => import('./views/ToursView.vue'),
    meta: { title: 'tours.title', tab: 'home' },
  },
  {
    path: '/tours/:slug',
    name: 'tour',
    component: () => import('./views/TourView.vue'),
    meta: { title: 'tour.title', tab: 'home', detail: true },
  },
  {
    path: '/pois/:id',
    name: 'poi',
    component: () => import('./views/PoiView.vue'),
    meta: { title: 'poi.title', tab: 'home', detail: true },
  },
  {
    path: '/exhibitions',
    name: 'exhibitions',
    component: () => import('./views/ExhibitionsView.vue'),
    meta: { title: 'exhibitions.title', tab: 'home' },
  },
  {
    path: '/plan',
    name: 'plan-day',
    component: () => import('./views/PlanDayView.vue'),
    meta: { title: 'plan.title', tab: 'home', detail: true },
  },
  {
    path: '/plans/:id',
    name: 'plan',
    component: () => import('./views/PlanView.vue'),
    meta: { title: 'plan.resultTitle', tab: 'home', detail: true },
  },
  {
    path: '/exhibitions/:slug',
    name: 'exhibition',
    component: () => import('./views/ExhibitionView.vue'),
    meta: { title: 'exhibitions.title', tab: 'home', detail: true },
  },
  {
    path: '/search',
    name: 'search',
    component: () => import('./views/SearchView.vue'),
    meta: { title: 'search.title', tab: 'home', detail: true },
  },
  {
    path: '/guide',
    name: 'guide',
    component: () => import('./views/GuideView.vue'),
    meta: { title: 'guide.title', tab: 'home', detail: true },
  },
  {
    path: '/me',
    name: 'me',
    component: () => import('./views/MeView.vue'),
    meta: { title: 'me.title', tab: 'me' },
  },
  {
    path: '/gov',
    name: 'gov',
    component: () => import('./views/GovDashboardView.vue'),
    meta: { title: 'gov.title', tab: 'me', detail: true, roles: ['governance'] },
  },
  {
    path: '/help',
    name: 'help',
    component: () => import('./views/HelpView.vue'),
    meta: { title: 'help.title', tab: 'me', detail: true },
  },
  {
    path: '/help/:id',
    name: 'case',
    component: () => import('./views/CaseView.vue'),
    meta: { title: 'case.title', tab: 'me', detail: true },
  },
  {
    path: '/cases/inbox',
    name: 'case-inbox',
    component: () => import('./views/CaseInboxView.vue'),
    meta: { title: 'inbox.title', tab: 'me', detail: true, roles: ['staff', 'governance'] },
  },
  {
    path: '/events',
    name: 'events',
    component: () => import('./views/EventsView.vue'),
    meta: { title: 'events.title', tab: 'home' },
  },
  {
    path: '/events/:slug',
    name: 'event',
    component: () => import('./views/EventDetailView.vue'),
    meta: { title: 'events.title', tab: 'home', detail: true },
  },
  {
    path: '/articles',
    name: 'articles',
    component: () => import('./views/ArticlesView.vue'),
    meta: { title: 'articles.title', tab: 'home' },
  },
  {
    path: '/articles/:slug',
    name: 'article',
    component: () => import('./views/ArticlesView.vue'),
    meta: { title: 'articles.title', tab: 'home', detail: true },
  },
  {
    path: '/marketer',
    name: 'marketer',
    component: () => import('./views/MarketerView.vue'),
    meta: { title: 'marketer.title', tab: 'me', detail: true, roles: ['marketer'] },
  },
  {
    path: '/performances/:id(\\d+)',
    name: 'performance',
    component: () => import('./views/PerformanceView.vue'),
    meta: { title: 'tickets.title', tab: 'home', detail: true },
  },
  {
    path: '/shows',
    name: 'shows',
    component: () => import('./views/ShowsView.vue'),
    meta: { title: 'shows.title', tab: 'home' },
  },
  {
    path: '/shows/:slug',
    name: 'show',
    component: () => import('./views/ShowView.vue'),
    meta: { title: 'shows.title', tab: 'home', detail: true },
  },
  {
    path: '/marketer/media',
    name: 'marketer-media',
    component: () => import('./views/MarketerMediaView.vue'),
    meta: { title: 'media.title', tab: 'me', detail: true, roles: ['marketer'] },
  },
  {
    path: '/marketer/:kind(events|articles|tours)/:id(new|\\d+)',
    name: 'marketer-edit',
    component: () => import('./views/MarketerEditView.vue'),
    meta: { title: 'marketer.title', tab: 'me', detail: true, roles: ['marketer'] },
  },
  {
    path: '/marketer/featured/:id(new|\\d+)',
    name: 'marketer-featured',
    component: () => import('./views/MarketerFeaturedView.vue'),
    meta: { title: 'marketer.featured', tab: 'me', detail: true, roles: ['marketer'] },
  },
  {
    path: '/marketer/campaigns/:id(new|\\d+)',
    name: 'marketer-campaign',
    component: () => import('./views/MarketerCampaignView.vue'),
    meta: { title: 'marketer.campaigns', tab: 'me', detail: true, roles: ['marketer'] },
  },
  {
    path: '/:pathMatch(.*)*',
    name: 'not-found',
    component: () => import('./views/NotFoundView.vue'),
    meta: { title: 'notFound.title' },
  },
]

export const router = createRouter({
  history: createWebHistory(),
  routes,
  scrollBehavior(to, from, saved) {
    if (saved) return saved
    if (to.path === from.path) return false
    return { top: 0 }
  },
})

router.beforeEach(rolesGuard)

// After a deploy, a page still running the previous build may ask for a screen's chunk that is
// gone: load the new build at the address the visitor was going to.
router.onError((err, to) => {
  const msg = String(err?.message || '')
  if (/dynamically imported module|Importing a module script failed|Failed to fetch/i.test(msg) && to?.fullPath) {
    window.location.assign(to.fullPath)
  }
})
