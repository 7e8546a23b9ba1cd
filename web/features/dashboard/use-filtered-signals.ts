/**
 * A filtered history: pages from the server (which filters by entitlement and by the
 * query), plus signals that arrived live since, tested locally with the same rules.
 */
import { useCallback, useEffect, useMemo, useRef, useState } from 'react';
import type { SignalView } from '../../../shared/events.js';
import { get, query } from '../../api/client.js';
import type { SignalPage } from '../../api/types.js';
import { PAGE_SIZE } from '../../state/feed.js';
import type { FeedSnapshot, SignalStore } from '../../state/signal-store.js';
import { isFiltered, matches, type Filters } from './filters.js';

export interface FilteredList {
  items: readonly SignalView[];
  loading: boolean;
  done: boolean;
  error: string | null;
  loadMore(): void;
}

export function useFilteredSignals(store: SignalStore, snapshot: FeedSnapshot, filters: Filters): FilteredList {
  const active = isFiltered(filters);
  const [ids, setIds] = useState<string[]>([]);
  const [cursor, setCursor] = useState<number | null>(null);
  const [baseline, setBaseline] = useState(0);
  const [loading, setLoading] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const generation = useRef(0);
  const key = JSON.stringify(filters);

  const fetchPage = useCallback(
    async (before: number | null, gen: number) => {
      setLoading(true);
      try {
        const params = { ...filters, before, limit: PAGE_SIZE };
        const page = await get<SignalPage>(`/api/signals${query(params)}`);
        if (gen !== generation.current) return;
        store.remember(page.items);
        setIds((current) => [...(before === null ? [] : current), ...page.items.map((view) => view.id)]);
        setCursor(page.nextCursor);
        if (before === null) setBaseline(page.items[0]?.seq ?? store.headSeq);
        setError(null);
      } catch (e) {
        if (gen === generation.current) setError(e instanceof Error ? e.message : String(e));
      } finally {
        if (gen === generation.current) setLoading(false);
      }
    },
    [key, store],
  );

  useEffect(() => {
    const gen = ++generation.current;
    setIds([]);
    setCursor(null);
    if (!active) return;
    // Typing in the search box should not send a request per key.
    const timer = setTimeout(() => void fetchPage(null, gen), 250);
    return () => clearTimeout(timer);
  }, [active, fetchPage]);

  const items = useMemo(() => {
    if (!active) return [];
    const fresh: SignalView[] = [];
    for (const view of snapshot.feed) {
      if (view.seq <= baseline) break;
      if (matches(view, filters) && !ids.includes(view.id)) fresh.push(view);
    }
    // The server decided the search match; the other filters are re-checked as states change.
    const fetched = ids
      .map((id) => snapshot.byId.get(id))
      .filter((view): view is SignalView => view !== undefined && matches(view, { ...filters, q: '' }));
    return [...fresh, ...fetched];
  }, [active, snapshot, ids, baseline, key]);

  return {
    items,
    loading,
    done: cursor === null && !loading,
    error,
    loadMore: () => {
      if (!loading && cursor !== null) void fetchPage(cursor, generation.current);
    },
  };
}
