/** `GET /api/stats`: the track record, folded from the caller's entitled part of the log. */
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { statsQuerySchema, type StatsReport } from '../../../shared/stats.js';
import { scopeOf } from '../../core/policy.js';
import { StatsFold } from '../../core/stats.js';
import type { Backlog } from '../../core/backlog.js';
import type { Runtime } from '../../runtime.js';
import type { Store } from '../../store/store.js';
import { authenticate } from '../auth.js';

/** Events folded per turn of the event loop. */
const FOLD_PAGE = 200;

/**
 * One fold of the whole log per node, caught up on demand: a request costs a pass over the
 * signals, not a read of the log, however many subscribers keep the page open. Catch-ups
 * run one at a time, so every event is folded exactly once and in seq order.
 */
class LogFold {
  private readonly fold = new StatsFold();
  private seq = 0;
  private catchingUp: Promise<void> = Promise.resolve();

  constructor(
    private readonly store: Store,
    private readonly backlog: Backlog,
  ) {}

  /** The fold once it covers the log up to `target`. */
  async upTo(target: number): Promise<StatsFold> {
    const run = this.catchingUp.then(async () => {
      while (this.seq < target) {
        // The first request after a start folds the whole log: a page per turn of the loop.
        await this.backlog.turn();
        const page = await this.store.readEvents({
          after: this.seq,
          upTo: target,
          limit: FOLD_PAGE,
          channels: 'all',
        });
        const last = page[page.length - 1];
        if (!last) break;
        for (const event of page) this.fold.add(event);
        this.seq = last.seq;
      }
    });
    // A failed read leaves the fold where it was; the next request retries from there.
    this.catchingUp = run.catch(() => {});
    await run;
    return this.fold;
  }
}

export function statsRoutes(runtime: Runtime): FastifyPluginAsyncZod {
  const { accounts, store, hub } = runtime;
  const log = new LogFold(store, hub.backlog);

  return async (app) => {
    app.get(
      '/stats',
      {
        schema: {
          tags: ['stats'],
          summary:
            'Signals, wins, losses, win rate, R multiples and the equity curve of the entitled channels, from the log',
          querystring: statsQuerySchema,
        },
      },
      async (request): Promise<StatsReport> => {
        const actor = await authenticate(request, accounts);
        // Up to what this node has delivered, so the figures match the events a client
        // holding `upToSeq` has seen.
        const upTo = hub.headSeq;
        const fold = await log.upTo(upTo);
        const report = fold.report(request.query, scopeOf(actor));
        // A concurrent request may have carried the fold further than `upTo`.
        return { ...report, upToSeq: Math.max(upTo, report.upToSeq) };
      },
    );
  };
}
