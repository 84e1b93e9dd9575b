import { describe, expect, it } from 'vitest'
import { srcsetFor, smallFor, isIllustration, eventCover } from '../../src/pictures.js'

describe('pictures', () => {
  it('names the four server sizes of a /media/ picture', () => {
    expect(srcsetFor('/media/illustrations/venues/hongmei-park.webp')).toBe(
      '/media/w/320/illustrations/venues/hongmei-park.webp 320w, /media/w/640/illustrations/venues/hongmei-park.webp 640w, ' +
        '/media/w/960/illustrations/venues/hongmei-park.webp 960w, /media/w/1280/illustrations/venues/hongmei-park.webp 1280w',
    )
    expect(smallFor('/media/tours/x.png')).toBe('/media/w/320/tours/x.png')
  })

  it('leaves other pictures alone', () => {
    expect(srcsetFor('https://example.org/a.jpg')).toBe('')
    expect(srcsetFor('/media/audio/a.opus')).toBe('')
    expect(srcsetFor('/media/w/640/a.webp')).toBe('')
    expect(smallFor('https://example.org/a.jpg')).toBe('https://example.org/a.jpg')
  })

  it('knows an illustration and gives events without a picture their category cover', () => {
    expect(isIllustration('/media/illustrations/events/festival.webp')).toBe(true)
    expect(isIllustration('/media/w/320/illustrations/events/festival.webp')).toBe(true)
    expect(isIllustration('/media/exhibitions/x/y.png')).toBe(false)
    expect(eventCover({ category: 'festival' })).toBe('/media/illustrations/events/festival.webp')
    expect(eventCover({ category: 'festival', image: '/media/own.png' })).toBe('/media/own.png')
  })
})
