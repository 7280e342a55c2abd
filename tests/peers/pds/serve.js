'use strict'
// The reference Bluesky PDS for the test suite, on loopback, reaching nothing outside.
//
//   node serve.js DATA_DIR PORT        (PDS_ADMIN_PASSWORD from the environment)
//
// A PDS registers every new account's did:plc with a PLC directory; the public one is not
// reachable here, so the reference PLC server (@did-plc/server) runs in the same process with
// its in-memory store, on a free loopback port. Both listen on 127.0.0.1 only. The PDS keeps its
// SQLite databases and blobs in DATA_DIR. Secrets are fresh for every start. When both listen,
// one JSON line goes to stdout; SIGTERM stops both.
//
// package.json pins @atproto/pds 0.4.217, the last release for Node.js 18 and 20: the 0.5 line
// needs Node.js 22 (its undici calls zlib.createZstdDecompress, missing in 20, and crashes on load).
const crypto = require('node:crypto')
const events = require('node:events')
const path = require('node:path')
const { PDS, envToCfg, envToSecrets, readEnv } = require('@atproto/pds')
const { PlcServer, Database } = require('@did-plc/server')
const { createHttpTerminator } = require('http-terminator')

const LOOPBACK = '127.0.0.1'

// The PDS signs PLC operations with a secp256k1 key given as 32 bytes of hex.
function k256PrivateKeyHex() {
  const { privateKey } = crypto.generateKeyPairSync('ec', { namedCurve: 'secp256k1' })
  return Buffer.from(privateKey.export({ format: 'jwk' }).d, 'base64url').toString('hex')
}

async function listen(app, port) {
  const server = app.listen(port, LOOPBACK)
  await events.once(server, 'listening')
  return server
}

async function main() {
  const [dataDir, portText] = process.argv.slice(2)
  const port = Number(portText)
  if (!dataDir || !Number.isInteger(port) || port < 1 || port > 65535) {
    throw new Error('usage: node serve.js DATA_DIR PORT')
  }
  if (!process.env.PDS_ADMIN_PASSWORD) throw new Error('PDS_ADMIN_PASSWORD is not set')

  const plc = PlcServer.create({ db: Database.mock() })
  const plcServer = await listen(plc.app, 0)
  const plcUrl = `http://${LOOPBACK}:${plcServer.address().port}`

  Object.assign(process.env, {
    PDS_PORT: String(port),
    PDS_HOSTNAME: 'localhost', // handles end in .test, the public URL is http
    PDS_DEV_MODE: 'true',
    PDS_INVITE_REQUIRED: 'false',
    PDS_DATA_DIRECTORY: dataDir,
    PDS_BLOBSTORE_DISK_LOCATION: path.join(dataDir, 'blobs'),
    PDS_DID_PLC_URL: plcUrl,
    PDS_CRAWLERS: '', // no relay to notify
    PDS_JWT_SECRET: crypto.randomBytes(32).toString('hex'),
    PDS_PLC_ROTATION_KEY_K256_PRIVATE_KEY_HEX: k256PrivateKeyHex(),
  })
  const env = readEnv()
  const pds = await PDS.create(envToCfg(env), envToSecrets(env))
  // PDS.start() listens on every interface; this is its body with the loopback address.
  await pds.ctx.sequencer.start()
  pds.server = await listen(pds.app, port)
  pds.server.keepAliveTimeout = 90000
  pds.terminator = createHttpTerminator({ server: pds.server })

  process.stdout.write(JSON.stringify({ pds: `http://localhost:${port}`, plc: plcUrl }) + '\n')

  let stopping = false
  const stop = async () => {
    if (stopping) return
    stopping = true
    await pds.destroy()
    plcServer.close()
    process.exit(0)
  }
  process.on('SIGTERM', stop)
  process.on('SIGINT', stop)
}

main().catch((err) => {
  console.error(err)
  process.exit(1)
})
