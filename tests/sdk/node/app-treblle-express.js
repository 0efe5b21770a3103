// Express app instrumented with @treblle/express 1.0.2, configured as its README says:
// TREBLLE_API_KEY and TREBLLE_PROJECT_ID from the environment, `app.use(treblle())`.
// Run: FOOTFALL_URL=http://127.0.0.1:PORT/ node -r ../../../sdk/node/footfall-redirect.js app-treblle-express.js
'use strict'

const treblle = require('@treblle/express')
const { addRoutes, newApp, listen } = require('./routes')

const app = newApp()
app.use(treblle())
addRoutes(app)
listen(app, '@treblle/express')
