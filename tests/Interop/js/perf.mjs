// The /perf/1.0.0 protocol, written from libp2p/specs perf/perf.md (there is no js-libp2p 3.x package for it).
//
// Client: open a stream, send the number of bytes it wants back as a big-endian u64, upload any amount of
// data, close its write side, then read until EOF.
// Server: read the u64, read until EOF (the client's write side closed), only then send that many bytes
// back and close.
import { abortable, readChunks, sendRepeated, sendWithBackpressure } from './stream-util.mjs'

export const PERF_PROTOCOL = '/perf/1.0.0'

const U64_MAX = (1n << 64n) - 1n
const HEADER_LENGTH = 8

/** 256 KiB of random bytes sent over and over; never modified after creation. */
export const PERF_BLOCK = new Uint8Array(256 * 1024)
for (let offset = 0; offset < PERF_BLOCK.byteLength; offset += 65536) {
  crypto.getRandomValues(PERF_BLOCK.subarray(offset, offset + 65536)) // at most 64 KiB per call
}

/** Parses a byte count given as a JSON number or decimal string into a bigint in [0, 2^64-1]. */
export function parseByteCount (value, name) {
  let count
  try {
    count = BigInt(value ?? 0)
  } catch {
    throw new TypeError(`"${name}" must be an integer number of bytes`)
  }
  if (count < 0n || count > U64_MAX) throw new RangeError(`"${name}" must be in [0, 2^64-1]`)
  return count
}

export function encodeU64 (value) {
  const header = new Uint8Array(HEADER_LENGTH)
  new DataView(header.buffer).setBigUint64(0, value, false)
  return header
}

/**
 * Server side of one perf stream. Resolves when the stream is done; a stream that is reset or ends
 * before the 8-byte header is aborted/logged, never thrown past the handler.
 */
export async function handlePerfStream (stream, log) {
  const header = new Uint8Array(HEADER_LENGTH)
  let headerLength = 0
  let uploaded = 0
  try {
    for await (const chunk of readChunks(stream)) {
      let offset = 0
      if (headerLength < HEADER_LENGTH) {
        const take = Math.min(HEADER_LENGTH - headerLength, chunk.byteLength)
        header.set(chunk.subarray(0, take), headerLength)
        headerLength += take
        offset = take
      }
      uploaded += chunk.byteLength - offset
    }
    if (headerLength < HEADER_LENGTH) {
      stream.abort(new Error(`perf: EOF after ${headerLength} of the ${HEADER_LENGTH} header bytes`))
      return
    }
    const requested = new DataView(header.buffer).getBigUint64(0, false)
    log('perf: received %d bytes, sending %s', uploaded, requested)
    await sendRepeated(stream, PERF_BLOCK, requested)
    await stream.close()
  } catch (err) {
    log('perf: stream ended early - %s', err.message)
    stream.abort(err)
  }
}

/**
 * Client side: runs one perf exchange on a new stream over `connection`.
 * Times: upload = stream open until the server starts answering (first response byte, or EOF when
 * nothing is downloaded) - the server only answers after it has read our whole upload;
 * download = from then until EOF.
 */
export async function runPerfClient (connection, { upload, download, signal, negotiateFully = true }) {
  const started = performance.now()
  const stream = await connection.newStream(PERF_PROTOCOL, { signal, negotiateFully })
  let firstResponseAt
  let received = 0n
  const reading = (async () => {
    for await (const chunk of readChunks(stream)) {
      firstResponseAt ??= performance.now()
      received += BigInt(chunk.byteLength)
    }
  })()
  reading.catch(() => {}) // awaited below; this only keeps an early failure from being "unhandled"

  try {
    await sendWithBackpressure(stream, encodeU64(download), signal)
    await sendRepeated(stream, PERF_BLOCK, upload, signal)
    await stream.close({ signal })
    const writeClosedAt = performance.now()
    await abortable(reading, signal)
    const finished = performance.now()
    if (received !== download) {
      throw new Error(`perf: asked for ${download} bytes, received ${received}`)
    }
    const uploadEnd = firstResponseAt ?? finished
    const seconds = (ms) => ms / 1000
    const uploadSeconds = seconds(uploadEnd - started)
    const downloadSeconds = seconds(finished - uploadEnd)
    return {
      uploadBytes: Number(upload),
      downloadBytes: Number(download),
      bytes: Number(upload + download),
      uploadSeconds,
      downloadSeconds,
      totalSeconds: seconds(finished - started),
      writeClosedSeconds: seconds(writeClosedAt - started),
      uploadMiBps: mibPerSecond(upload, uploadSeconds),
      downloadMiBps: mibPerSecond(download, downloadSeconds)
    }
  } catch (err) {
    stream.abort(err)
    throw err
  }
}

function mibPerSecond (bytes, seconds) {
  return seconds > 0 ? Number(bytes) / (1024 * 1024) / seconds : null
}
