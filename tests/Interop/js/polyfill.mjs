// Loaded with `node --import ./polyfill.mjs peer.mjs`, before any libp2p module is evaluated.
//
// js-libp2p 3.x targets runtimes newer than Node 20:
// - it calls Promise.withResolvers() (ES2024; Node >= 22), e.g. in @libp2p/utils streams, echo and ping;
// - @libp2p/websockets dials with the global `WebSocket` (Node >= 22); the `ws` package provides a
//   compatible implementation (EventTarget API, binaryType 'arraybuffer', bufferedAmount).
// Both are installed only when missing, so on newer Node versions this file is a no-op.
import { WebSocket } from 'ws'

if (typeof Promise.withResolvers !== 'function') {
  Object.defineProperty(Promise, 'withResolvers', {
    configurable: true,
    writable: true,
    enumerable: false,
    value: function withResolvers () {
      let resolve
      let reject
      const promise = new this((res, rej) => {
        resolve = res
        reject = rej
      })
      return { promise, resolve, reject }
    }
  })
}

if (typeof globalThis.WebSocket === 'undefined') {
  globalThis.WebSocket = WebSocket
}
