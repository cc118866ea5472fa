'use strict';

const { createApp } = require('./app');

const port = Number(process.env.PORT || 8080);
const host = process.env.HOST || '0.0.0.0';

const server = createApp().listen(port, host, () => {
  console.log(`node-api listening on http://${host}:${port}`);
});

// Containers stop with SIGTERM: finish open requests, then exit.
for (const signal of ['SIGTERM', 'SIGINT']) {
  process.on(signal, () => server.close(() => process.exit(0)));
}
