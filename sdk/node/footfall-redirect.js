// Footfall's preload for the Treblle Node SDKs: send their traffic to a Footfall collector.
//
//   FOOTFALL_URL=http://collector.internal:8470/ node -r /path/to/footfall-redirect.js server.js
//   (or NODE_OPTIONS="--require /path/to/footfall-redirect.js", for a start script you cannot change)
//
// The SDKs post to hard-coded https://<name>.treblle.com hosts (`treblle` 1.5.2 through
// node-fetch, `@treblle/express` 1.0.2 through @treblle/utils, which also uses node-fetch). This
// leaves the SDK alone and patches the transport underneath it: any request to a *.treblle.com
// host is sent over plain HTTP to FOOTFALL_URL instead. Everything else passes through unchanged.
// Footfall's SDK tests (tests/sdk) run the real SDKs with this file.
//
// Patched: https.request / https.get (used by node-fetch, axios, ...) and globalThis.fetch
// (undici), so an SDK that switches HTTP library keeps working.
'use strict'

const http = require('http')
const https = require('https')

const target = process.env.FOOTFALL_URL
if (!target) {
  throw new Error('footfall-redirect.js: set FOOTFALL_URL (e.g. http://127.0.0.1:8123/)')
}
const targetUrl = new URL(target)
const debug = !!process.env.FOOTFALL_REDIRECT_DEBUG

function isTreblleHost(hostname) {
  const h = String(hostname || '').toLowerCase().replace(/\.$/, '')
  return h === 'treblle.com' || h.endsWith('.treblle.com')
}

// Path to use on the local collector: FOOTFALL_URL's path if it has one, else the SDK's.
function redirectedPath(originalPath) {
  if (targetUrl.pathname && targetUrl.pathname !== '/') return targetUrl.pathname + targetUrl.search
  return originalPath || '/'
}

function log(what) {
  if (debug) process.stderr.write(`[footfall-redirect] ${what}\n`)
}

// ---- https.request / https.get -------------------------------------------------------

// Normalise the (url?, options?, callback?) calling conventions of https.request.
function splitArgs(args) {
  let url = null
  let options = {}
  let callback
  let i = 0
  if (typeof args[i] === 'string' || args[i] instanceof URL) {
    url = new URL(String(args[i]))
    i++
  }
  if (args[i] && typeof args[i] === 'object') {
    options = args[i]
    i++
  }
  if (typeof args[i] === 'function') callback = args[i]
  return { url, options, callback }
}

function hostOf(url, options) {
  if (url) return url.hostname
  return options.hostname || String(options.host || '').replace(/:\d+$/, '')
}

function pathOf(url, options) {
  if (url) return url.pathname + url.search
  return options.path || '/'
}

function redirectRequestArgs(url, options) {
  const original = `https://${hostOf(url, options)}${pathOf(url, options)}`
  const opts = {}
  // Keep method, headers, timeout, signal etc.; drop everything that names the old host.
  for (const [k, v] of Object.entries(options)) {
    if (['href', 'host', 'hostname', 'port', 'protocol', 'path', 'pathname', 'search',
      'query', 'hash', 'origin', 'auth', 'agent', 'servername', 'slashes'].includes(k)) continue
    opts[k] = v
  }
  opts.protocol = 'http:'
  opts.hostname = targetUrl.hostname
  opts.port = targetUrl.port || 80
  opts.path = redirectedPath(pathOf(url, options))
  if (opts.headers) {
    const headers = {}
    for (const [k, v] of Object.entries(opts.headers)) {
      if (k.toLowerCase() !== 'host') headers[k] = v
    }
    opts.headers = headers
  }
  log(`${opts.method || 'GET'} ${original} -> ${targetUrl.origin}${opts.path}`)
  return opts
}

const originalHttpsRequest = https.request
const originalHttpsGet = https.get

https.request = function footfallRedirectedRequest(...args) {
  const { url, options, callback } = splitArgs(args)
  if (!isTreblleHost(hostOf(url, options))) return originalHttpsRequest.apply(this, args)
  const opts = redirectRequestArgs(url, options)
  return callback ? http.request(opts, callback) : http.request(opts)
}

https.get = function footfallRedirectedGet(...args) {
  const { url, options } = splitArgs(args)
  if (!isTreblleHost(hostOf(url, options))) return originalHttpsGet.apply(this, args)
  const req = https.request(...args)
  req.end()
  return req
}

// ---- globalThis.fetch (undici) -------------------------------------------------------

if (typeof globalThis.fetch === 'function') {
  const originalFetch = globalThis.fetch
  globalThis.fetch = function footfallRedirectedFetch(input, init) {
    let url
    try {
      url = new URL(typeof input === 'string' || input instanceof URL ? String(input) : input.url)
    } catch (_) {
      return originalFetch.call(this, input, init)
    }
    if (!isTreblleHost(url.hostname)) return originalFetch.call(this, input, init)
    const to = new URL(redirectedPath(url.pathname + url.search), targetUrl.origin)
    log(`fetch ${url.href} -> ${to.href}`)
    if (typeof input === 'string' || input instanceof URL) return originalFetch.call(this, to, init)
    // A Request object: copy it onto the new URL.
    return input.arrayBuffer().then((body) => originalFetch.call(this, to, {
      method: input.method,
      headers: input.headers,
      body: ['GET', 'HEAD'].includes(input.method) ? undefined : body,
      ...init,
    }))
  }
}

log(`Treblle hosts -> ${targetUrl.href}`)
