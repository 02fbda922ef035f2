/**
 * Entry point: `node --import tsx api/server.ts`. Reads the config once, listens, and drains in-flight
 * requests on SIGTERM/SIGINT before closing pools, so every acknowledged write has been answered.
 */
import closeWithGrace from 'close-with-grace';
import { buildApp } from './app.ts';
import { ConfigError, loadConfig } from './config.ts';

const DRAIN_DELAY_MS = 10_000;

async function main(): Promise<void> {
  const config = loadConfig();
  const app = await buildApp(config);
  closeWithGrace({ delay: DRAIN_DELAY_MS }, async ({ signal, err }) => {
    if (err) app.log.error({ err }, 'shutting down after an error');
    else app.log.info({ signal }, 'draining');
    await app.close();
  });
  await app.listen({ host: config.host, port: config.port });
  app.log.warn(`cqrs api listening on http://${config.host}:${config.port} (${config.flavor})`);
}

main().catch((err: unknown) => {
  const message =
    err instanceof ConfigError ? err.message : `cqrs api failed to start: ${(err as Error).message}`;
  console.error(message);
  process.exit(1);
});
