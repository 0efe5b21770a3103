// The API both Node test apps serve. Only the Treblle wiring differs between the apps.
'use strict'

const express = require('express')

const items = {
  1: { id: 1, name: 'Umbrella' },
  2: { id: 2, name: 'Raincoat' },
  42: { id: 42, name: 'Towel' },
}

function addRoutes(app) {
  // Customer identified by the app itself: it tags the RESPONSE with treblle-user-id.
  // The caller says who it is with `x-test-user` (or `?as_user=`); the app maps that to the
  // response header, the way an app would after authenticating the caller.
  app.use((req, res, next) => {
    const user = req.get('x-test-user') || req.query.as_user
    if (user) res.set('treblle-user-id', String(user))
    next()
  })

  app.get('/api/items/:id', (req, res) => {
    const item = items[req.params.id]
    if (!item) return res.status(404).json({ error: 'not found' })
    res.json(item)
  })

  app.post('/api/orders', (req, res) => {
    const { item_id: itemId = 1, quantity = 1 } = req.body || {}
    // A session cookie on the response: the SDKs send Set-Cookie to Treblle unmasked.
    res.cookie('order_session', 'SECRET-set-cookie-from-app', { httpOnly: true })
    res.status(201).json({ order_id: 1001, item_id: itemId, quantity, status: 'created' })
  })

  app.get('/api/users/:id/profile', (req, res) => {
    res.json({ id: Number(req.params.id), name: `User ${req.params.id}`, plan: 'pro' })
  })

  // Takes ~200 ms (or ?ms=N) so load-time units can be checked.
  app.get('/api/slow', (req, res) => {
    const ms = Math.min(Number(req.query.ms) || 200, 5000)
    setTimeout(() => res.json({ slept_ms: ms }), ms)
  })

  app.get('/api/search', (req, res) => {
    res.json({ q: req.query.q || '', results: [] })
  })

  return app
}

function newApp() {
  const app = express()
  // Behind a proxy: req.ip is the client address from X-Forwarded-For.
  app.set('trust proxy', true)
  app.use(express.json())
  return app
}

// Listen on 127.0.0.1 (PORT, or a free port) and print the port on the first stdout line.
function listen(app, name) {
  const server = app.listen(Number(process.env.PORT || 0), '127.0.0.1', () => {
    process.stdout.write(`LISTENING ${server.address().port} ${name}\n`)
  })
  const stop = () => server.close(() => process.exit(0))
  process.on('SIGTERM', stop)
  process.on('SIGINT', stop)
  return server
}

module.exports = { addRoutes, newApp, listen }
