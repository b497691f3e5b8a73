// Small helpers over the libp2p 3.x MessageStream API (@libp2p/interface message-stream.d.ts).

/**
 * Yields every chunk (Uint8Array | Uint8ArrayList) the remote sends until it closes its write side (EOF),
 * and throws if the stream is reset or aborted.
 *
 * The stream's own async iterator ends only on the 'remoteCloseWrite' event. On an inbound stream whose
 * FIN arrived right behind the protocol proposal and data, that event fired during protocol negotiation,
 * before the handler started iterating, so the iterator never ends (js-libp2p 3.3.11; @libp2p/echo's
 * handler is affected). EOF is therefore decided from the stream's state: the remote write side is closed
 * and nothing is left in the stream's read buffer or in ours.
 */
export async function * readChunks (stream) {
  const queue = []
  let wake
  const notify = () => {
    const w = wake
    wake = undefined
    w?.()
  }
  const onMessage = (evt) => { queue.push(evt.data); notify() }

  stream.addEventListener('message', onMessage)
  stream.addEventListener('remoteCloseWrite', notify)
  stream.addEventListener('end', notify)
  stream.addEventListener('close', notify)
  try {
    while (true) {
      if (queue.length > 0) {
        yield queue.shift()
        continue
      }
      if (stream.status === 'reset' || stream.status === 'aborted') {
        throw new StreamFailedError(`stream ${stream.status} before EOF`)
      }
      if (stream.remoteWriteStatus === 'closed' && stream.readBufferLength === 0) return
      await new Promise(resolve => { wake = resolve })
    }
  } finally {
    stream.removeEventListener('message', onMessage)
    stream.removeEventListener('remoteCloseWrite', notify)
    stream.removeEventListener('end', notify)
    stream.removeEventListener('close', notify)
  }
}

/** The stream was reset by the remote or aborted locally while it was being read. */
export class StreamFailedError extends Error {
  name = 'StreamFailedError'
}

/** Reads until EOF and returns everything as one Uint8Array. */
export async function readAll (stream) {
  const chunks = []
  let length = 0
  for await (const chunk of readChunks(stream)) {
    const bytes = chunk.subarray()
    chunks.push(bytes)
    length += bytes.byteLength
  }
  const out = new Uint8Array(length)
  let offset = 0
  for (const bytes of chunks) {
    out.set(bytes, offset)
    offset += bytes.byteLength
  }
  return out
}

/**
 * Resolves once the stream can take more data; rejects if it closes first.
 *
 * Waits for the 'drain' event itself instead of using stream.onDrain(): in @libp2p/utils 7.4.1
 * onDrain() caches its promise and never clears it after the first drain, so every later call
 * resolves at once and the writer would buffer without limit.
 */
export function waitForDrain (stream, signal) {
  if (!stream.writableNeedsDrain) return Promise.resolve()
  return new Promise((resolve, reject) => {
    const cleanup = () => {
      stream.removeEventListener('drain', onDrain)
      stream.removeEventListener('close', onClose)
      signal?.removeEventListener('abort', onAbort)
    }
    const onDrain = () => { cleanup(); resolve() }
    const onClose = (evt) => { cleanup(); reject(evt.error ?? new Error('stream closed while waiting for drain')) }
    const onAbort = () => { cleanup(); reject(signal.reason) }
    stream.addEventListener('drain', onDrain)
    stream.addEventListener('close', onClose)
    signal?.addEventListener('abort', onAbort)
  })
}

/** send() with backpressure: waits for 'drain' whenever send() reports the buffer is full. */
export async function sendWithBackpressure (stream, bytes, signal) {
  if (!stream.send(bytes)) await waitForDrain(stream, signal)
}

/**
 * Sends `count` bytes (a number or bigint) taken repeatedly from `block`, which is never modified
 * (the muxer may hold on to the chunks it was given until they are written).
 * Returns the number of bytes sent.
 */
export async function sendRepeated (stream, block, count, signal) {
  let remaining = BigInt(count)
  const blockLength = BigInt(block.byteLength)
  while (remaining > 0n) {
    signal?.throwIfAborted()
    const chunk = remaining >= blockLength ? block : block.subarray(0, Number(remaining))
    remaining -= BigInt(chunk.byteLength)
    await sendWithBackpressure(stream, chunk, signal)
  }
  return BigInt(count)
}

/** Deterministic pseudo-random bytes (xorshift32), so both ends of a test can regenerate them. */
export function patternBytes (seed, length) {
  const out = new Uint8Array(length)
  let x = (seed ^ 0x9e3779b9) >>> 0 || 1
  for (let i = 0; i < length; i++) {
    x ^= x << 13; x >>>= 0
    x ^= x >>> 17
    x ^= x << 5; x >>>= 0
    out[i] = x & 0xff
  }
  return out
}

/** Sends `bytes` in slices of at most `sliceLength`, respecting backpressure. */
export async function sendSliced (stream, bytes, sliceLength, signal) {
  for (let offset = 0; offset < bytes.byteLength; offset += sliceLength) {
    await sendWithBackpressure(stream, bytes.subarray(offset, offset + sliceLength), signal)
  }
}

/** Settles like `promise`, or rejects with the signal's reason once it aborts. */
export function abortable (promise, signal) {
  if (signal == null) return promise
  signal.throwIfAborted()
  return new Promise((resolve, reject) => {
    const onAbort = () => reject(signal.reason)
    signal.addEventListener('abort', onAbort, { once: true })
    promise.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort))
  })
}
