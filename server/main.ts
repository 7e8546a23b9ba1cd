/**
 * Composition root: config → store → bus → hub → app → listen. Graceful shutdown stops
 * accepting, lets in-flight publishes commit and answer, then closes the store.
 */
import type { Logger } from 'pino';
import { buildApp } from './app.js';
import { ConfigError, loadConfig, type Config } from './config.js';
import { createLogger } from './logger.js';
import { createRuntime } from './runtime.js';

export async function serve(config: Config, logger: Logger = createLogger(config.logLevel, config.logFormat)) {
  const runtime = await createRuntime(config, logger);
  const { app } = await buildApp(runtime, { logger });
  await app.listen({ port: config.port, host: config.host });
  const address = app.server.address();
  const port = typeof address === 'object' && address ? address.port : config.port;
  const setupCode = await runtime.accounts.setupCode();
  if (setupCode) {
    const url = `http://${config.host === '0.0.0.0' ? 'localhost' : config.host}:${port}/setup`;
    // The one secret meant for the log: whoever can read it may claim the installation.
    logger.warn({ setupCode, url }, `first run: open ${url} and enter the setup code ${setupCode}`);
  }
  logger.info(
    { port, store: runtime.store.kind, bus: runtime.bus.kind, node: runtime.nodeId },
    'signal-desk is serving',
  );

  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'shutting down: finishing in-flight requests');
    const force = setTimeout(() => {
      logger.error('shutdown took longer than 30 s; exiting');
      process.exit(1);
    }, 30_000);
    force.unref();
    // server.close() closes the connections idle at that moment only; a keep-alive
    // connection whose request answers later would hold the close open for its whole
    // keep-alive timeout. Close each one as soon as its last request has answered.
    const idle = setInterval(() => app.server.closeIdleConnections(), 50);
    idle.unref();
    try {
      await app.close();
      clearInterval(idle);
      await runtime.close();
      logger.info('stopped');
      process.exit(0);
    } catch (error) {
      logger.error({ err: error }, 'error while shutting down');
      process.exit(1);
    }
  };
  process.once('SIGTERM', () => void stop('SIGTERM'));
  process.once('SIGINT', () => void stop('SIGINT'));
  return { app, runtime, port };
}

const isMain = process.argv[1] && import.meta.url === new URL(`file://${process.argv[1]}`).href;
if (isMain) {
  try {
    await serve(loadConfig());
  } catch (error) {
    if (error instanceof ConfigError) {
      console.error(error.message);
      process.exit(2);
    }
    console.error(`signal-desk could not start: ${(error as Error).message}`);
    process.exit(1);
  }
}
