// Express app instrumented with the `treblle` npm package 1.5.2, configured as its README
// says: `useTreblle(app, { apiKey, projectId })` right after creating the app.
// Run: FOOTFALL_URL=http://127.0.0.1:PORT/ node -r ../../../sdk/node/footfall-redirect.js app-treblle-node.js
'use strict'

const { useTreblle } = require('treblle')
const { addRoutes, newApp, listen } = require('./routes')

const app = newApp()
useTreblle(app, {
  apiKey: process.env.TREBLLE_API_KEY,
  projectId: process.env.TREBLLE_PROJECT_ID,
  showErrors: true,
})
addRoutes(app)
listen(app, 'treblle')
