import { createApp } from 'vue'
import { setToastDefaultOptions } from 'vant'
import 'vant/es/toast/style'
import './styles/base.css'
import './i18n'
import './display'
import App from './App.vue'
import { router } from './router'

// toasts wrap between words, never inside one (Vant's default breaks anywhere: "sig ned up")
setToastDefaultOptions({ wordBreak: 'break-word' })

createApp(App).use(router).mount('#app')
