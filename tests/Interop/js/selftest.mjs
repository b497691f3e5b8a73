// js <-> js self test of peer.mjs: starts two peers on 127.0.0.1, drives every command of one against the
// other over TCP and over WebSockets, checks the replies and events, prints a summary, exits 1 on failure.
//
//   node selftest.mjs            # the functional checks (a few seconds)
//   node selftest.mjs --bench    # also perf 64 MiB up+down, 1 GiB up, and 200 sequential connections over TCP
import { spawn } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { createInterface } from 'node:readline'
import { fileURLToPath } from 'node:url'

const here = fileURLToPath(new URL('.', import.meta.url))
const MiB = 1024 * 1024

/** One peer.mjs child process: sends commands, matches replies by id, records events. */
class Peer {
  #nextId = 1
  #pending = new Map()
  events = []
  #eventWaiters = []

  constructor (name, args = []) {
    this.name = name
    this.child = spawn(process.execPath, ['--import', './polyfill.mjs', 'peer.mjs', ...args], {
      cwd: here,
      stdio: ['pipe', 'pipe', 'inherit']
    })
    this.exited = new Promise(resolve => this.child.on('exit', (code, signal) => resolve({ code, signal })))
    this.ready = new Promise((resolve, reject) => {
      this.child.on('exit', (code) => reject(new Error(`${name} exited with ${code} before it was ready`)))
      this.#eventWaiters.push({ match: e => e.event === 'ready', resolve })
    })
    createInterface({ input: this.child.stdout }).on('line', (line) => this.#onLine(line))
  }

  #onLine (line) {
    let message
    try {
      message = JSON.parse(line)
    } catch {
      throw new Error(`${this.name} wrote a non-JSON line to stdout: ${line}`)
    }
    if (message.event != null) {
      this.events.push(message)
      this.#eventWaiters = this.#eventWaiters.filter(w => {
        if (!w.match(message)) return true
        w.resolve(message)
        return false
      })
      return
    }
    const pending = this.#pending.get(message.id)
    if (pending == null) throw new Error(`${this.name} replied to unknown id ${message.id}: ${line}`)
    this.#pending.delete(message.id)
    pending(message)
  }

  /** Sends a command; resolves with the reply (ok or not). */
  request (cmd, fields = {}) {
    const id = this.#nextId++
    return new Promise(resolve => {
      this.#pending.set(id, resolve)
      this.child.stdin.write(JSON.stringify({ id, cmd, ...fields }) + '\n')
    })
  }

  /** Sends a command and throws unless the reply is ok. */
  async call (cmd, fields = {}) {
    const reply = await this.request(cmd, fields)
    if (reply.ok !== true) throw new Error(`${this.name} ${cmd} failed: ${reply.error}`)
    return reply
  }

  waitForEvent (match, ms = 10_000) {
    const seen = this.events.find(match)
    if (seen != null) return Promise.resolve(seen)
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`${this.name}: event not seen within ${ms} ms`)), ms)
      this.#eventWaiters.push({ match, resolve: (e) => { clearTimeout(timer); resolve(e) } })
    })
  }
}

const results = []
async function check (name, fn) {
  const started = performance.now()
  try {
    const detail = await fn()
    results.push({ name, ok: true, ms: performance.now() - started, detail })
    console.log(`ok   ${name}${detail != null ? `  (${detail})` : ''}`)
  } catch (err) {
    results.push({ name, ok: false, error: err.message })
    console.log(`FAIL ${name}: ${err.message}`)
  }
}

function assert (condition, message) {
  if (!condition) throw new Error(message)
}

async function exercise (a, b, transport, addr) {
  const bPeer = b.ready.peerId
  await a.call('hangup', { peerId: bPeer })

  await check(`${transport} dial`, async () => {
    const r = await a.call('dial', { addr })
    assert(r.remotePeer === bPeer, `remotePeer ${r.remotePeer}`)
    assert(transport === 'ws' ? r.remoteAddr.includes('/ws') : !r.remoteAddr.includes('/ws'), `remoteAddr ${r.remoteAddr}`)
    assert(r.encryption === '/noise' && r.multiplexer === '/yamux/1.0.0', `security ${r.encryption} muxer ${r.multiplexer}`)
    assert(r.direction === 'outbound' && r.reused === false, `direction ${r.direction} reused ${r.reused}`)
    const again = await a.call('dial', { addr })
    assert(again.reused === true && again.connectionId === r.connectionId, 'second dial did not reuse the connection')
    await a.waitForEvent(e => e.event === 'connection:open' && e.connectionId === r.connectionId)
    await b.waitForEvent(e => e.event === 'connection:open' && e.peerId === a.ready.peerId && e.direction === 'inbound')
    return `${r.remoteAddr} ${r.encryption} ${r.multiplexer}`
  })

  await check(`${transport} identify`, async () => {
    const r = await a.call('identify', { addr })
    assert(r.peerId === bPeer, 'peerId')
    assert(r.agentVersion?.startsWith('js-libp2p/'), `agentVersion ${r.agentVersion}`)
    assert(r.protocolVersion != null, 'protocolVersion')
    for (const p of ['/echo/1.0.0', '/perf/1.0.0', '/ipfs/ping/1.0.0', '/ipfs/id/1.0.0', '/ipfs/id/push/1.0.0']) {
      assert(r.protocols.includes(p) && r.peerStore.protocols.includes(p), `protocol ${p} missing`)
    }
    assert(r.signedPeerRecord.present && r.signedPeerRecord.verified, 'no signed peer record')
    assert(BigInt(r.signedPeerRecord.seq) > 0n, `seq ${r.signedPeerRecord.seq}`)
    const advertised = b.ready.addrs.map(x => x.replace(/\/p2p\/.*$/, ''))
    assert(advertised.every(x => r.signedPeerRecord.addrs.includes(x)), `record addrs ${r.signedPeerRecord.addrs}`)
    assert(r.peerStore.addresses.every(x => x.certified), 'peer store addresses not certified')
    assert(r.peerStore.hasPeerRecordEnvelope, 'no envelope in the peer store')
    assert(r.observedAddr?.startsWith('/ip4/127.0.0.1/tcp/'), `observedAddr ${r.observedAddr}`)
    const fresh = await a.call('identify', { addr, fresh: true })
    assert(fresh.agentVersion === r.agentVersion, 'fresh identify differs')
    await b.waitForEvent(e => e.event === 'peer:identify' && e.peerId === a.ready.peerId)
    return `${r.agentVersion}, seq ${r.signedPeerRecord.seq}, observed ${r.observedAddr}`
  })

  await check(`${transport} ping`, async () => {
    const r = await a.call('ping', { addr, count: 5 })
    assert(r.rtts.length === 5 && r.rtts.every(x => x >= 0), `rtts ${r.rtts}`)
    return `rtts ${r.rtts.map(x => x.toFixed(2)).join(', ')} ms`
  })

  await check(`${transport} echo`, async () => {
    for (const [length, lazy] of [[0, false], [1, false], [300_000, false], [1000, true]]) {
      const data = randomBytes(length).toString('base64')
      const r = await a.call('echo', { addr, dataBase64: data, lazy })
      assert(r.dataBase64 === data && r.bytes === length, `echo of ${length} bytes (lazy ${lazy}) came back as ${r.bytes}`)
    }
  })

  await check(`${transport} perf`, async () => {
    const r = await a.call('perf', { addr, upload: 4 * MiB, download: 4 * MiB })
    assert(r.uploadBytes === 4 * MiB && r.downloadBytes === 4 * MiB && r.bytes === 8 * MiB, 'byte counts')
    assert(r.totalSeconds > 0 && r.uploadSeconds > 0 && r.downloadSeconds > 0, 'times')
    const down = await a.call('perf', { addr, upload: 0, download: 3 * MiB + 17 })
    assert(down.downloadBytes === 3 * MiB + 17, 'download only')
    const none = await a.call('perf', { addr, upload: 0, download: 0, lazy: true })
    assert(none.bytes === 0, 'empty perf')
    return `up ${r.uploadMiBps.toFixed(0)} MiB/s, down ${r.downloadMiBps.toFixed(0)} MiB/s`
  })

  await check(`${transport} perfConnections`, async () => {
    const r = await a.call('perfConnections', { addr, count: 20 })
    assert(r.count === 20 && r.connectionsPerSecond > 0, 'counts')
    return `${r.connectionsPerSecond.toFixed(0)} conn/s`
  })

  await check(`${transport} streams`, async () => {
    const r = await a.call('streams', { addr, count: 100, bytes: 32 * 1024 })
    assert(r.succeeded === 100 && r.failed === 0, `succeeded ${r.succeeded}, errors ${r.errors}`)
    const lazy = await a.call('streams', { addr, count: 20, bytes: 100, lazy: true })
    assert(lazy.succeeded === 20, `lazy: errors ${lazy.errors}`)
    return `${r.succeeded}/${r.count} x 32 KiB`
  })

  await check(`${transport} resetMidTransfer`, async () => {
    const details = []
    for (const protocol of ['/echo/1.0.0', '/perf/1.0.0']) {
      for (const phase of ['upload', 'download']) {
        const r = await a.call('resetMidTransfer', { addr, protocol, phase, bytes: 6 * MiB })
        assert(r.streamStatus === 'aborted' && r.connectionStatus === 'open' && r.pingMs >= 0, JSON.stringify(r))
        details.push(`${protocol} ${phase} ok`)
      }
    }
    const r = await a.call('echo', { addr, dataBase64: 'aGVsbG8=' })
    assert(r.dataBase64 === 'aGVsbG8=', 'echo after resets')
    return details.join(', ')
  })

  await check(`${transport} connections + hangup`, async () => {
    const listed = await a.call('connections')
    const mine = listed.connections.filter(c => c.peerId === bPeer)
    assert(mine.length >= 1 && mine.every(c => c.status === 'open'), `connections ${JSON.stringify(listed)}`)
    const h = await a.call('hangup', { addr })
    assert(h.closed === mine.length, `closed ${h.closed} of ${mine.length}`)
    await a.waitForEvent(e => e.event === 'connection:close' && e.connectionId === mine[0].connectionId)
    const after = await a.call('connections')
    assert(!after.connections.some(c => c.peerId === bPeer), 'still connected after hangup')
  })
}

async function errors (a, b) {
  await check('errors are replies', async () => {
    const unknown = await a.request('nope')
    assert(unknown.ok === false && /unknown command/.test(unknown.error), JSON.stringify(unknown))
    const badAddr = await a.request('dial', { addr: '/ip4/127.0.0.1/tcp/1' })
    assert(badAddr.ok === false, 'dial to a closed port succeeded')
    const noProto = await a.request('ping')
    assert(noProto.ok === false && /addr/.test(noProto.error), JSON.stringify(noProto))
    const timeout = await a.request('perf', { addr: b.ready.addrs[0], upload: 0, download: 1024 * MiB, timeoutMs: 50 })
    assert(timeout.ok === false, 'timeoutMs did not abort the command')
  })
}

async function bench (a, b) {
  const addr = b.ready.addrs.find(x => !x.includes('/ws'))
  await a.call('hangup', { peerId: b.ready.peerId })
  await a.call('dial', { addr })
  const perf = async (upload, download) => {
    const r = await a.call('perf', { addr, upload, download })
    const mbps = (bytes, s) => (bytes / 1e6 / s).toFixed(1)
    return `up ${mbps(upload, r.uploadSeconds)} MB/s (${r.uploadSeconds.toFixed(2)} s), ` +
      `down ${download === 0 ? '-' : mbps(download, r.downloadSeconds)} MB/s (${r.downloadSeconds.toFixed(2)} s), ` +
      `total ${r.totalSeconds.toFixed(2)} s`
  }
  await check('bench perf 64 MiB up + 64 MiB down', () => perf(64 * MiB, 64 * MiB))
  await check('bench perf 1 GiB up', () => perf(1024 * MiB, 0))
  await check('bench perfConnections 200', async () => {
    const r = await a.call('perfConnections', { addr, count: 200 })
    return `${r.connectionsPerSecond.toFixed(1)} conn/s (${r.elapsedSeconds.toFixed(2)} s: dialling ${r.dialSeconds.toFixed(2)} s, closing ${r.closeSeconds.toFixed(2)} s)`
  })
}

async function main () {
  const a = new Peer('A')
  const b = new Peer('B')
  a.ready = await a.ready
  b.ready = await b.ready
  console.log(`A ${a.ready.peerId}\nB ${b.ready.peerId} ${b.ready.addrs.join(' ')}`)

  for (const transport of ['tcp', 'ws']) {
    const addr = b.ready.addrs.find(x => x.includes('/ws') === (transport === 'ws'))
    await exercise(a, b, transport, addr)
  }
  await errors(a, b)
  if (process.argv.includes('--bench')) await bench(a, b)

  await check('no error events', async () => {
    const errs = [...a.events, ...b.events].filter(e => e.event === 'error')
    assert(errs.length === 0, JSON.stringify(errs))
  })
  await check('stop exits 0, stdin EOF exits 0', async () => {
    await a.call('stop')
    b.child.stdin.end()
    const [ea, eb] = await Promise.all([a.exited, b.exited])
    assert(ea.code === 0 && eb.code === 0, `exit codes ${ea.code} ${eb.code}`)
  })

  const failed = results.filter(r => !r.ok)
  console.log(`\n${results.length - failed.length}/${results.length} checks passed`)
  process.exit(failed.length === 0 ? 0 : 1)
}

main().catch((err) => {
  console.error(err)
  process.exit(1)
})
