import { useCallback, useEffect, useState } from 'react';
import { get } from '../../api/client.js';
import type { Receipts } from '../../api/types.js';

/** "Connected now / delivered / read" out of the entitled subscribers of one signal. */
export function ReceiptsSummary(props: { signalId: string; refreshKey: number }) {
  const [receipts, setReceipts] = useState<Receipts | null>(null);
  const [error, setError] = useState<string | null>(null);
  const load = useCallback(() => {
    get<Receipts>(`/api/signals/${encodeURIComponent(props.signalId)}/receipts`)
      .then((r) => {
        setReceipts(r);
        setError(null);
      })
      .catch((e: unknown) => setError(e instanceof Error ? e.message : String(e)));
  }, [props.signalId]);
  useEffect(() => {
    load();
    // Positions reach the server within about a second: look again shortly after a change.
    const timer = setTimeout(load, 2500);
    return () => clearTimeout(timer);
  }, [load, props.refreshKey]);

  if (error) return <span className="muted">receipts unavailable</span>;
  if (!receipts) return <span className="muted">…</span>;
  return (
    <span className="receipts" data-testid="receipts">
      <span title="Entitled subscribers with a live connection now">
        <b>{receipts.connected}</b>/{receipts.entitled} online
      </span>
      <span title="Entitled subscribers whose devices received it">
        <b>{receipts.delivered}</b>/{receipts.entitled} received
      </span>
      <span title="Entitled subscribers who have seen it">
        <b>{receipts.read}</b>/{receipts.entitled} read
      </span>
      <button type="button" className="button button--ghost button--tiny" onClick={load} aria-label="Refresh receipts">
        ↻
      </button>
    </span>
  );
}
