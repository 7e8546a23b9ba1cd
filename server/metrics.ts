/**
 * What a node measures about itself, in Prometheus' text format (`GET /metrics`, prom-client)
 * and as the System page's live figures (`GET /api/system`). Names follow Prometheus'
 * conventions: the `signaldesk_` prefix, base units (seconds, bytes), `_total` on counters,
 * and no label that grows with users or destinations.
 *
 * Nothing here may slow the broadcast: the fan-out only adds to plain numbers that are read
 * when someone scrapes, and latency is taken once per walk of an audience, not per socket.
 */
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';

/** Seconds, from half a millisecond to ten seconds. */
const LATENCY_BUCKETS = [0.0005, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1, 2, 5, 10];

/** The latest values of one figure, for percentiles over the last few minutes. */
export class Recent {
  private readonly values: Float64Array;
  private readonly times: Float64Array;
  private next = 0;
  private filled = 0;

  constructor(size: number) {
    this.values = new Float64Array(size);
    this.times = new Float64Array(size);
  }

  add(value: number, at: number = Date.now()): void {
    this.values[this.next] = value;
    this.times[this.next] = at;
    this.next = (this.next + 1) % this.values.length;
    this.filled = Math.min(this.filled + 1, this.values.length);
  }

  /** Percentiles (0..100) of the values taken within the last `windowMs`; null when none. */
  percentiles(ps: readonly number[], windowMs: number, now: number = Date.now()): Array<number | null> {
    const kept: number[] = [];
    for (let i = 0; i < this.filled; i++) if (this.times[i]! >= now - windowMs) kept.push(this.values[i]!);
    if (kept.length === 0) return ps.map(() => null);
    kept.sort((a, b) => a - b);
    return ps.map((p) => kept[Math.min(kept.length - 1, Math.floor((p / 100) * kept.length))]!);
  }

  count(windowMs: number, now: number = Date.now()): number {
    let n = 0;
    for (let i = 0; i < this.filled; i++) if (this.times[i]! >= now - windowMs) n++;
    return n;
  }
}

export type Transport = 'websocket' | 'polling' | 'sse';

export class Metrics {
  readonly registry = new Registry();
  readonly startedAt = Date.now();
  /** Events written to clients, by transport; the fan-out adds to these plain numbers. */
  readonly deliveries = { socketio: 0, sse: 0 };
  readonly publishAck: Histogram;
  readonly deliveryLatency: Histogram;
  readonly walkDuration: Histogram;
  readonly busLag: Histogram;
  readonly replays: Counter<'outcome'>;
  readonly loginFailures: Counter;
  readonly refusals: Counter<'limit'>;
  readonly slowDisconnects: Counter;
  readonly destinationAttempts: Counter<'kind' | 'result'>;
  readonly sourceRequests: Counter<'outcome'>;
  /** The last minutes of publish acknowledgements and deliveries (seconds), for the System page. */
  readonly recentAcks = new Recent(4096);
  readonly recentDeliveryLatency = new Recent(4096);

  constructor(readonly info: { version: string; node: string; store: string }) {
    const registers = [this.registry];
    collectDefaultMetrics({ register: this.registry });
    new Gauge({
      name: 'signaldesk_info',
      help: 'Always 1; the labels say which version runs on which node and store',
      labelNames: ['version', 'node', 'store'],
      registers,
    }).set(info, 1);
    const deliveries = this.deliveries;
    new Counter({
      name: 'signaldesk_deliveries_total',
      help: 'Events written to connected clients, by transport',
      labelNames: ['transport'],
      registers,
      collect() {
        this.reset();
        this.inc({ transport: 'socketio' }, deliveries.socketio);
        this.inc({ transport: 'sse' }, deliveries.sse);
      },
    });
    this.publishAck = new Histogram({
      name: 'signaldesk_publish_ack_seconds',
      help: 'From a publish request reaching its handler to its durable commit',
      buckets: LATENCY_BUCKETS,
      registers,
    });
    this.deliveryLatency = new Histogram({
      name: 'signaldesk_delivery_latency_seconds',
      help: "From an event's append (its createdAt) to its write to this node's sockets, once per walk of an audience",
      buckets: LATENCY_BUCKETS,
      registers,
    });
    this.walkDuration = new Histogram({
      name: 'signaldesk_fanout_walk_seconds',
      help: 'Time to write a batch of live events to every socket of its audiences',
      buckets: LATENCY_BUCKETS,
      registers,
    });
    this.busLag = new Histogram({
      name: 'signaldesk_bus_lag_seconds',
      help: "From an event's append to this node's hub receiving it (the bus, between nodes)",
      buckets: LATENCY_BUCKETS,
      registers,
    });
    this.replays = new Counter({
      name: 'signaldesk_replays_total',
      help: 'Replays of the log to clients that (re)connected, by how they ended',
      labelNames: ['outcome'],
      registers,
    });
    this.loginFailures = new Counter({
      name: 'signaldesk_login_failures_total',
      help: 'Sign-ins refused for a wrong email or password',
      registers,
    });
    this.refusals = new Counter({
      name: 'signaldesk_refusals_total',
      help: 'Requests and connections refused by a limit, by which one',
      labelNames: ['limit'],
      registers,
    });
    this.slowDisconnects = new Counter({
      name: 'signaldesk_slow_client_disconnects_total',
      help: 'Clients disconnected for not reading what they were sent',
      registers,
    });
    this.destinationAttempts = new Counter({
      name: 'signaldesk_destination_attempts_total',
      help: 'Sends to outbound destinations, by kind and result (delivered, retry, gone)',
      labelNames: ['kind', 'result'],
      registers,
    });
    this.sourceRequests = new Counter({
      name: 'signaldesk_source_requests_total',
      help: 'Requests to inbound webhook sources, by outcome',
      labelNames: ['outcome'],
      registers,
    });
  }

  /** A gauge whose value is read from its owner when scraped. */
  gauge<L extends string>(
    name: string,
    help: string,
    labelNames: readonly L[],
    read: () => ReadonlyArray<[Partial<Record<L, string>>, number]>,
  ): void {
    new Gauge({
      name,
      help,
      labelNames,
      registers: [this.registry],
      collect() {
        this.reset();
        for (const [labels, value] of read()) this.set(labels, value);
      },
    });
  }

  /** Records one publish acknowledgement of `seconds`. */
  acknowledged(seconds: number): void {
    this.publishAck.observe(seconds);
    this.recentAcks.add(seconds);
  }

  /** One walk of the fan-out ended: `walkSeconds` long, carrying events appended at these times (epoch ms). */
  walked(walkSeconds: number, appendedAt: readonly number[]): void {
    this.walkDuration.observe(walkSeconds);
    const now = Date.now();
    for (const at of appendedAt) {
      const seconds = Math.max(0, now - at) / 1000;
      this.deliveryLatency.observe(seconds);
      this.recentDeliveryLatency.add(seconds, now);
    }
  }

  text(): Promise<string> {
    return this.registry.metrics();
  }
}
