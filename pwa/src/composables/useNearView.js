// Whether an element has come near the screen (within `margin`), once: for what below the fold should not
// load with the page (a venue's map: its code, its tiles and its layout cost the first paint). Browsers
// without IntersectionObserver get `true` at once.
import { ref, watch, onBeforeUnmount } from 'vue'

export function useNearView(target, margin = '300px') {
  const near = ref(typeof IntersectionObserver === 'undefined')
  let observer = null
  const stop = () => {
    observer?.disconnect()
    observer = null
  }
  watch(
    target,
    (el) => {
      stop()
      if (!el || near.value) return
      observer = new IntersectionObserver(
        (entries) => {
          if (entries.some((e) => e.isIntersecting)) {
            near.value = true
            stop()
          }
        },
        { rootMargin: margin },
      )
      observer.observe(el)
    },
    { flush: 'post', immediate: true },
  )
  onBeforeUnmount(stop)
  return near
}
