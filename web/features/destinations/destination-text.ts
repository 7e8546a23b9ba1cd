/** How a destination's kind, state and place in the log read on the page. */
import type { Destination, DestinationKind } from '../../api/types.js';
import { formatCount, formatDuration, formatTime } from '../../components/format.js';

export const KIND_LABELS: Record<DestinationKind, { short: string; long: string }> = {
  webhook: { short: 'Webhook', long: 'Webhook (signed HTTP POST)' },
  telegram: { short: 'Telegram', long: 'Telegram chat' },
  discord: { short: 'Discord', long: 'Discord channel' },
};

/** "seq 1,204 of 1,210 · 6 pending". */
export function positionText(d: Destination): string {
  const pending =
    d.pending === 0 ? 'nothing pending' : `${formatCount(d.pending)}${d.pendingCapped ? '+' : ''} pending`;
  return `seq ${formatCount(d.deliveredSeq)} of ${formatCount(d.headSeq)} · ${pending}`;
}

/** How far behind it is, in words a person can act on. */
export function lagText(d: Destination, now: number): string {
  if (d.pending === 0) return 'up to date';
  const behind = d.failingSince ? ` for ${formatDuration(now - Date.parse(d.failingSince))}` : '';
  if (d.state === 'disabled') return 'waiting while disabled';
  if (d.state === 'paused') return `paused, behind${behind}`;
  if (d.state === 'retrying') return `behind${behind}`;
  return 'catching up';
}

/** "12:03:09 (in 4 s)", or "now" once the time has come. */
export function nextTryText(iso: string, now: number): string {
  const wait = Date.parse(iso) - now;
  return wait <= 0 ? 'now' : `${formatTime(iso)} (in ${formatDuration(wait)})`;
}
