/**
 * Encoded events, kept for reuse: each event is encoded into its WebSocket frame once, for
 * live delivery and every replay alike, and a run of consecutive events written as one
 * buffer is joined once for every socket that gets the same run — in a reconnect storm,
 * thousands of clients replay the same events in the same chunks.
 */
import { toWire, wireEventName, type StoredEvent } from '../../shared/events.js';
import { wsTextFrame } from './direct-writer.js';
import type { Outgoing } from './live-fanout.js';

export type Frame = Outgoing<Buffer>;

/** Single frames kept (a few MiB at most). */
const FRAMES = 4096;
/** Joined runs kept: replay chunks are up to 64 KiB each. */
const RUNS = 64;

/** Adds `key` to a map kept in insertion order, dropping the oldest entry beyond `cap`. */
function remember<K, V>(map: Map<K, V>, key: K, value: V, cap: number): V {
  map.set(key, value);
  if (map.size > cap) map.delete(map.keys().next().value!);
  return value;
}

export class FrameCache {
  private readonly frames = new Map<number, Buffer>();
  private readonly runs = new Map<string, Buffer>();

  /** The event's `42[name, payload]` packet as one WebSocket text frame. */
  frame(event: StoredEvent): Buffer {
    return (
      this.frames.get(event.seq) ??
      remember(
        this.frames,
        event.seq,
        wsTextFrame(`42${JSON.stringify([wireEventName(event), toWire(event)])}`),
        FRAMES,
      )
    );
  }

  /**
   * The frames of `batch` (ascending seq) as one buffer. The log never changes, so frames of
   * consecutive seqs `first..last` are always the same bytes: such a run is joined once.
   */
  joined(batch: readonly Frame[]): Buffer {
    if (batch.length === 1) return batch[0]!.payload;
    const first = batch[0]!.event.seq;
    const last = batch[batch.length - 1]!.event.seq;
    // Not consecutive: the events of some channels only, which differ from socket to socket.
    if (last - first + 1 !== batch.length) return concat(batch);
    const key = `${first}:${last}`;
    return this.runs.get(key) ?? remember(this.runs, key, concat(batch), RUNS);
  }
}

function concat(batch: readonly Frame[]): Buffer {
  return Buffer.concat(batch.map((frame) => frame.payload));
}
