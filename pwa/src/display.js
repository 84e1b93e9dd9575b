// 适老化 "large text / high contrast" mode: a class on <html>, kept in localStorage.
import { useLocalStorage, flag } from './composables/useLocalStorage'

export const largeText = useLocalStorage('cx.largeText', false, { serializer: flag })

function apply(on) {
  document.documentElement.classList.toggle('cx-large', on)
  const meta = document.querySelector('meta[name="theme-color"]')
  if (meta) meta.setAttribute('content', on ? '#002b2b' : '#0e4a4a')
}
apply(largeText.value)

export function setLargeText(on) {
  largeText.value = !!on
  apply(largeText.value)
}
