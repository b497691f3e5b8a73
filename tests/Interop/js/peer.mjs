// A js-libp2p peer driven as a black box over stdin/stdout (newline-delimited JSON).
// The command protocol is the contract with ToolNet's C# interop tests: see README.md next to this file.
//
//   node --import ./polyfill.mjs peer.mjs [--listen MADDR]... [--key HEX] [--psk-file PATH] [--quiet-events] [--no-connection-monitor]
//
// stdout carries only protocol lines; everything else (including DEBUG=libp2p:* logs) goes to stderr.
import { readFileSync } from 'node:fs'
import { createInterface } from 'node:readline'
import { noise } from '@chainsafe/libp2p-noise'
import { yamux } from '@chainsafe/libp2p-yamux'
import { privateKeyFromProtobuf } from '@libp2p/crypto/keys'
import { echo } from '@libp2p/echo'
import { identify, identifyPush } from '@libp2p/identify'
import { preSharedKey } from '@libp2p/pnet'
import { peerIdFromString } from '@libp2p/peer-id'
import { ping } from '@libp2p/ping'
import { tcp } from '@libp2p/tcp'
import { webSockets } from '@libp2p/websockets'
import { multiaddr } from '@multiformats/multiaddr'
import { createLibp2p } from 'libp2p'
import { encodeU64, handlePerfStream, parseByteCount, PERF_BLOCK, PERF_PROTOCOL, runPerfClient } from './perf.mjs'
import { abortable, patternBytes, readAll, readChunks, sendRepeated, sendSliced } from './stream-util.mjs'

const ECHO_PROTOCOL = '/echo/1.0.0'
const PING_PROTOCOL = '/ipfs/ping/1.0.0'
/** Streams per protocol per connection: well above js defaults (32 inbound/64 outbound) for the streams test. */
const MAX_STREAMS = 4096
/** How long `identify` waits for the automatic identify of a fresh connection before running its own. */
const AUTO_IDENTIFY_WAIT_MS = 5_000

// ---- stdout is the protocol channel -------------------------------------------------------------------
for (const method of ['log', 'info', 'debug']) console[method] = console.error.bind(console)
process.stdout.on('error', () => process.exit(1)) // the harness went away (EPIPE)

function writeLine (message) {
  process.stdout.write(JSON.stringify(message, (_, v) => typeof v === 'bigint' ? v.toString() : v) + '\n')
}

function describeError (err) {
  if (err == null) return 'unknown error'
  const name = err.name != null && err.name !== 'Error' ? `${err.name}: ` : ''
  return `${name}${err.message ?? String(err)}`
}

process.on('unhandledRejection', (err) => {
  console.error('unhandled rejection', err)
  writeLine({ event: 'error', kind: 'unhandledRejection', error: describeError(err) })
})
process.on('uncaughtException', (err) => {
  console.error('uncaught exception', err)
  writeLine({ event: 'error', kind: 'uncaughtException', error: describeError(err) })
})

// ---- arguments -------------------------------------------------------------------------------------------
function parseArgs (argv) {
  const options = { listen: [], key: undefined, pskFile: undefined, quietEvents: false, connectionMonitor: true }
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]
    const value = () => {
      if (i + 1 >= argv.length) throw new Error(`${arg} needs a value`)
      return argv[++i]
    }
    if (arg === '--listen') options.listen.push(value())
    else if (arg === '--key') options.key = value()
    else if (arg === '--psk-file') options.pskFile = value()
    else if (arg === '--quiet-events') options.quietEvents = true
    else if (arg === '--no-connection-monitor') options.connectionMonitor = false
    else throw new Error(`unknown argument ${arg}`)
  }
  if (options.listen.length === 0) options.listen.push('/ip4/127.0.0.1/tcp/0', '/ip4/127.0.0.1/tcp/0/ws')
  return options
}

// ---- node ------------------------------------------------------------------------------------------------
async function createNode (options) {
  const node = await createLibp2p({
    privateKey: options.key == null ? undefined : privateKeyFromProtobuf(Buffer.from(options.key, 'hex')),
    addresses: { listen: options.listen },
    // A private network (libp2p pnet): every connection is wrapped with the pre-shared key of this swarm.key file.
    connectionProtector: options.pskFile == null ? undefined : preSharedKey({ psk: readFileSync(options.pskFile) }),
    transports: [tcp(), webSockets()],
    connectionEncrypters: [noise()],
    streamMuxers: [yamux({ maxInboundStreams: MAX_STREAMS, maxOutboundStreams: MAX_STREAMS })],
    connectionManager: {
      // loopback is exempt from the inbound rate limit and the pending-connection cap; the numbers below
      // are generous too, so connection floods from benchmarks are never throttled
      allow: ['/ip4/127.0.0.1/ipcidr/8', '/ip6/::1/ipcidr/128'],
      maxConnections: 10_000,
      maxIncomingPendingConnections: 1_000,
      inboundConnectionThreshold: 100_000,
      maxParallelDials: 500
    },
    connectionMonitor: { enabled: options.connectionMonitor },
    services: {
      identify: identify(),
      identifyPush: identifyPush(),
      // js allows 1 outbound ping stream per connection by default, and the connection monitor aborts the
      // whole connection when its heartbeat ping hits that limit (e.g. during a `ping` command); the
      // inbound limit stays at the js default (2)
      ping: ping({ maxOutboundStreams: 64 }),
      echo: echo({ maxInboundStreams: MAX_STREAMS, maxOutboundStreams: MAX_STREAMS, timeout: 120_000 })
    }
  })
  await node.handle(PERF_PROTOCOL, (stream, connection) => handlePerfStream(stream, connection.log), {
    maxInboundStreams: MAX_STREAMS,
    maxOutboundStreams: MAX_STREAMS
  })
  return node
}

// ---- identify results, kept per connection ---------------------------------------------------------------
class IdentifyResults {
  #byConnection = new Map()
  #waiters = new Map()

  record (result) {
    const id = result.connection.id
    this.#byConnection.set(id, result)
    for (const resolve of this.#waiters.get(id) ?? []) resolve(result)
    this.#waiters.delete(id)
  }

  forget (connectionId) {
    this.#byConnection.delete(connectionId)
  }

  /** The latest identify result for the connection, waiting up to `ms` for the first one. */
  async wait (connectionId, ms) {
    const known = this.#byConnection.get(connectionId)
    if (known != null) return known
    return new Promise(resolve => {
      const waiters = this.#waiters.get(connectionId) ?? []
      this.#waiters.set(connectionId, waiters)
      const timer = setTimeout(() => {
        const i = waiters.indexOf(done)
        if (i >= 0) waiters.splice(i, 1)
        resolve(undefined)
      }, ms)
      const done = (result) => { clearTimeout(timer); resolve(result) }
      waiters.push(done)
    })
  }
}

function describeConnection (connection) {
  return {
    connectionId: connection.id,
    peerId: connection.remotePeer.toString(),
    remoteAddr: connection.remoteAddr.toString(),
    direction: connection.direction,
    status: connection.status,
    encryption: connection.encryption ?? null,
    multiplexer: connection.multiplexer ?? null,
    limited: connection.limits != null,
    streams: connection.streams.length
  }
}

function describeIdentify (result) {
  const record = result.signedPeerRecord
  return {
    peerId: result.peerId.toString(),
    connectionId: result.connection.id,
    agentVersion: result.agentVersion ?? null,
    protocolVersion: result.protocolVersion ?? null,
    protocols: [...result.protocols].sort(),
    listenAddrs: result.listenAddrs.map(String),
    observedAddr: result.observedAddr?.toString() ?? null,
    // identify rejects the whole message if the envelope's signature, domain or peer id do not verify,
    // so a record present here has been verified
    signedPeerRecord: record == null
      ? { present: false, verified: false, seq: null, addrs: [] }
      : { present: true, verified: true, seq: record.seq.toString(), addrs: record.addresses.map(String) }
  }
}

// ---- commands --------------------------------------------------------------------------------------------
class Commands {
  constructor (node, identifyResults, shutdown) {
    this.node = node
    this.identifyResults = identifyResults
    this.shutdown = shutdown
  }

  /** `addr` (a multiaddr; with /p2p/ an open connection to that peer is reused) or `peerId`. */
  target (cmd) {
    if (typeof cmd.addr === 'string') return multiaddr(cmd.addr)
    if (typeof cmd.peerId === 'string') return peerIdFromString(cmd.peerId)
    throw new TypeError('the command needs "addr" (multiaddr) or "peerId"')
  }

  async connection (cmd, signal) {
    return this.node.dial(this.target(cmd), { signal, force: cmd.force === true })
  }

  async dial (cmd, signal) {
    const before = new Set(this.node.getConnections().map(c => c.id))
    const connection = await this.connection(cmd, signal)
    return { ...describeConnection(connection), remotePeer: connection.remotePeer.toString(), reused: before.has(connection.id) }
  }

  async identify (cmd, signal) {
    const connection = await this.connection(cmd, signal)
    let result = cmd.fresh === true ? undefined : await this.identifyResults.wait(connection.id, AUTO_IDENTIFY_WAIT_MS)
    // no (successful) automatic identify: run one now, which reports why it fails
    result ??= await this.node.services.identify.identify(connection, { signal })
    const peer = await this.node.peerStore.get(connection.remotePeer, { signal })
    const text = (bytes) => bytes == null ? null : new TextDecoder().decode(bytes)
    return {
      ...describeIdentify(result),
      remoteAddr: connection.remoteAddr.toString(),
      peerStore: {
        agentVersion: text(peer.metadata.get('AgentVersion')),
        protocolVersion: text(peer.metadata.get('ProtocolVersion')),
        protocols: [...peer.protocols].sort(),
        addresses: peer.addresses.map(a => ({ addr: a.multiaddr.toString(), certified: a.isCertified })),
        hasPeerRecordEnvelope: peer.peerRecordEnvelope != null
      }
    }
  }

  async ping (cmd, signal) {
    const connection = await this.connection(cmd, signal)
    const rtts = await pingOver(connection, cmd.count ?? 1, signal)
    return { peerId: connection.remotePeer.toString(), connectionId: connection.id, rtts }
  }

  async echo (cmd, signal) {
    const data = Buffer.from(cmd.dataBase64 ?? '', 'base64')
    const connection = await this.connection(cmd, signal)
    const stream = await connection.newStream(ECHO_PROTOCOL, { signal, negotiateFully: cmd.lazy !== true })
    try {
      const reading = readAll(stream)
      reading.catch(() => {})
      await sendSliced(stream, data, 65536, signal)
      await stream.close({ signal })
      const echoed = await abortable(reading, signal)
      return { dataBase64: Buffer.from(echoed).toString('base64'), bytes: echoed.byteLength }
    } catch (err) {
      stream.abort(err)
      throw err
    }
  }

  async perf (cmd, signal) {
    const upload = parseByteCount(cmd.upload, 'upload')
    const download = parseByteCount(cmd.download, 'download')
    const connection = await this.connection(cmd, signal)
    return runPerfClient(connection, { upload, download, signal, negotiateFully: cmd.lazy !== true })
  }

  async perfConnections (cmd, signal) {
    const target = this.target(cmd)
    const count = positiveInteger(cmd.count ?? 1, 'count')
    let dialMs = 0
    const started = performance.now()
    for (let i = 0; i < count; i++) {
      const dialStarted = performance.now()
      const connection = await this.node.dial(target, { signal, force: true })
      dialMs += performance.now() - dialStarted
      await connection.close({ signal })
    }
    const elapsedSeconds = (performance.now() - started) / 1000
    const dialSeconds = dialMs / 1000
    return { count, elapsedSeconds, connectionsPerSecond: count / elapsedSeconds, dialSeconds, closeSeconds: elapsedSeconds - dialSeconds }
  }

  async streams (cmd, signal) {
    const count = positiveInteger(cmd.count ?? 1, 'count')
    const bytes = nonNegativeInteger(cmd.bytes ?? 1024, 'bytes')
    const connection = await this.connection(cmd, signal)
    const outcomes = await Promise.allSettled(Array.from({ length: count }, (_, i) =>
      echoAndVerify(connection, patternBytes(i + 1, bytes), signal, cmd.lazy === true)))
    const errors = [...new Set(outcomes.filter(o => o.status === 'rejected').map(o => describeError(o.reason)))]
    const succeeded = outcomes.filter(o => o.status === 'fulfilled').length
    return { connectionId: connection.id, count, bytes, succeeded, failed: count - succeeded, errors: errors.slice(0, 10) }
  }

  async resetMidTransfer (cmd, signal) {
    const protocol = cmd.protocol ?? ECHO_PROTOCOL
    const bytes = nonNegativeInteger(cmd.bytes ?? 1024 * 1024, 'bytes')
    const phase = cmd.phase ?? 'upload'
    if (phase !== 'upload' && phase !== 'download') throw new TypeError('"phase" must be "upload" or "download"')
    const connection = await this.connection(cmd, signal)
    const stream = await connection.newStream(protocol, { signal })
    // read from the start, so what an echo returns while we send does not pile up (js resets a stream
    // whose unread buffer passes 4 MiB)
    let received = 0
    let halfReceived
    const halfway = new Promise(resolve => { halfReceived = resolve })
    const reading = (async () => {
      for await (const chunk of readChunks(stream)) {
        received += chunk.byteLength
        if (received >= bytes / 2) halfReceived()
      }
    })()
    reading.catch(() => {}).finally(halfReceived)
    let sent = 0n
    try {
      if (protocol === PERF_PROTOCOL) {
        stream.send(encodeU64(phase === 'download' ? BigInt(bytes) : 0n))
      }
      if (phase === 'upload') {
        // send `bytes`, then reset while the remote is still reading (we never close our write side)
        sent = await sendRepeated(stream, PERF_BLOCK, bytes, signal)
      } else {
        // make the remote send `bytes` back, then reset once half of it has arrived
        if (protocol !== PERF_PROTOCOL) sent = await sendRepeated(stream, PERF_BLOCK, bytes, signal)
        await stream.close({ signal })
        await abortable(halfway, signal)
      }
    } catch (err) {
      stream.abort(err)
      throw err
    }
    stream.abort(new Error('resetMidTransfer: deliberate reset'))
    const streamStatus = stream.status
    const rtts = await pingOver(connection, 1, signal)
    return {
      connectionId: connection.id,
      protocol,
      phase,
      sentBytes: Number(sent),
      receivedBytes: received,
      streamStatus,
      connectionStatus: connection.status,
      pingMs: rtts[0]
    }
  }

  async hangup (cmd, signal) {
    let connections
    if (typeof cmd.peerId === 'string') {
      connections = this.node.getConnections(peerIdFromString(cmd.peerId))
    } else {
      const addr = this.target(cmd)
      const peer = addr.getComponents().findLast(c => c.name === 'p2p')?.value
      connections = peer != null
        ? this.node.getConnections(peerIdFromString(peer))
        : this.node.getConnections().filter(c => c.remoteAddr.equals(addr))
    }
    await Promise.all(connections.map(c => c.close({ signal })))
    return { closed: connections.length }
  }

  async connections () {
    return {
      connections: this.node.getConnections().map(c => ({
        ...describeConnection(c),
        streamProtocols: c.streams.map(s => s.protocol ?? null)
      }))
    }
  }

  async stop () {
    setImmediate(() => this.shutdown(0))
    return {}
  }
}

function positiveInteger (value, name) {
  if (!Number.isSafeInteger(value) || value < 1) throw new TypeError(`"${name}" must be a positive integer`)
  return value
}

function nonNegativeInteger (value, name) {
  if (!Number.isSafeInteger(value) || value < 0) throw new TypeError(`"${name}" must be a non-negative integer`)
  return value
}

/** /ipfs/ping/1.0.0 over one stream on this connection: 32 random bytes out, the same 32 back, `count` times. */
async function pingOver (connection, count, signal) {
  positiveInteger(count, 'count')
  const stream = await connection.newStream(PING_PROTOCOL, { signal })
  const rtts = []
  try {
    const reader = readChunks(stream)
    for (let i = 0; i < count; i++) {
      const payload = crypto.getRandomValues(new Uint8Array(32))
      const started = performance.now()
      stream.send(payload)
      const reply = new Uint8Array(32)
      let length = 0
      while (length < 32) {
        const { value, done } = await abortable(reader.next(), signal)
        if (done) throw new Error(`ping: EOF after ${length} of 32 bytes`)
        const bytes = value.subarray()
        if (length + bytes.byteLength > 32) throw new Error('ping: the remote sent more than 32 bytes')
        reply.set(bytes, length)
        length += bytes.byteLength
      }
      rtts.push(performance.now() - started)
      if (!reply.every((b, j) => b === payload[j])) throw new Error('ping: the reply differs from the payload')
    }
    await stream.close({ signal })
    await reader.return()
    return rtts
  } catch (err) {
    stream.abort(err)
    throw err
  }
}

/** One echo stream: sends `data`, half-closes, checks that exactly `data` comes back. */
async function echoAndVerify (connection, data, signal, lazy) {
  const stream = await connection.newStream(ECHO_PROTOCOL, { signal, negotiateFully: !lazy })
  try {
    const reading = (async () => {
      let offset = 0
      for await (const chunk of readChunks(stream)) {
        const bytes = chunk.subarray()
        if (offset + bytes.byteLength > data.byteLength) throw new Error('echo: more bytes came back than were sent')
        for (let i = 0; i < bytes.byteLength; i++) {
          if (bytes[i] !== data[offset + i]) throw new Error(`echo: byte ${offset + i} differs`)
        }
        offset += bytes.byteLength
      }
      if (offset !== data.byteLength) throw new Error(`echo: ${offset} of ${data.byteLength} bytes came back`)
    })()
    reading.catch(() => {})
    await sendSliced(stream, data, 65536, signal)
    await stream.close({ signal })
    await abortable(reading, signal)
  } catch (err) {
    stream.abort(err)
    throw err
  }
}

// ---- main ------------------------------------------------------------------------------------------------
async function main () {
  const options = parseArgs(process.argv.slice(2))
  const node = await createNode(options)
  const identifyResults = new IdentifyResults()

  let stopping
  const shutdown = (code) => {
    stopping ??= (async () => {
      try {
        await abortable(node.stop(), AbortSignal.timeout(5_000))
      } catch (err) {
        console.error('stop failed', err)
      }
      process.exit(code)
    })()
    return stopping
  }
  process.on('SIGINT', () => shutdown(0))
  process.on('SIGTERM', () => shutdown(0))

  writeLine({
    event: 'ready',
    peerId: node.peerId.toString(),
    addrs: node.getMultiaddrs().map(String),
    protocols: node.getProtocols()
  })

  const emit = options.quietEvents ? () => {} : writeLine
  node.addEventListener('connection:open', (evt) => emit({ event: 'connection:open', ...describeConnection(evt.detail) }))
  node.addEventListener('connection:close', (evt) => {
    identifyResults.forget(evt.detail.id)
    emit({ event: 'connection:close', ...describeConnection(evt.detail) })
  })
  node.addEventListener('peer:identify', (evt) => {
    identifyResults.record(evt.detail)
    emit({ event: 'peer:identify', ...describeIdentify(evt.detail) })
  })

  const commands = new Commands(node, identifyResults, shutdown)
  const names = new Set(Object.getOwnPropertyNames(Commands.prototype).filter(n => n !== 'constructor' && n !== 'target' && n !== 'connection'))

  const run = async (line) => {
    let cmd
    try {
      cmd = JSON.parse(line)
      if (cmd == null || typeof cmd !== 'object' || Array.isArray(cmd)) throw new TypeError('a command must be a JSON object')
    } catch (err) {
      writeLine({ id: null, ok: false, error: `invalid command line: ${describeError(err)}` })
      return
    }
    const id = cmd.id ?? null
    try {
      if (!names.has(cmd.cmd)) throw new TypeError(`unknown command ${JSON.stringify(cmd.cmd)}`)
      const signal = cmd.timeoutMs == null ? undefined : AbortSignal.timeout(cmd.timeoutMs)
      const result = await abortable(commands[cmd.cmd](cmd, signal), signal)
      writeLine({ id, ok: true, ...result })
    } catch (err) {
      console.error(`command ${id} (${cmd.cmd}) failed`, err)
      writeLine({ id, ok: false, error: describeError(err) })
    }
  }

  const input = createInterface({ input: process.stdin, crlfDelay: Infinity })
  input.on('line', (line) => { if (line.trim() !== '') void run(line) })
  input.on('close', () => shutdown(0))
}

main().catch((err) => {
  console.error('failed to start', err)
  writeLine({ event: 'error', kind: 'startup', error: describeError(err) })
  process.exit(1)
})
