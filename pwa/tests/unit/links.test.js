import { describe, expect, it } from 'vitest'
import { safeHref } from '../../src/links'

describe('safeHref', () => {
  it('keeps https: URLs and /media/ paths', () => {
    for (const ok of ['https://creativecommons.org/licenses/by/4.0/', '/media/exhibitions/a/b.png', 'https://x.cn:8443/a?b#c']) {
      expect(safeHref(ok)).toBe(ok)
    }
  })
  it('drops everything else', () => {
    for (const bad of ['javascript:alert(1)', 'JavaScript:alert(1)', 'http://x.cn/', '//evil.cn/', 'data:text/html,x',
      '/media/../x', '/media//evil.cn', ' https://x.cn', 'https://user@evil.cn/', 'https://x.cn/"a', null, 42]) {
      expect(safeHref(bad)).toBe('')
    }
  })
})
