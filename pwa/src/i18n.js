// A small reactive dictionary: Chinese by default, English on request.
// The choice is kept in localStorage, mirrored on <html lang>, and sent to the API as ?lang=.
import { ref, computed } from 'vue'
import { Locale } from 'vant'
import vantZh from 'vant/es/locale/lang/zh-CN'
import vantEn from 'vant/es/locale/lang/en-US'

const STORAGE_KEY = 'cx.lang'
export const LANGS = ['zh', 'en']

export const CATEGORIES = [
  'museum',
  'library',
  'art_gallery',
  'cultural_center',
  'theatre',
  'scenic_area',
  'heritage_site',
  'park',
  'resort',
  'memorial_hall',
  'intangible_heritage',
]

export const DISTRICTS = ['tianning', 'zhonglou', 'xinbei', 'wujin', 'jintan', 'liyang', 'jingkai']

const messages = {
  zh: {
    'app.name': '常享',
    'app.fullName': '常享 Changxiang',
    'a11y.skip': '跳到主要内容',
    'punct.colon': '：',
    'a11y.loading': '加载中…',
    'nav.home': '首页',
    'nav.venues': '场馆',
    'nav.me': '我的',
    'nav.back': '返回',
    'nav.main': '主导航',
    'lang.switch': 'English',
    'lang.switchLabel': '切换到英文',
    'offline.banner': '当前离线，显示的是已保存的内容',
    'home.searchPlaceholder': '搜索场馆，如“博物馆”“青果巷”',
    'home.searchLabel': '搜索场馆',
    'home.search': '搜索',
    'home.categories': '分类浏览',
    'home.nearby': '附近场馆',
    'home.locating': '正在定位…',
    'home.geoError': '无法获取位置，请检查定位权限',
    'home.geoUnsupported': '此设备不支持定位',
    'home.featured': '精选推荐',
    'home.seeAll': '查看全部',
    'home.heroTitle': '常来常享',
    'home.heroText': '博物馆、古街巷、非遗与山水，一部手机游常州',
    'venues.title': '场馆',
    'venues.searchPlaceholder': '搜索场馆名称或地址',
    'venues.filterCategory': '分类',
    'venues.filterDistrict': '区域',
    'venues.allCategories': '全部分类',
    'venues.allDistricts': '全部区域',
    'venues.total': '共 {n} 个场馆',
    'venues.nearbyOn': '附近 {km} 公里内',
    'venues.clearNearby': '取消附近筛选',
    'venues.empty': '没有找到符合条件的场馆',
    'venues.emptyAction': '清除筛选',
    'venues.loadMore': '加载更多',
    'venues.noMore': '没有更多了',
    'venue.free': '免费',
    'venue.price': '¥{yuan}',
    'venue.reservation': '需预约',
    'venue.noReservation': '免预约',
    'venue.distance': '距您 {d}',
    'venue.hours': '开放时间',
    'venue.address': '地址',
    'venue.capacity': '瞬时承载量',
    'venue.dailyCapacity': '日承载量',
    'venue.people': '{n} 人',
    'venue.ticket': '门票',
    'venue.accessibility': '无障碍',
    'venue.phone': '电话',
    'venue.website': '官网',
    'venue.about': '场馆介绍',
    'venue.info': '参观信息',
    'venue.navigate': '导航前往',
    'venue.navigateHint': '在高德地图中打开',
    'venue.book': '预约（即将开放）',
    'venue.notFound': '找不到这个场馆',
    'venue.live': '实时客流',
    'venue.occupancy': '馆内约 {n} 人',
    'venue.photo': '{name}的照片',
    'venue.alerts': '提醒',
    'status.open': '开放中',
    'status.limited': '限流中',
    'status.closed': '已闭馆',
    'comfort.comfortable': '舒适',
    'comfort.fairly_comfortable': '较舒适',
    'comfort.normal': '一般',
    'comfort.fairly_crowded': '较拥挤',
    'comfort.crowded': '拥挤',
    'comfort.full': '已满',
    'hours.closed': '闭馆',
    'hours.always': '全天开放',
    'hours.daily': '每天',
    'hours.holidays': '节假日',
    'hours.unknown': '以现场公告为准',
    'me.title': '我的',
    'me.login': '登录',
    'me.register': '注册',
    'me.logout': '退出登录',
    'me.email': '邮箱',
    'me.emailPlaceholder': '请输入邮箱',
    'me.password': '密码',
    'me.passwordPlaceholder': '请输入密码',
    'me.passwordRule': '密码至少 8 位',
    'me.displayName': '昵称',
    'me.displayNamePlaceholder': '怎么称呼您',
    'me.required': '请填写{field}',
    'me.emailInvalid': '邮箱格式不正确',
    'me.loginOk': '登录成功',
    'me.registerOk': '注册成功，已为您登录',
    'me.loggedOut': '已退出登录',
    'me.welcome': '您好，{name}',
    'me.roles': '身份',
    'me.venues': '负责场馆',
    'me.guestTitle': '登录常享',
    'me.guestText': '登录后可预约场馆、查看行程和一码通行',
    'me.settings': '设置',
    'me.language': '语言',
    'me.largeText': '大字模式（适老化）',
    'me.largeTextHint': '更大的字号、更高的对比度、更大的按钮',
    'me.about': '关于常享',
    'me.aboutText': '常享是常州市开源文旅服务平台。',
    'role.tourist': '游客',
    'role.staff': '工作人员',
    'role.marketer': '运营',
    'role.governance': '监管',
    'role.agency': '旅行社',
    'role.admin': '管理员',
    'error.network': '网络不给力，请稍后再试',
    'error.generic': '出错了，请稍后再试',
    'error.retry': '重试',
    'problem.invalid_credentials': '邮箱或密码不正确',
    'problem.email_taken': '这个邮箱已经注册过了，请直接登录',
    'problem.rate_limited': '操作太频繁，请稍后再试',
    'problem.not_authenticated': '请先登录',
    'notFound.title': '页面走丢了',
    'notFound.text': '您要找的页面不存在，可能已被移走。',
    'notFound.home': '回到首页',
  },
  en: {
    'app.name': 'Changxiang',
    'app.fullName': '常享 Changxiang',
    'a11y.skip': 'Skip to main content',
    'punct.colon': ': ',
    'a11y.loading': 'Loading…',
    'nav.home': 'Home',
    'nav.venues': 'Venues',
    'nav.me': 'Me',
    'nav.back': 'Back',
    'nav.main': 'Main navigation',
    'lang.switch': '中文',
    'lang.switchLabel': 'Switch to Chinese',
    'offline.banner': 'You are offline: showing saved content',
    'home.searchPlaceholder': 'Search venues, e.g. “museum”',
    'home.searchLabel': 'Search venues',
    'home.search': 'Search',
    'home.categories': 'Browse by category',
    'home.nearby': 'Nearby',
    'home.locating': 'Locating…',
    'home.geoError': 'Could not get your location. Please check the permission.',
    'home.geoUnsupported': 'Location is not available on this device',
    'home.featured': 'Featured',
    'home.seeAll': 'See all',
    'home.heroTitle': 'Enjoy Changzhou',
    'home.heroText': 'Museums, old lanes, intangible heritage, lakes and hills, all on your phone',
    'venues.title': 'Venues',
    'venues.searchPlaceholder': 'Search by name or address',
    'venues.filterCategory': 'Category',
    'venues.filterDistrict': 'District',
    'venues.allCategories': 'All categories',
    'venues.allDistricts': 'All districts',
    'venues.total': '{n} venues',
    'venues.nearbyOn': 'Within {km} km',
    'venues.clearNearby': 'Clear nearby filter',
    'venues.empty': 'No venues match these filters',
    'venues.emptyAction': 'Clear filters',
    'venues.loadMore': 'Load more',
    'venues.noMore': 'No more venues',
    'venue.free': 'Free',
    'venue.price': '¥{yuan}',
    'venue.reservation': 'Booking required',
    'venue.noReservation': 'No booking needed',
    'venue.distance': '{d} away',
    'venue.hours': 'Opening hours',
    'venue.address': 'Address',
    'venue.capacity': 'Capacity at once',
    'venue.dailyCapacity': 'Daily capacity',
    'venue.people': '{n} people',
    'venue.ticket': 'Admission',
    'venue.accessibility': 'Accessibility',
    'venue.phone': 'Phone',
    'venue.website': 'Website',
    'venue.about': 'About',
    'venue.info': 'Visitor information',
    'venue.navigate': 'Navigate',
    'venue.navigateHint': 'Open in AMap',
    'venue.book': 'Book (coming soon)',
    'venue.notFound': 'We could not find this venue',
    'venue.live': 'Live visitors',
    'venue.occupancy': 'About {n} inside',
    'venue.photo': 'Photo of {name}',
    'venue.alerts': 'Notices',
    'status.open': 'Open',
    'status.limited': 'Limited entry',
    'status.closed': 'Closed',
    'comfort.comfortable': 'Comfortable',
    'comfort.fairly_comfortable': 'Fairly comfortable',
    'comfort.normal': 'Normal',
    'comfort.fairly_crowded': 'Fairly crowded',
    'comfort.crowded': 'Crowded',
    'comfort.full': 'Full',
    'hours.closed': 'Closed',
    'hours.always': 'Open 24/7',
    'hours.daily': 'Daily',
    'hours.holidays': 'Public holidays',
    'hours.unknown': 'See notices on site',
    'me.title': 'Me',
    'me.login': 'Log in',
    'me.register': 'Sign up',
    'me.logout': 'Log out',
    'me.email': 'Email',
    'me.emailPlaceholder': 'Your email',
    'me.password': 'Password',
    'me.passwordPlaceholder': 'Your password',
    'me.passwordRule': 'At least 8 characters',
    'me.displayName': 'Name',
    'me.displayNamePlaceholder': 'What should we call you?',
    'me.required': 'Please enter your {field}',
    'me.emailInvalid': 'This email address is not valid',
    'me.loginOk': 'Logged in',
    'me.registerOk': 'Welcome! You are signed up and logged in',
    'me.loggedOut': 'Logged out',
    'me.welcome': 'Hello, {name}',
    'me.roles': 'Roles',
    'me.venues': 'Venues',
    'me.guestTitle': 'Log in to Changxiang',
    'me.guestText': 'Log in to book venues, see your trips and use one code for entry',
    'me.settings': 'Settings',
    'me.language': 'Language',
    'me.largeText': 'Large text mode',
    'me.largeTextHint': 'Bigger text, higher contrast and bigger buttons',
    'me.about': 'About Changxiang',
    'me.aboutText': 'Changxiang is the open-source culture and tourism platform of Changzhou.',
    'role.tourist': 'Visitor',
    'role.staff': 'Staff',
    'role.marketer': 'Marketer',
    'role.governance': 'Supervisor',
    'role.agency': 'Travel agency',
    'role.admin': 'Administrator',
    'error.network': 'Network problem. Please try again later.',
    'error.generic': 'Something went wrong. Please try again.',
    'error.retry': 'Retry',
    'problem.invalid_credentials': 'Wrong email or password',
    'problem.email_taken': 'This email already has an account. Please log in.',
    'problem.rate_limited': 'Too many tries. Please wait a moment.',
    'problem.not_authenticated': 'Please log in first',
    'notFound.title': 'Page not found',
    'notFound.text': 'The page you are looking for does not exist or has moved.',
    'notFound.home': 'Back to home',
  },
}

const categoryLabels = {
  zh: {
    museum: '博物馆',
    library: '图书馆',
    art_gallery: '美术馆',
    cultural_center: '文化馆',
    theatre: '剧院',
    scenic_area: '景区',
    heritage_site: '文保古迹',
    park: '公园',
    resort: '度假区',
    memorial_hall: '纪念馆',
    intangible_heritage: '非遗',
  },
  en: {
    museum: 'Museum',
    library: 'Library',
    art_gallery: 'Art gallery',
    cultural_center: 'Cultural centre',
    theatre: 'Theatre',
    scenic_area: 'Scenic area',
    heritage_site: 'Heritage site',
    park: 'Park',
    resort: 'Resort',
    memorial_hall: 'Memorial hall',
    intangible_heritage: 'Intangible heritage',
  },
}

const districtLabels = {
  zh: {
    tianning: '天宁区',
    zhonglou: '钟楼区',
    xinbei: '新北区',
    wujin: '武进区',
    jintan: '金坛区',
    liyang: '溧阳市',
    jingkai: '常州经开区',
  },
  en: {
    tianning: 'Tianning',
    zhonglou: 'Zhonglou',
    xinbei: 'Xinbei',
    wujin: 'Wujin',
    jintan: 'Jintan',
    liyang: 'Liyang',
    jingkai: 'Changzhou Economic Development Zone',
  },
}

function initialLang() {
  try {
    const saved = localStorage.getItem(STORAGE_KEY)
    if (LANGS.includes(saved)) return saved
  } catch {
    /* storage unavailable (private mode): fall through */
  }
  return 'zh'
}

export const lang = ref(initialLang())

function apply(value) {
  document.documentElement.lang = value === 'zh' ? 'zh-CN' : 'en'
  if (value === 'en') Locale.use('en-US', vantEn)
  else Locale.use('zh-CN', vantZh)
}
apply(lang.value)

export function setLang(value) {
  if (!LANGS.includes(value)) return
  lang.value = value
  try {
    localStorage.setItem(STORAGE_KEY, value)
  } catch {
    /* ignore */
  }
  apply(value)
}

export function toggleLang() {
  setLang(lang.value === 'zh' ? 'en' : 'zh')
}

/** Translate a key, filling {placeholders} from params. Falls back to Chinese, then the key. */
export function t(key, params) {
  const table = messages[lang.value] || messages.zh
  let text = table[key] ?? messages.zh[key] ?? key
  if (params) {
    text = text.replace(/\{(\w+)\}/g, (m, name) => (name in params ? String(params[name]) : m))
  }
  return text
}

/** Whether the dictionary has this key (in either language). */
export function hasMessage(key) {
  return key in messages.zh || key in messages.en
}

/** A friendly, localised sentence for an API problem (RFC 9457) or a network failure. */
export function problemMessage(err) {
  if (!err) return t('error.generic')
  if (err.status === 0) return t('error.network')
  if (err.code && hasMessage(`problem.${err.code}`)) return t(`problem.${err.code}`)
  if (err.status === 429) return t('problem.rate_limited')
  return err.detail || err.title || t('error.generic')
}

export function categoryLabel(code) {
  return categoryLabels[lang.value]?.[code] ?? categoryLabels.zh[code] ?? code
}

export function districtLabel(code, fallback) {
  return districtLabels[lang.value]?.[code] ?? fallback ?? code
}

export const isEnglish = computed(() => lang.value === 'en')

// exported for the consistency check (every key in both languages)
export const _messages = messages
