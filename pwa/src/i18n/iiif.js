// Strings of the deep-zoom viewer (issue 21: an exhibition's object in OpenSeadragon over the server's IIIF
// tiles), merged into the dictionary of ../i18n.js. Every key in both languages.
export default {
  zh: {
    'zoom.dialog': '放大查看：{label}',
    'zoom.in': '放大',
    'zoom.out': '缩小',
    'zoom.home': '复原',
    'zoom.close': '关闭',
    'zoom.loading': '正在加载高清图…',
    'zoom.failed': '高清图暂时无法加载',
    'zoom.hint': '双指或双击放大，拖动查看细节',
  },
  en: {
    'zoom.dialog': 'Zoom in on {label}',
    'zoom.in': 'Zoom in',
    'zoom.out': 'Zoom out',
    'zoom.home': 'Whole picture',
    'zoom.close': 'Close',
    'zoom.loading': 'Loading the full-resolution picture…',
    'zoom.failed': 'The full-resolution picture could not be loaded',
    'zoom.hint': 'Pinch or double-tap to zoom, drag to look closer',
  },
}
