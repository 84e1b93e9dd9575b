import { createRouter, createWebHistory } from 'vue-router'
import HomeView from './views/HomeView.vue'

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
    path: '/scan',
    name: 'scan',
    component: () => import('./views/ScanView.vue'),
    meta: { title: 'scan.title', tab: 'me', detail: true },
  },
  {
    path: '/nearby',
    name: 'nearby',
    component: () => import('./views/NearbyView.vue'),
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
    path: '/exhibitions/:slug',
    name: 'exhibition',
    component: () => import('./views/ExhibitionView.vue'),
    meta: { title: 'exhibitions.title', tab: 'home', detail: true },
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
    meta: { title: 'gov.title', tab: 'me', detail: true },
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
    meta: { title: 'marketer.title', tab: 'me', detail: true },
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

// After a deploy, a page still running the previous build may ask for a screen's chunk that is
// gone: load the new build at the address the visitor was going to.
router.onError((err, to) => {
  const msg = String(err?.message || '')
  if (/dynamically imported module|Importing a module script failed|Failed to fetch/i.test(msg) && to?.fullPath) {
    window.location.assign(to.fullPath)
  }
})
