/**
 * The signal every system publishes and the look-alike event the baselines broadcast, so
 * all three put the same bytes on the wire. `source` carries the benchmark's index of the
 * signal (`bench-k<index>`): clients find it without parsing the whole packet.
 */
import { randomUUID } from 'node:crypto';

export const SOURCE_PREFIX = 'bench-k';
export const CHANNEL = 'bench';

export interface BenchSignal {
  channel: string;
  symbol: string;
  market: 'crypto';
  side: 'buy';
  entry: number;
  stopLoss: number;
  takeProfits: number[];
  source: string;
  timeframe: string;
  notes: string;
}

export function benchSignal(index: number): BenchSignal {
  return {
    channel: CHANNEL,
    symbol: `BTC${index % 100}`,
    market: 'crypto',
    side: 'buy',
    entry: 64_250.5,
    stopLoss: 63_100,
    takeProfits: [65_000, 66_500, 68_000],
    source: `${SOURCE_PREFIX}${index}`,
    timeframe: '4h',
    notes: 'Breakout above the weekly range; scale out at each target.',
  };
}

const HEX64 = 'ab'.repeat(32);

/** The shape signal-desk puts on the wire (`toWire`): the stored event with its data also at the top. */
export function wireEvent(signal: BenchSignal, seq: number): Record<string, unknown> {
  const { channel, ...data } = signal;
  const id = randomUUID();
  return {
    ...data,
    seq,
    id,
    type: 'signal.created',
    channel,
    signalId: id,
    author: randomUUID(),
    createdAt: new Date().toISOString(),
    data,
    prevHash: HEX64,
    hash: HEX64,
  };
}
