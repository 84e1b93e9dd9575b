// 适老化 "large text / high contrast" mode: a class on <html>, kept in localStorage.
import { ref } from 'vue'

const STORAGE_KEY = 'cx.largeText'

function initial() {
  try {
    return localStorage.getItem(STORAGE_KEY) === '1'
  } catch {
    return false
  }
}

export const largeText = ref(initial())

function apply(on) {
  document.documentElement.classList.toggle('cx-large', on)
  const meta = document.querySelector('meta[name="theme-color"]')
  if (meta) meta.setAttribute('content', on ? '#002b2b' : '#0e4a4a')
}
apply(largeText.value)

export function setLargeText(on) {
  largeText.value = !!on
  try {
    localStorage.setItem(STORAGE_KEY, on ? '1' : '0')
  } catch {
    /* ignore */
  }
  apply(largeText.value)
}
