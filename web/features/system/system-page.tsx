/**
 * How the installation is doing (admin), from `GET /api/system` every 2 seconds: subscribers
 * connected and deliveries per second with their last hour, publish and delivery latency,
 * every node and whether it keeps up, the database, the signing key, destinations and
 * replays. Every figure keeps its place when it changes (fixed tiles, tabular digits), so a
 * value moving is all that moves.
 */
import { useMemo, useRef, type ReactNode } from 'react';
import { get } from '../../api/client.js';
import type { SystemStatus } from '../../api/types.js';
import { formatBytes, formatCount, formatDateTime, formatDuration, formatTime } from '../../components/format.js';
import { usePolling } from '../../components/use-polling.js';
import { Link } from '../../router.js';
import { NodeWatch, type NodeRow } from './node-health.js';
import { NodeTable } from './node-table.js';
import { Sparkline } from './sparkline.js';
import './system.css';

const REFRESH_MS = 2_000;
const readSystem = () => get<SystemStatus>('/api/system');

const msFormat = new Intl.NumberFormat(undefined, { minimumFractionDigits: 1, maximumFractionDigits: 1 });
const rateFormat = new Intl.NumberFormat(undefined, { maximumFractionDigits: 1 });

/** "4.2 ms", or "–" when nothing was measured in the window. */
function formatMs(value: number | null): string {
  return value === null ? '–' : `${msFormat.format(value)} ms`;
}

export function SystemPage() {
  const { data, error, receivedAt } = usePolling(readSystem, REFRESH_MS);
  const watch = useRef(new NodeWatch());
  const rows = useMemo(
    () => (data && receivedAt !== null ? watch.current.update(data, receivedAt) : []),
    [data, receivedAt],
  );

  return (
    <div className="page system">
      <header className="page__header">
        <div>
          <h1>System</h1>
          <p className="muted">Live figures of this installation, refreshed every 2 seconds.</p>
        </div>
        <p
          className={`small live-note${error ? ' live-note--stale' : ' muted'}`}
          // Quiet while figures merely refresh; a failure to refresh is said at once.
          role={error ? 'alert' : undefined}
          aria-live={error ? 'assertive' : 'off'}
        >
          {error
            ? `Not refreshed${receivedAt ? ` since ${formatTime(new Date(receivedAt).toISOString())}` : ''}: ${error}`
            : receivedAt
              ? `Refreshed ${formatTime(new Date(receivedAt).toISOString())}`
              : 'Loading…'}
        </p>
      </header>
      {data ? <Figures status={data} rows={rows} /> : null}
    </div>
  );
}

function Figures(props: { status: SystemStatus; rows: readonly NodeRow[] }) {
  const s = props.status;
  // Server time, so the charts' hour ends where the server's samples do whatever this clock says.
  const startedAt = Date.parse(s.node.startedAt);
  const serverNow = startedAt + s.node.uptimeSeconds * 1000;
  const latest = s.history.at(-1);
  const { websocket, polling, sse, total } = s.connections;
  // Connections and deliveries are this node's alone; in a cluster their tiles say so (the table has every node's).
  const cluster = s.nodes.length > 1;

  return (
    <div className="stack system__body">
      <section className="system__tiles" aria-label="Now">
        <Tile
          label={cluster ? 'Subscribers connected to this node' : 'Subscribers connected'}
          value={formatCount(total)}
          numeric={total}
          testId="connections"
        >
          <p className="muted small">
            WebSocket {formatCount(websocket)} · polling {formatCount(polling)} · SSE {formatCount(sse)}
          </p>
          <Sparkline
            // The samples end up to 10 s ago; the count now ends the line, so it agrees with the figure above.
            points={[
              ...s.history.map((p) => ({ at: Date.parse(p.at), value: p.connections })),
              { at: serverNow, value: total },
            ]}
            now={serverNow}
            since={startedAt}
            label="Connected subscribers"
            format={formatCount}
            testId="connections-chart"
          />
        </Tile>
        <Tile
          label={cluster ? 'Deliveries per second, this node' : 'Deliveries per second'}
          value={latest ? rateFormat.format(latest.deliveriesPerSecond) : '–'}
          numeric={latest?.deliveriesPerSecond ?? null}
          testId="deliveries"
        >
          <p className="muted small">
            {latest ? `over the 10 s up to ${formatTime(latest.at)}` : 'measured every 10 s; none yet'}
          </p>
          <Sparkline
            points={s.history.map((p) => ({ at: Date.parse(p.at), value: p.deliveriesPerSecond }))}
            now={serverNow}
            since={startedAt}
            label={cluster ? 'Deliveries per second, this node' : 'Deliveries per second'}
            format={(v) => rateFormat.format(v)}
            testId="deliveries-chart"
          />
        </Tile>
        <Tile
          label="Publish acknowledgement, p99"
          value={formatMs(s.publishAck.p99Ms)}
          numeric={s.publishAck.p99Ms}
          testId="ack-p99"
        >
          <dl className="system__pair">
            <div>
              <dt>p50</dt>
              <dd data-testid="ack-p50">{formatMs(s.publishAck.p50Ms)}</dd>
            </div>
            <div>
              <dt>publishes, 5 min</dt>
              <dd>{formatCount(s.publishAck.count)}</dd>
            </div>
          </dl>
          <p className="muted small">From a publish arriving to its durable commit, over the last 5 minutes.</p>
        </Tile>
        <Tile
          label="Delivery latency, p99"
          value={formatMs(s.deliveryLatency.p99Ms)}
          numeric={s.deliveryLatency.p99Ms}
          testId="delivery-p99"
        >
          <dl className="system__pair">
            <div>
              <dt>p50</dt>
              <dd>{formatMs(s.deliveryLatency.p50Ms)}</dd>
            </div>
            <div>
              <dt>events sent, 5 min</dt>
              <dd>{formatCount(s.deliveryLatency.count)}</dd>
            </div>
          </dl>
          <p className="muted small">From the append to the end of the fan-out that wrote it to live sockets.</p>
        </Tile>
      </section>

      <section className="card" aria-labelledby="nodes-heading">
        <div className="system__section-head">
          <h2 id="nodes-heading">Nodes</h2>
          <p className="muted small">
            Log head seq <span data-testid="head-seq">{formatCount(s.headSeq)}</span> · each node announces itself every
            5 s
          </p>
        </div>
        <NodeTable rows={props.rows} thisNode={s.node.id} headSeq={s.headSeq} />
      </section>

      <div className="system__facts">
        <section className="card" aria-labelledby="node-heading">
          <h2 id="node-heading">This node</h2>
          <dl className="facts facts--list">
            <Fact label="Node" value={s.node.id} testId="node-id" />
            <Fact label="Version" value={s.node.version} testId="version" />
            <Fact label="Up for" value={formatDuration(s.node.uptimeSeconds * 1000)} testId="uptime" />
            <Fact label="Started" value={formatDateTime(s.node.startedAt)} />
            <Fact label="Store · bus" value={`${s.node.store} · ${s.node.bus}`} />
          </dl>
        </section>
        <section className="card" aria-labelledby="database-heading">
          <h2 id="database-heading">Database</h2>
          <dl className="facts facts--list">
            <Fact
              label="Kind"
              value={
                s.database.kind === 'postgres'
                  ? 'PostgreSQL'
                  : s.database.kind === 'sqlite'
                    ? 'SQLite'
                    : s.database.kind
              }
            />
            <Fact label="Size" value={formatBytes(s.database.databaseBytes)} testId="database-size" />
            <Fact
              label="Write-ahead log"
              value={s.database.walBytes === null ? 'n/a' : formatBytes(s.database.walBytes)}
              title={s.database.walBytes === null ? 'PostgreSQL manages its write-ahead log itself' : undefined}
              testId="wal-size"
            />
          </dl>
        </section>
        <section className="card" aria-labelledby="signing-heading">
          <h2 id="signing-heading">Signing key</h2>
          <dl className="facts facts--list">
            <Fact label="Fingerprint" value={s.signing.fingerprint} code testId="fingerprint" />
            <Fact
              label="Last signed head"
              value={
                s.signing.lastSignedHead
                  ? `#${s.signing.lastSignedHead.channel} seq ${formatCount(s.signing.lastSignedHead.seq)} at ${formatTime(s.signing.lastSignedHead.signedAt)}`
                  : 'none signed yet'
              }
              title={s.signing.lastSignedHead?.hash}
              testId="last-signed"
            />
          </dl>
        </section>
        <section className="card" aria-labelledby="destinations-heading">
          <h2 id="destinations-heading">
            <Link to="/admin/destinations">Destinations</Link>
          </h2>
          <dl className="facts facts--list">
            <Fact label="Active" value={formatCount(s.destinations.active)} />
            <Fact label="Retrying" value={formatCount(s.destinations.retrying)} warn={s.destinations.retrying > 0} />
            <Fact label="Paused" value={formatCount(s.destinations.paused)} warn={s.destinations.paused > 0} />
            <Fact label="Disabled" value={formatCount(s.destinations.disabled)} />
          </dl>
        </section>
        <section className="card" aria-labelledby="replays-heading">
          <h2 id="replays-heading">Replays</h2>
          <dl className="facts facts--list">
            <Fact label="Running" value={formatCount(s.replays.active)} testId="replays-active" />
            <Fact label="Waiting" value={formatCount(s.replays.waiting)} warn={s.replays.waiting > 0} />
          </dl>
          <p className="muted small">Reads of the log for clients catching up, on this node.</p>
        </section>
      </div>
    </div>
  );
}

function Tile(props: {
  label: string;
  value: string;
  /** The figure as a number for tests and tools (`data-value`), empty when there is none. */
  numeric: number | null;
  testId: string;
  children: ReactNode;
}) {
  return (
    <div className="card system__tile" data-testid={`tile-${props.testId}`} data-value={props.numeric ?? ''}>
      <span className="muted small">{props.label}</span>
      <strong className="system__value">{props.value}</strong>
      {props.children}
    </div>
  );
}

function Fact(props: {
  label: string;
  value: string;
  title?: string | undefined;
  code?: boolean;
  warn?: boolean;
  testId?: string;
}) {
  return (
    <div>
      <dt>{props.label}</dt>
      <dd title={props.title} data-testid={props.testId} className={props.warn ? 'system__warn' : undefined}>
        {props.code ? <code>{props.value}</code> : props.value}
      </dd>
    </div>
  );
}
