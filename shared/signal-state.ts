/**
 * A signal's current state is a fold over its events. These rules are the only place that
 * decides what a lifecycle event may do; the server checks them inside the append
 * transaction, the web app uses them to show what is allowed.
 */
import type { SignalCreatedEvent, SignalUpdatedEvent, SignalView, UpdateData } from './events.js';
import { LIMITS } from './limits.js';
import type { SignalStatus, UpdateType } from './schemas.js';

export const TERMINAL_STATUSES: ReadonlySet<SignalStatus> = new Set(['sl_hit', 'closed', 'cancelled']);

export function initialView(event: SignalCreatedEvent): SignalView {
  return {
    ...event.data,
    id: event.signalId,
    channel: event.channel,
    author: event.author,
    createdAt: event.createdAt,
    updatedAt: event.createdAt,
    seq: event.seq,
    lastSeq: event.seq,
    status: 'open',
    tpHit: 0,
    breakeven: false,
  };
}

export interface Rejection {
  /** 409 for a conflict with the signal's state, 400 for an invalid field. */
  kind: 'conflict' | 'invalid';
  field?: string;
  message: string;
}

/** Why `price` is no price for `update` of `view`, or null when it is one. */
function rejectPrice(view: SignalView, update: UpdateData): Rejection | null {
  const { price } = update;
  if (price === undefined) return null;
  const invalid = (message: string): Rejection => ({ kind: 'invalid', field: 'price', message });
  const factor = LIMITS.updatePriceFactor;
  if (price > view.entry * factor || price < view.entry / factor) {
    return invalid(`must be within ${factor}× of the entry (${view.entry})`);
  }
  const buy = view.side === 'buy';
  // A take-profit is hit in profit, a stop at a loss (or at the entry, once moved there).
  if (update.type === 'tp_hit' && (buy ? price <= view.entry : price >= view.entry)) {
    return invalid(`a take-profit of a ${view.side} is hit ${buy ? 'above' : 'below'} the entry (${view.entry})`);
  }
  if (update.type === 'sl_hit' && (buy ? price > view.entry : price < view.entry)) {
    return invalid(`a stop of a ${view.side} is hit at or ${buy ? 'below' : 'above'} the entry (${view.entry})`);
  }
  return null;
}

/**
 * Why `update` cannot be applied to `view` at `now` (epoch ms), or null when it can. A cancel
 * more than `LIMITS.cancelGraceMs` after publication needs the mark price it was cancelled at:
 * the position was open, so the statistics count it by that price (see server/core/stats.ts)
 * and a losing call cannot leave the win rate by being cancelled.
 */
export function rejectUpdate(view: SignalView, update: UpdateData, now: number = Date.now()): Rejection | null {
  const terminal = TERMINAL_STATUSES.has(view.status);
  if (update.type === 'note') return null;
  if (terminal)
    return { kind: 'conflict', message: `the signal is ${view.status.replace('_', ' ')}; only notes may follow` };
  const price = rejectPrice(view, update);
  if (price) return price;
  switch (update.type) {
    case 'tp_hit': {
      const level = update.level ?? 0;
      if (level < 1 || level > view.takeProfits.length) {
        return { kind: 'invalid', field: 'level', message: `must be between 1 and ${view.takeProfits.length}` };
      }
      if (level <= view.tpHit) return { kind: 'conflict', message: `take-profit ${level} was already hit` };
      return null;
    }
    case 'breakeven':
      return view.breakeven ? { kind: 'conflict', message: 'the stop is already at breakeven' } : null;
    case 'cancelled':
      if (view.tpHit > 0) {
        return { kind: 'conflict', message: 'a signal that hit a take-profit cannot be cancelled; close it' };
      }
      if (update.price === undefined && now - Date.parse(view.createdAt) > LIMITS.cancelGraceMs) {
        return {
          kind: 'invalid',
          field: 'price',
          message: `is required to cancel more than ${LIMITS.cancelGraceMs / 60_000} minutes after publishing: give the mark price`,
        };
      }
      return null;
    default:
      return null;
  }
}

/** The state after `event`. Assumes `rejectUpdate` accepted it. */
export function applyUpdate(view: SignalView, event: SignalUpdatedEvent): SignalView {
  const { data } = event;
  const next: SignalView = { ...view, lastSeq: event.seq, updatedAt: event.createdAt };
  switch (data.type) {
    case 'tp_hit': {
      const level = data.level ?? 1;
      next.tpHit = level;
      if (level >= view.takeProfits.length) {
        next.status = 'closed';
        next.exitPrice = data.price ?? view.takeProfits[level - 1];
      } else {
        next.status = 'tp_hit';
      }
      break;
    }
    case 'sl_hit':
      next.status = 'sl_hit';
      next.exitPrice = data.price ?? (view.breakeven ? view.entry : view.stopLoss);
      break;
    case 'breakeven':
      next.breakeven = true;
      break;
    case 'closed':
      next.status = 'closed';
      if (data.price !== undefined) next.exitPrice = data.price;
      break;
    case 'cancelled':
      next.status = 'cancelled';
      if (data.price !== undefined) next.exitPrice = data.price;
      break;
    case 'note':
      break;
  }
  return next;
}

/** A short human label for the state, as the dashboard shows it. */
export function statusLabel(view: Pick<SignalView, 'status' | 'tpHit' | 'breakeven'>): string {
  const labels: Record<SignalStatus, string> = {
    open: view.breakeven ? 'Open · BE' : 'Open',
    tp_hit: `TP${view.tpHit} hit${view.breakeven ? ' · BE' : ''}`,
    sl_hit: 'SL hit',
    closed: view.tpHit > 0 ? `Closed · TP${view.tpHit}` : 'Closed',
    cancelled: 'Cancelled',
  };
  return labels[view.status];
}

export const UPDATE_LABELS: Record<UpdateType, string> = {
  tp_hit: 'Take-profit hit',
  sl_hit: 'Stop-loss hit',
  breakeven: 'Stop moved to breakeven',
  closed: 'Closed',
  cancelled: 'Cancelled',
  note: 'Note',
};
