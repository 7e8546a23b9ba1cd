/**
 * Track-record statistics as `GET /api/stats` returns them and the web app draws them.
 * Every figure is a fold over the immutable log (see `server/core/stats.ts` for the rules),
 * so a provider cannot polish it by editing anything: there is nothing to edit.
 */
import { z } from 'zod';
import { LIMITS } from './limits.js';
import { MARKETS, slugSchema } from './schemas.js';

/**
 * The figures of one group of signals.
 * - `signals` = `open` + `closed` + `cancelled`.
 * - `wins`/`losses` count decided signals only; `winRate` = wins / (wins + losses), null when
 *   nothing is decided yet.
 * - `rCount` signals have an R multiple (closed with an exit price); `totalR` is their sum and
 *   `averageR` = totalR / rCount, null when rCount is 0.
 */
export interface StatsFigures {
  signals: number;
  open: number;
  closed: number;
  cancelled: number;
  wins: number;
  losses: number;
  winRate: number | null;
  rCount: number;
  totalR: number;
  averageR: number | null;
}

export interface StatsGroup extends StatsFigures {
  /** The channel slug, market, symbol, source (`''` when the signal named none) or month `YYYY-MM`. */
  key: string;
}

/** One point of the equity curve: a signal's R realised by the event that closed it. */
export interface EquityPoint {
  /** seq of the closing event; points are in ascending seq. */
  seq: number;
  /** createdAt of the closing event. */
  at: string;
  signalId: string;
  channel: string;
  symbol: string;
  r: number;
  /** Sum of `r` over this point and every point before it. */
  cumulativeR: number;
}

export interface StatsReport {
  /** The highest seq folded in: the report covers the log up to here. */
  upToSeq: number;
  totals: StatsFigures;
  byChannel: StatsGroup[];
  byMarket: StatsGroup[];
  bySymbol: StatsGroup[];
  bySource: StatsGroup[];
  /** By the month (UTC) a signal was published, ascending: wins and losses by month. */
  byMonth: StatsGroup[];
  equity: EquityPoint[];
}

const instant = z
  .string()
  .trim()
  .refine((s) => /^\d{4}-\d{2}(-\d{2}(T[\d:.]+(Z|[+-]\d{2}:?\d{2}))?)?$/.test(s) && !Number.isNaN(Date.parse(s)), {
    message:
      'must be an ISO date or time, e.g. 2026-03 or 2026-03-01 or 2026-03-01T00:00:00Z (a time needs its offset)',
  });

/**
 * Query of `GET /api/stats`. Every filter narrows the signals counted; `from` (inclusive)
 * and `to` (exclusive) bound the time the signal was published.
 */
export const statsQuerySchema = z.strictObject({
  channel: slugSchema.optional(),
  market: z.enum(MARKETS).optional(),
  symbol: z.string().trim().min(1).max(LIMITS.symbolMaxChars).optional(),
  source: z.string().trim().min(1).max(100).optional(),
  from: instant.optional(),
  to: instant.optional(),
});
export type StatsQuery = z.infer<typeof statsQuerySchema>;
