/**
 * Reads something every few seconds while the page is shown: at once, then every `intervalMs`.
 * A slow answer is never asked for again on top of itself, and a hidden tab asks nothing (it
 * catches up the moment it is shown again). `data` keeps the last good answer when a refresh
 * fails, so figures stay on screen with the error beside them instead of blanking.
 */
import { useCallback, useEffect, useRef, useState } from 'react';

export interface Polled<T> {
  data: T | null;
  error: string | null;
  /** Client time of the last good answer (ms). */
  receivedAt: number | null;
  /** Reads now, outside the schedule (after an action that changes what is shown). */
  refresh(): void;
}

export function usePolling<T>(read: () => Promise<T>, intervalMs: number): Polled<T> {
  const [state, setState] = useState<Omit<Polled<T>, 'refresh'>>({ data: null, error: null, receivedAt: null });
  const inFlight = useRef(false);
  const readRef = useRef(read);
  readRef.current = read;

  const load = useCallback(async () => {
    if (inFlight.current) return;
    inFlight.current = true;
    try {
      const data = await readRef.current();
      setState({ data, error: null, receivedAt: Date.now() });
    } catch (e) {
      setState((s) => ({ ...s, error: e instanceof Error ? e.message : String(e) }));
    } finally {
      inFlight.current = false;
    }
  }, []);

  useEffect(() => {
    void load();
    const timer = setInterval(() => {
      if (!document.hidden) void load();
    }, intervalMs);
    const onVisible = () => {
      if (!document.hidden) void load();
    };
    document.addEventListener('visibilitychange', onVisible);
    return () => {
      clearInterval(timer);
      document.removeEventListener('visibilitychange', onVisible);
    };
  }, [load, intervalMs]);

  return { ...state, refresh: () => void load() };
}
