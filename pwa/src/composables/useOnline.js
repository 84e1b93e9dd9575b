// The browser's online/offline state as a ref, kept in step by the window's events while the
// component that asked is mounted; `onOnline` / `onOffline` run when it changes.
import { ref, onMounted, onBeforeUnmount } from 'vue'

export function useOnline({ onOnline, onOffline } = {}) {
  const online = ref(typeof navigator === 'undefined' ? true : navigator.onLine)
  const up = () => {
    online.value = true
    onOnline?.()
  }
  const down = () => {
    online.value = false
    onOffline?.()
  }
  onMounted(() => {
    window.addEventListener('online', up)
    window.addEventListener('offline', down)
  })
  onBeforeUnmount(() => {
    window.removeEventListener('online', up)
    window.removeEventListener('offline', down)
  })
  return online
}
