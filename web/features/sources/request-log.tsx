/**
 * A source's request log, newest first, refreshed every few seconds while it is open: when,
 * from where, what became of it, why, and a link to the signal it made or closed.
 */
import type { SourceRequest } from '../../../server/store/integrations.js';
import { get } from '../../api/client.js';
import { formatTime } from '../../components/format.js';
import { usePolling } from '../../components/use-polling.js';
import { Link } from '../../router.js';

export type SourceRequestView = SourceRequest & { signalId: string | null };

const REFRESH_MS = 3000;

export function RequestLog(props: { sourceId: string }) {
  const { data, error } = usePolling(
    () => get<{ items: SourceRequestView[] }>(`/api/sources/${encodeURIComponent(props.sourceId)}/requests?limit=50`),
    REFRESH_MS,
  );
  const items = data?.items ?? null;

  if (error && !items) return <p className="field__error">{error}</p>;
  if (!items) return <p className="muted small">Loading…</p>;
  if (items.length === 0) return <p className="muted small">No requests yet.</p>;
  return (
    <div className="request-log" data-testid="request-log">
      {error ? <p className="field__error">Could not refresh: {error}</p> : null}
      <table>
        <thead>
          <tr>
            <th scope="col">Time</th>
            <th scope="col">Address</th>
            <th scope="col">Outcome</th>
            <th scope="col">Status</th>
            <th scope="col">Reasons</th>
            <th scope="col">Signal</th>
          </tr>
        </thead>
        <tbody>
          {items.map((entry) => (
            <RequestRow key={entry.id} entry={entry} />
          ))}
        </tbody>
      </table>
    </div>
  );
}

function RequestRow(props: { entry: SourceRequestView }) {
  const { entry } = props;
  return (
    <tr data-testid="request-row" data-outcome={entry.outcome} data-status={entry.status}>
      <td className="nowrap" title={entry.at}>
        {formatTime(entry.at)}
      </td>
      <td>
        <code>{entry.address ?? '—'}</code>
      </td>
      <td>
        <span className={`badge outcome outcome--${entry.outcome}`}>{entry.outcome.replace('_', ' ')}</span>
      </td>
      <td>{entry.status}</td>
      <td>
        {entry.reasons ? (
          <ul className="request-log__reasons">
            {Object.entries(entry.reasons)
              .filter(([key]) => key !== 'signal')
              .map(([key, reason]) => (
                <li key={key}>
                  <code>{key}</code>: {reason}
                </li>
              ))}
          </ul>
        ) : null}
        <details>
          <summary className="small muted">body</summary>
          <pre className="request-log__body">{entry.body}</pre>
        </details>
      </td>
      <td>{entry.signalId ? <Link to={`/signals/${entry.signalId}`}>open</Link> : '—'}</td>
    </tr>
  );
}
