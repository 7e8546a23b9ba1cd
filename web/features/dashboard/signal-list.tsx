/**
 * The feed, virtualized against the window scroll: only the rows on screen exist in the
 * DOM, so 100,000 signals scroll like 20. Reaching the end asks for the next page.
 */
import { useWindowVirtualizer } from '@tanstack/react-virtual';
import { useEffect, useLayoutEffect, useRef, useState } from 'react';
import type { SignalView } from '../../../shared/events.js';
import { SignalRow } from './signal-row.js';

const FRESH_MS = 6000;

export interface SignalListProps {
  items: readonly SignalView[];
  fresh: ReadonlyMap<string, number>;
  hasMore: boolean;
  loading: boolean;
  onLoadMore(): void;
  empty: string;
}

export function SignalList(props: SignalListProps) {
  const listRef = useRef<HTMLDivElement>(null);
  const [margin, setMargin] = useState(0);
  const [now, setNow] = useState(() => Date.now());
  // The list starts below the header and filters, whose height can change (a notice, wrapping).
  useLayoutEffect(() => {
    const top = listRef.current?.offsetTop ?? 0;
    if (top !== margin) setMargin(top);
  });

  const virtualizer = useWindowVirtualizer({
    count: props.items.length,
    estimateSize: () => 76,
    overscan: 8,
    scrollMargin: margin,
    getItemKey: (index) => props.items[index]?.id ?? index,
  });
  const rows = virtualizer.getVirtualItems();
  const lastIndex = rows.at(-1)?.index ?? -1;
  const { hasMore, loading, onLoadMore } = props;
  const length = props.items.length;
  useEffect(() => {
    if (hasMore && !loading && lastIndex >= length - 20) onLoadMore();
  }, [hasMore, loading, lastIndex, length, onLoadMore]);

  // Highlights fade after a few seconds; one timer for the whole list.
  const newest = Math.max(0, ...props.fresh.values());
  useEffect(() => {
    const remaining = newest + FRESH_MS - Date.now();
    if (remaining <= 0) return;
    const timer = setTimeout(() => setNow(Date.now()), remaining + 50);
    return () => clearTimeout(timer);
  }, [newest]);

  if (length === 0 && !loading && !hasMore) {
    return (
      <div className="empty" data-testid="feed-empty">
        {props.empty}
      </div>
    );
  }

  return (
    <div ref={listRef} className="signal-list" data-testid="feed" data-count={length}>
      <div style={{ height: virtualizer.getTotalSize(), position: 'relative' }}>
        {rows.map((row) => {
          const view = props.items[row.index];
          if (!view) return null;
          const arrived = props.fresh.get(view.id);
          return (
            <div
              key={row.key}
              data-index={row.index}
              ref={virtualizer.measureElement}
              className="signal-list__item"
              style={{ transform: `translateY(${row.start - virtualizer.options.scrollMargin}px)` }}
            >
              <SignalRow view={view} fresh={arrived !== undefined && now - arrived < FRESH_MS} />
            </div>
          );
        })}
      </div>
      {loading || hasMore ? (
        <p className="signal-list__more muted" aria-live="polite">
          {loading ? 'Loading older signals…' : ' '}
        </p>
      ) : (
        <p className="signal-list__more muted">That is the whole history.</p>
      )}
    </div>
  );
}
