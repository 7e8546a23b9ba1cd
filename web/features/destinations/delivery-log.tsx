/**
 * One destination's delivery log, newest first: every attempt with its time, event seq, try
 * number, outcome, the far side's status and error, and how long it took. Older pages load
 * with `before`; the newest page is re-read on every refresh of the list, so retries show as
 * they happen.
 */
import { useCallback, useEffect, useRef, useState } from 'react';
import { get, query } from '../../api/client.js';
import type { DeliveryAttempt, DeliveryLog as LogPage } from '../../api/types.js';
import { formatCount, formatTime } from '../../components/format.js';

const PAGE = 20;

export function DeliveryLog(props: { destinationId: string; name: string; tick: number }) {
  const [items, setItems] = useState<DeliveryAttempt[] | null>(null);
  const [nextBefore, setNextBefore] = useState<number | null>(null);
  const [loadingOlder, setLoadingOlder] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const path = `/api/destinations/${encodeURIComponent(props.destinationId)}/deliveries`;
  const itemsRef = useRef<DeliveryAttempt[] | null>(null);
  itemsRef.current = items;

  const refreshNewest = useCallback(async () => {
    try {
      const page = await get<LogPage>(`${path}${query({ limit: PAGE })}`);
      const current = itemsRef.current;
      const top = current?.[0]?.id;
      // Nothing shown yet, or more arrived than one page holds: start over from the newest page.
      if (!current || top === undefined || (page.items.length === PAGE && (page.items.at(-1)?.id ?? 0) > top)) {
        setItems(page.items);
        setNextBefore(page.nextBefore);
      } else {
        const fresh = page.items.filter((a) => a.id > top);
        if (fresh.length > 0) setItems([...fresh, ...current]);
      }
      setError(null);
    } catch (e) {
      setError(e instanceof Error ? e.message : String(e));
    }
  }, [path]);

  useEffect(() => {
    void refreshNewest();
  }, [refreshNewest, props.tick]);

  const loadOlder = () => {
    if (nextBefore === null) return;
    setLoadingOlder(true);
    get<LogPage>(`${path}${query({ limit: PAGE, before: nextBefore })}`)
      .then((page) => {
        setItems((shown) => [...(shown ?? []), ...page.items]);
        setNextBefore(page.nextBefore);
        setError(null);
      })
      .catch((e: unknown) => setError(e instanceof Error ? e.message : String(e)))
      .finally(() => setLoadingOlder(false));
  };

  return (
    <div className="delivery-log" role="region" aria-label={`Delivery log of ${props.name}`}>
      {error ? (
        <p className="notice notice--error small" role="alert">
          {error}
        </p>
      ) : null}
      {items === null ? (
        <p className="muted small" aria-busy="true">
          Loading…
        </p>
      ) : items.length === 0 ? (
        <p className="muted small">No delivery attempted yet: it starts with the next event of its channels.</p>
      ) : (
        <div className="table-scroll">
          <table className="log">
            <caption className="sr-only">Delivery attempts of {props.name}, newest first</caption>
            <thead>
              <tr>
                <th scope="col">Time</th>
                <th scope="col">Seq</th>
                <th scope="col">Try</th>
                <th scope="col">Outcome</th>
                <th scope="col">Status</th>
                <th scope="col">Error</th>
                <th scope="col" className="num">
                  Took
                </th>
              </tr>
            </thead>
            <tbody>
              {items.map((a) => (
                <tr
                  key={a.id}
                  data-testid="attempt"
                  data-seq={a.seq}
                  data-attempt={a.attempt}
                  data-outcome={a.outcome}
                  data-status={a.status ?? ''}
                >
                  <td className="nowrap">{formatTime(a.at)}</td>
                  <td className="num">{formatCount(a.seq)}</td>
                  <td className="num">{a.attempt}</td>
                  <td>
                    <span className={`badge outcome outcome--${a.outcome}`}>{a.outcome}</span>
                  </td>
                  <td className="num">{a.status ?? '—'}</td>
                  <td className="log__error">{a.error ?? ''}</td>
                  <td className="num nowrap">{Math.round(a.durationMs)} ms</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      {nextBefore !== null ? (
        <button type="button" className="button button--small" disabled={loadingOlder} onClick={loadOlder}>
          {loadingOlder ? 'Loading…' : 'Older attempts'}
        </button>
      ) : null}
    </div>
  );
}
