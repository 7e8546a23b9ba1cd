/**
 * What the System page shows, live: this node and the others (each node announces itself on
 * the bus every few seconds: its head seq, connections and version), connections and
 * deliveries over the last hour, publish and delivery latency over the last minutes, the
 * database's size, the signing key and the last head it signed, destinations by state.
 */
import type { Runtime } from './runtime.js';

/** A node's announcement; nodes unheard of for three rounds are gone. */
export interface NodeStatus {
  node: string;
  version: string;
  headSeq: number;
  /** Events committed to the log that this node's hub had not received when it announced. */
  lagEvents: number;
  connections: number;
  startedAt: string;
  at: number;
}

const ANNOUNCE_MS = 5_000;
const SAMPLE_MS = 10_000;
/** An hour of samples. */
const SAMPLES = 360;
/** Latency percentiles are over this window. */
const RECENT_MS = 5 * 60_000;

export interface Sample {
  at: string;
  connections: number;
  deliveriesPerSecond: number;
}

export class SystemMonitor {
  private readonly nodes = new Map<string, NodeStatus>();
  private readonly samples: Sample[] = [];
  private lastDeliveries = 0;
  private lastSampleAt = Date.now();
  private readonly timers: NodeJS.Timeout[] = [];
  private readonly unsubscribe: () => void;

  constructor(
    private readonly runtime: Runtime,
    /** Live connections on this node, by transport. */
    private readonly connections: () => { websocket: number; polling: number; sse: number },
  ) {
    this.unsubscribe = runtime.bus.subscribe((message) => {
      if (message.kind === 'node') this.nodes.set(message.status.node, message.status);
    });
    const announce = setInterval(() => void this.announce(), ANNOUNCE_MS);
    const sample = setInterval(() => this.sample(), SAMPLE_MS);
    for (const timer of [announce, sample]) timer.unref();
    this.timers.push(announce, sample);
    this.lastDeliveries = this.deliveries();
    void this.announce();
  }

  private deliveries(): number {
    const { socketio, sse } = this.runtime.metrics.deliveries;
    return socketio + sse;
  }

  private total(): number {
    const { websocket, polling, sse } = this.connections();
    return websocket + polling + sse;
  }

  private async announce(): Promise<void> {
    // The log's head is read before the hub's, so an event committed in between cannot make a
    // node that keeps up look behind; a node whose bus stalled shows the events it is missing.
    const logHead = await this.runtime.store.headSeq().catch(() => null);
    const headSeq = this.runtime.hub.headSeq;
    const status: NodeStatus = {
      node: this.runtime.nodeId,
      version: this.runtime.metrics.info.version,
      headSeq,
      lagEvents: logHead === null ? 0 : Math.max(0, logHead - headSeq),
      connections: this.total(),
      startedAt: new Date(this.runtime.metrics.startedAt).toISOString(),
      at: Date.now(),
    };
    this.nodes.set(status.node, status);
    await this.runtime.bus.publish({ kind: 'node', status }).catch(() => {});
  }

  private sample(): void {
    const now = Date.now();
    const deliveries = this.deliveries();
    const seconds = Math.max(1, (now - this.lastSampleAt) / 1000);
    this.samples.push({
      at: new Date(now).toISOString(),
      connections: this.total(),
      deliveriesPerSecond: Math.round(((deliveries - this.lastDeliveries) / seconds) * 10) / 10,
    });
    if (this.samples.length > SAMPLES) this.samples.shift();
    this.lastDeliveries = deliveries;
    this.lastSampleAt = now;
  }

  async snapshot() {
    const { runtime } = this;
    const now = Date.now();
    const [clusterHead, sizes, destinations] = await Promise.all([
      runtime.store.headSeq(),
      runtime.store.sizes(),
      runtime.store.destinations.list({ ownerId: null }),
    ]);
    const ms = (s: number | null) => (s === null ? null : Math.round(s * 100_000) / 100);
    const [ackP50, ackP99] = runtime.metrics.recentAcks.percentiles([50, 99], RECENT_MS, now);
    const [latP50, latP99] = runtime.metrics.recentDeliveryLatency.percentiles([50, 99], RECENT_MS, now);
    const last = runtime.signer.lastSigned();
    const byState = { active: 0, retrying: 0, paused: 0, disabled: 0 };
    for (const d of destinations) byState[d.enabled ? d.state : 'disabled']++;
    const connections = this.connections();
    return {
      node: {
        id: runtime.nodeId,
        version: runtime.metrics.info.version,
        startedAt: new Date(runtime.metrics.startedAt).toISOString(),
        uptimeSeconds: Math.round((now - runtime.metrics.startedAt) / 1000),
        store: runtime.store.kind,
        bus: runtime.bus.kind,
      },
      headSeq: clusterHead,
      nodes: [...this.nodes.values()]
        .filter((n) => now - n.at < ANNOUNCE_MS * 3)
        .sort((a, b) => (a.node < b.node ? -1 : 1))
        .map((n) => ({
          id: n.node,
          version: n.version,
          headSeq: n.headSeq,
          lagEvents: n.lagEvents,
          connections: n.connections,
          startedAt: n.startedAt,
          seenSecondsAgo: Math.round((now - n.at) / 1000),
        })),
      connections: { ...connections, total: connections.websocket + connections.polling + connections.sse },
      history: this.samples,
      publishAck: {
        p50Ms: ms(ackP50 ?? null),
        p99Ms: ms(ackP99 ?? null),
        count: runtime.metrics.recentAcks.count(RECENT_MS, now),
      },
      deliveryLatency: {
        p50Ms: ms(latP50 ?? null),
        p99Ms: ms(latP99 ?? null),
        count: runtime.metrics.recentDeliveryLatency.count(RECENT_MS, now),
      },
      database: { kind: runtime.store.kind, ...sizes },
      signing: {
        fingerprint: runtime.signer.publicKey.fingerprint,
        lastSignedHead: last
          ? { channel: last.channel, seq: last.seq, hash: last.hash, signedAt: last.signedAt }
          : null,
      },
      destinations: byState,
      replays: runtime.hub.backlog.load,
    };
  }

  close(): void {
    for (const timer of this.timers) clearInterval(timer);
    this.unsubscribe();
  }
}
