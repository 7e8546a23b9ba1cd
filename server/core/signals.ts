/**
 * Publishing: validate → append in one durable transaction → acknowledge → fan out.
 * The bus is told only after the commit, so nothing unacknowledged is ever delivered.
 */
import { createHash } from 'node:crypto';
import { canonicalJson } from '../../shared/canonical-json.js';
import type { SignalView, StoredEvent } from '../../shared/events.js';
import type { SignalInput, SignalListQuery, SignalUpdateInput } from '../../shared/schemas.js';
import { rejectUpdate } from '../../shared/signal-state.js';
import type { Bus } from '../bus/bus.js';
import type { AppendResult, Store } from '../store/store.js';
import { badRequest, conflict, forbidden, notFound } from './errors.js';
import type { EventOrigin } from '../../shared/events.js';
import { canSee, isAdmin, scopeOf, type Actor, type Publisher } from './policy.js';

export interface PublishOptions {
  /** The key is forgotten after this long (deduplicating identical webhook bodies for a while). */
  idempotencyWindowMs?: number;
  /** This event releases another channel's event (a delayed mirror). */
  origin?: EventOrigin;
  /**
   * A mirror's release of an update: the lifecycle rules that depend on time are those of
   * when the original was made, long before this release.
   */
  releasing?: boolean;
}

const requestHash = (body: unknown) => createHash('sha256').update(canonicalJson(body)).digest('hex');

export class SignalService {
  /** Channels are never deleted: one seen to exist needs no second look. */
  private readonly knownChannels = new Set<string>();

  constructor(
    private readonly store: Store,
    private readonly bus: Bus,
  ) {}

  /**
   * Appends a signal. `options.idempotencyWindowMs` makes the key a window rather than for
   * ever (see AppendOptions); `options.origin` marks a release of another channel's event.
   */
  async publish(publisher: Publisher, input: SignalInput, options: PublishOptions = {}): Promise<AppendResult> {
    if (!publisher.canPublishTo(input.channel)) throw forbidden(`not allowed to publish to ${input.channel}`);
    if (!this.knownChannels.has(input.channel)) {
      if (!(await this.store.getChannel(input.channel))) {
        throw badRequest('unknown channel', { channel: `channel ${input.channel} does not exist` });
      }
      this.knownChannels.add(input.channel);
    }
    const { idempotencyKey, channel, ...fields } = input;
    const data = options.origin ? { ...fields, origin: options.origin } : fields;
    const result = await this.store.append(
      { type: 'signal.created', channel, author: publisher.author, data },
      idempotencyKey
        ? {
            idempotency: {
              actorId: publisher.author,
              key: idempotencyKey,
              requestHash: requestHash(input),
              ...(options.idempotencyWindowMs ? { windowMs: options.idempotencyWindowMs } : {}),
            },
          }
        : {},
    );
    if (!result.replayed) await this.announce(result.event);
    return result;
  }

  async update(
    publisher: Publisher,
    signalId: string,
    input: SignalUpdateInput,
    options: PublishOptions = {},
  ): Promise<AppendResult> {
    const { idempotencyKey, ...fields } = input;
    const data = options.origin ? { ...fields, origin: options.origin } : fields;
    const result = await this.store.append(
      { type: 'signal.updated', signalId, author: publisher.author, data },
      {
        guard: (current) => {
          if (!publisher.canPublishTo(current.channel)) {
            throw forbidden(`not allowed to update signals of ${current.channel}`);
          }
          const rejection = rejectUpdate(
            current,
            fields,
            options.releasing ? Date.parse(current.createdAt) : Date.now(),
          );
          if (!rejection) return;
          if (rejection.kind === 'invalid') {
            throw badRequest(rejection.message, { [rejection.field ?? 'type']: rejection.message });
          }
          throw conflict('invalid_transition', rejection.message);
        },
        ...(idempotencyKey
          ? {
              idempotency: {
                actorId: publisher.author,
                key: idempotencyKey,
                requestHash: requestHash({ signalId, input }),
                ...(options.idempotencyWindowMs ? { windowMs: options.idempotencyWindowMs } : {}),
              },
            }
          : {}),
      },
    );
    if (!result.replayed) await this.announce(result.event);
    return result;
  }

  /** Fan-out is best-effort here: the event is committed, and the hub repairs a lost hint from the log. */
  private async announce(event: StoredEvent): Promise<void> {
    try {
      await this.bus.publish({ kind: 'events', events: [event] });
    } catch {
      // The periodic log check on every node delivers it regardless.
    }
  }

  list(actor: Actor, query: SignalListQuery): Promise<SignalView[]> {
    return this.store.listSignals(query, scopeOf(actor));
  }

  async get(actor: Actor, id: string): Promise<{ signal: SignalView; events: StoredEvent[] }> {
    const signal = await this.store.getSignal(id);
    // Not entitled looks exactly like not existing: no probing for ids.
    if (!signal || !canSee(actor, signal.channel)) throw notFound('signal');
    return { signal, events: await this.store.eventsOfSignal(id) };
  }

  async receipts(actor: Actor, id: string) {
    if (!isAdmin(actor)) throw forbidden();
    const signal = await this.store.getSignal(id);
    if (!signal) throw notFound('signal');
    const users = await this.store.subscribersOf(signal.channel);
    return {
      signalId: id,
      seq: signal.seq,
      entitled: users.length,
      delivered: users.filter((u) => u.deliveredSeq >= signal.seq).length,
      read: users.filter((u) => u.readSeq >= signal.seq).length,
      userIds: users.map((u) => u.id),
    };
  }
}
