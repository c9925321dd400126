import { createServer, type Server } from 'node:http';
import type { Registry } from 'prom-client';
import type { Logger } from './log.js';
import { metricsHandler } from './metrics.js';

/** Serves a registry at http://<address>:<port>/metrics; port 0 serves nothing. A taken port is logged, not fatal. */
export function serveMetrics(registry: Registry, port: number, log: Logger, address = '127.0.0.1'): Server | undefined {
  if (port <= 0) return undefined;
  const server = createServer(metricsHandler(registry));
  server.on('error', (err) => log.warn({ err, port, address }, 'metrics endpoint not served'));
  server.listen(port, address);
  return server;
}
