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
import { canSee, isAdmin, scopeOf, type Actor } from './policy.js';

const requestHash = (body: unknown) => createHash('sha256').update(canonicalJson(body)).digest('hex');

export class SignalService {
  /** Channels are never deleted: one seen to exist needs no second look. */
  private readonly knownChannels = new Set<string>();

  constructor(
    private readonly store: Store,
    private readonly bus: Bus,
  ) {}

  async publish(actor: Actor, input: SignalInput): Promise<AppendResult> {
    if (!isAdmin(actor)) throw forbidden('only admins publish signals');
    if (!this.knownChannels.has(input.channel)) {
      if (!(await this.store.getChannel(input.channel))) {
        throw badRequest('unknown channel', { channel: `channel ${input.channel} does not exist` });
      }
      this.knownChannels.add(input.channel);
    }
    const { idempotencyKey, channel, ...data } = input;
    const result = await this.store.append(
      { type: 'signal.created', channel, author: actor.user.id, data },
      idempotencyKey
        ? { idempotency: { actorId: actor.user.id, key: idempotencyKey, requestHash: requestHash(input) } }
        : {},
    );
    if (!result.replayed) await this.announce(result.event);
    return result;
  }

  async update(actor: Actor, signalId: string, input: SignalUpdateInput): Promise<AppendResult> {
    if (!isAdmin(actor)) throw forbidden('only admins update signals');
    const { idempotencyKey, ...data } = input;
    const result = await this.store.append(
      { type: 'signal.updated', signalId, author: actor.user.id, data },
      {
        guard: (current) => {
          const rejection = rejectUpdate(current, data);
          if (!rejection) return;
          if (rejection.kind === 'invalid') {
            throw badRequest(rejection.message, { [rejection.field ?? 'type']: rejection.message });
          }
          throw conflict('invalid_transition', rejection.message);
        },
        ...(idempotencyKey
          ? {
              idempotency: {
                actorId: actor.user.id,
                key: idempotencyKey,
                requestHash: requestHash({ signalId, input }),
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
