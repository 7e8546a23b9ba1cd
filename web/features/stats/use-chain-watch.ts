/**
 * Verifies the caller's channels while the page is open: the server's signed heads first
 * (so each can be matched when its event passes), then every entitled event from the start
 * of the log, then the live stream (SSE) from where the pages ended.
 */
import { useEffect, useState } from 'react';
import type { StoredEvent } from '../../../shared/events.js';
import { get, query } from '../../api/client.js';
import { ChainWatch, signedHeadVerifies, type ChannelChain, type SignedHeadInfo } from './chain-check.js';

const PAGE = 1000;

export interface ChainWatchState {
  chains: ChannelChain[];
  /** True until the whole log up to the server's head has been checked. */
  loading: boolean;
  /** The highest seq checked. */
  headSeq: number;
  error: string | null;
}

export function useChainWatch(): ChainWatchState {
  const [state, setState] = useState<ChainWatchState>({ chains: [], loading: true, headSeq: 0, error: null });

  useEffect(() => {
    // A fresh watch per run: a remount (React's strict mode does one) starts over cleanly.
    const watch = new ChainWatch();
    let stopped = false;
    let stream: EventSource | null = null;
    const unsubscribe = watch.subscribe(() => {
      if (!stopped) setState((s) => ({ ...s, chains: watch.channels(), headSeq: watch.headSeq }));
    });
    const fail = (failure: unknown) => {
      if (!stopped) setState((s) => ({ ...s, error: failure instanceof Error ? failure.message : String(failure) }));
    };
    void (async () => {
      const [key, heads] = await Promise.all([
        get<{ raw: string }>('/api/chain/key'),
        get<{ heads: SignedHeadInfo[] }>('/api/chain/head'),
      ]);
      const valid = await Promise.all(heads.heads.map((head) => signedHeadVerifies(head, key.raw)));
      heads.heads.forEach((head, i) => watch.expect(head, valid[i] ?? false));
      let after = 0;
      for (;;) {
        const page = await get<{ events: StoredEvent[]; nextAfter: number }>(
          `/api/events${query({ after, limit: PAGE })}`,
        );
        if (stopped) return;
        await watch.feed(page.events);
        after = page.nextAfter;
        if (page.events.length < PAGE) break;
      }
      if (stopped) return;
      setState((s) => ({ ...s, loading: false }));
      stream = new EventSource(`/api/stream${query({ after })}`);
      const onEvent = (message: MessageEvent<string>) => {
        watch.feed([JSON.parse(message.data) as StoredEvent]).catch(fail);
      };
      stream.addEventListener('new_signal', onEvent);
      stream.addEventListener('signal_update', onEvent);
    })().catch(fail);
    return () => {
      stopped = true;
      unsubscribe();
      stream?.close();
    };
  }, []);

  return state;
}
