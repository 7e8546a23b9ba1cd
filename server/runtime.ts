/**
 * Everything a node runs besides its HTTP front: store, bus, hub and the services.
 * One node and a cluster differ only in which store and bus this wires.
 */
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import type { Logger } from 'pino';
import type { Bus } from './bus/bus.js';
import { MemoryBus } from './bus/memory-bus.js';
import { Metrics } from './metrics.js';
import { VERSION } from './version.js';
import type { Config } from './config.js';
import { AccountService } from './core/accounts.js';
import { ApiTokens } from './core/api-tokens.js';
import { Hub } from './core/hub.js';
import { PositionTracker } from './core/positions.js';
import { HeadSigner } from './core/head-signer.js';
import { MirrorService } from './core/mirrors.js';
import { keyLocation, openSigningKey } from './signing-key.js';
import { SignalService } from './core/signals.js';
import { THROTTLE_MEMORY_MS } from './core/throttle.js';
import { ATTEMPTS_KEPT, DeliveryEngine } from './delivery/engine.js';
import { createGuardedHttp } from './delivery/http.js';
import { vapidKeys } from './delivery/vapid.js';
import { openStore } from './store/open-store.js';
import type { Store } from './store/store.js';

export interface Runtime {
  config: Config;
  store: Store;
  bus: Bus;
  hub: Hub;
  signals: SignalService;
  accounts: AccountService;
  positions: PositionTracker;
  /** Signs every channel's head with the installation's key (server/signing-key.ts). */
  signer: HeadSigner;
  /** Channels that receive another's events after a delay. */
  mirrors: MirrorService;
  /** Bots' publish-only tokens. */
  tokens: ApiTokens;
  /** Outbound destinations: webhooks, Telegram, Discord, push devices. */
  delivery: DeliveryEngine;
  /** This process's name in leases and metrics. */
  nodeId: string;
  metrics: Metrics;
  close(): Promise<void>;
}

const PURGE_MS = 10 * 60_000;

export async function openBus(config: Config, store: Store, logger: Logger): Promise<Bus> {
  if (store.kind === 'postgres') {
    const { PgNotifyBus } = await import('./bus/pg-notify-bus.js');
    return new PgNotifyBus(config.databaseUrl, logger);
  }
  return new MemoryBus();
}

export async function createRuntime(
  config: Config,
  logger: Logger,
  existing?: { store?: Store; bus?: Bus },
): Promise<Runtime> {
  const store =
    existing?.store ??
    (await openStore(config.databaseUrl, {
      backgroundCheckpoints: {
        onFailure: (reason) =>
          logger.warn({ reason }, 'background checkpoints stopped; SQLite checkpoints in commits again'),
      },
    }));
  const applied = await store.migrate();
  if (applied > 0) logger.info({ applied, store: store.kind }, 'database migrated');
  const bus = existing?.bus ?? (await openBus(config, store, logger));
  // Stable across restarts where it can be: a restarted node takes its own leases back at once.
  const nodeId = config.port > 0 ? `${hostname()}:${config.port}` : `${hostname()}-${randomUUID().slice(0, 8)}`;
  const metrics = new Metrics({ version: VERSION, node: nodeId, store: store.kind });
  const hub = new Hub(store, {
    onError: (err, context) => logger.error({ err }, `hub: ${context}`),
    observe: (event) => metrics.busLag.observe(Math.max(0, Date.now() - Date.parse(event.createdAt)) / 1000),
  });
  metrics.gauge('signaldesk_log_head_seq', "The highest seq this node's hub has delivered", [], () => [
    [{}, hub.headSeq],
  ]);
  await hub.start(bus);
  const positions = new PositionTracker(store, 1000, (err) => logger.warn({ err }, 'saving read positions failed'));
  positions.start();
  const accounts = new AccountService(store, bus, config.sessionTtlMs, {
    loginFailed: () => metrics.loginFailures.inc(),
    throttled: () => metrics.refusals.inc({ limit: 'sign_in_throttle' }),
  });
  const delivery = new DeliveryEngine({
    nodeId,
    store,
    hub,
    bus,
    logger,
    context: {
      http: createGuardedHttp({
        allowPrivate: config.destinationsAllowPrivate,
        extraCa: config.destinationsCaFile ? [readFileSync(config.destinationsCaFile, 'utf8')] : [],
        userAgent: 'signal-desk',
      }),
      telegramApiUrl: config.telegramApiUrl,
      publicUrl: config.publicUrl ?? null,
      vapid: await vapidKeys(store, config.pushContact),
      timeoutMs: config.deliveryTimeoutMs,
      now: () => new Date(),
    },
    retry: { scale: config.retryScale, pauseAfterMs: config.destinationPauseAfterMs },
    leaseMs: config.destinationLeaseMs,
    metrics,
    renewMs: Math.max(500, config.destinationLeaseMs / 3),
  });
  await delivery.start();
  const signer = new HeadSigner(store, await openSigningKey(store, keyLocation(config)), {
    onError: (err) => logger.warn({ err }, 'signing chain heads failed'),
  });
  signer.start();
  const signals = new SignalService(store, bus);
  const mirrors = new MirrorService(store, hub, signals, bus, logger.child({ component: 'mirrors' }));
  mirrors.start();
  // The CLI writes from another process; on SQLite no bus carries that, so re-check access and the log.
  const stopWatching = store.watchExternalCommits?.(() => void bus.publish({ kind: 'resync' }));
  // Counters of unknown emails and one-off addresses would otherwise stay for ever, and so
  // would every delivery attempt.
  const purge = setInterval(() => {
    const now = Date.now();
    store
      .purgeThrottles(now - THROTTLE_MEMORY_MS, now)
      .catch((err: unknown) => logger.warn({ err }, 'purging sign-in counters failed'));
    store.destinations
      .trimAttempts(ATTEMPTS_KEPT)
      .catch((err: unknown) => logger.warn({ err }, 'trimming delivery attempts failed'));
  }, PURGE_MS);
  purge.unref();
  return {
    config,
    store,
    bus,
    hub,
    positions,
    signals,
    mirrors,
    signer,
    accounts,
    tokens: new ApiTokens(store),
    delivery,
    nodeId,
    metrics,
    async close() {
      clearInterval(purge);
      stopWatching?.();
      signer.stop();
      await mirrors.stop();
      await delivery.stop();
      delivery.context.http.close();
      await hub.stop();
      await positions.stop();
      await bus.close();
      await store.close();
    },
  };
}
