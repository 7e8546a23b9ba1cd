/**
 * The log's event shapes, exactly as every read path (Socket.IO, SSE, `GET /api/events`,
 * export) presents them. `hash` covers every other member listed in `HASHED_FIELDS`.
 */
import type { Market, Role, Side, SignalStatus, UpdateType } from './schemas.js';

export const EVENT_TYPES = ['signal.created', 'signal.updated'] as const;
export type EventType = (typeof EVENT_TYPES)[number];

/**
 * Where a mirrored event came from: a channel that receives another's signals after a delay
 * (free after VIP) appends a new event of its own chain that names the original by id and
 * hash, and says when it was first published.
 */
export interface EventOrigin {
  channel: string;
  seq: number;
  id: string;
  signalId: string;
  hash: string;
  createdAt: string;
}

/** What a `signal.created` event carries. */
export interface SignalData {
  symbol: string;
  market: Market;
  side: Side;
  entry: number;
  stopLoss: number;
  takeProfits: number[];
  source?: string;
  timeframe?: string;
  leverage?: number;
  notes?: string;
  /** Set on a mirror channel's release of another channel's signal. */
  origin?: EventOrigin;
}

/** What a `signal.updated` event carries. */
export interface UpdateData {
  type: UpdateType;
  price?: number;
  level?: number;
  notes?: string;
  /** Set on a mirror channel's release of another channel's event. */
  origin?: EventOrigin;
}

interface EventBase {
  /** Global, gap-free, commit-ordered position in the log. */
  seq: number;
  /** Time-ordered unique id (UUIDv7). */
  id: string;
  channel: string;
  /** The signal this event belongs to; for `signal.created` it equals `id`. */
  signalId: string;
  /** User id of the admin who appended it. */
  author: string;
  /** ISO-8601 time of the append, never earlier than the previous event of the channel. */
  createdAt: string;
  /** `hash` of the previous event of the same channel; 64 zeros for the first. */
  prevHash: string;
  /** sha256(prevHash + canonicalJson(event without hash)), hex. */
  hash: string;
}

export interface SignalCreatedEvent extends EventBase {
  type: 'signal.created';
  data: SignalData;
}
export interface SignalUpdatedEvent extends EventBase {
  type: 'signal.updated';
  data: UpdateData;
}
export type StoredEvent = SignalCreatedEvent | SignalUpdatedEvent;

export const GENESIS_HASH = '0'.repeat(64);
export const HASHED_FIELDS = [
  'seq',
  'id',
  'type',
  'channel',
  'signalId',
  'author',
  'createdAt',
  'data',
  'prevHash',
] as const;

/** The part of an event its hash is computed over. */
export function hashedPart(event: Omit<StoredEvent, 'hash'> | StoredEvent): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const key of HASHED_FIELDS) out[key] = event[key];
  return out;
}

/** `new_signal` payload: the stored event, with the signal's fields also at the top level for old clients. */
export type NewSignalPayload = SignalCreatedEvent & SignalData;
/** `signal_update` payload: the stored event. */
export type SignalUpdatePayload = SignalUpdatedEvent;

/**
 * The payload of the event's Socket.IO and SSE message: `{ ...event.data, ...event }` for a
 * new signal. Built with `Object.assign`, which gives the same members in the same order:
 * V8 makes an object literal with two spreads member by member into a dictionary, about
 * 20 µs an event against 1 µs, and that object is slower to stringify too (every replay
 * encodes each event it sends).
 */
export function toWire(event: StoredEvent): NewSignalPayload | SignalUpdatePayload {
  return event.type === 'signal.created' ? (Object.assign({}, event.data, event) as NewSignalPayload) : event;
}

export function wireEventName(event: StoredEvent): 'new_signal' | 'signal_update' {
  return event.type === 'signal.created' ? 'new_signal' : 'signal_update';
}

/** Socket.IO events the server emits. Everything carrying `seq` arrives in strictly ascending order. */
export interface ServerToClientEvents {
  new_signal: (payload: NewSignalPayload) => void;
  signal_update: (payload: SignalUpdatePayload) => void;
  /** Sent once the replay after `lastSeq` is complete and live delivery begins. */
  live: (info: { headSeq: number }) => void;
  /** The user's channels changed; `granted` channels' history is available from `GET /api/signals`. */
  entitlements: (info: { channels: string[]; granted: string[]; revoked: string[] }) => void;
  /** Sent just before the server closes a connection whose session reached its expiry. */
  session_expired: (info: { message: string }) => void;
}

/** Socket.IO events a client may send. */
export interface ClientToServerEvents {
  /** Report positions: highest seq received, highest shown to the user. At most about once a second. */
  position: (position: { delivered?: number; read?: number }) => void;
}

export interface PublicUser {
  id: string;
  email: string;
  name: string | null;
  role: Role;
  disabled: boolean;
  createdAt: string;
  channels: string[];
}

export interface SignalView extends SignalData {
  id: string;
  channel: string;
  author: string;
  createdAt: string;
  updatedAt: string;
  /** seq of the `signal.created` event. */
  seq: number;
  /** seq of the newest event of this signal. */
  lastSeq: number;
  status: SignalStatus;
  /** Highest take-profit level hit so far (0 when none). */
  tpHit: number;
  breakeven: boolean;
  /** Price at which the position ended, where it has. */
  exitPrice?: number;
}
