import { createApp } from 'vue'
import 'vant/es/toast/style'
import './styles/base.css'
import './i18n'
import './display'
import App from './App.vue'
import { router } from './router'

createApp(App).use(router).mount('#app')
