/**
 * API tokens for bots: admin-made, scoped to publishing on chosen channels, never an admin.
 * A token is `sdt_` and 43 random characters, shown once; only its SHA-256 is stored. Every
 * request looks the token up afresh, so a revoked token stops working on every node at once.
 */
import { newToken, tokenHash } from '../auth/tokens.js';
import type { ApiTokenRecord } from '../store/integrations.js';
import type { Store } from '../store/store.js';
import { AppError, badRequest, forbidden, notFound } from './errors.js';
import { isAdmin, type Actor, type Publisher } from './policy.js';

export const API_TOKEN_PREFIX = 'sdt_';

/** Last-used times are written at most this often per token: not a write per publish. */
const TOUCH_EVERY_MS = 60_000;

export function isApiToken(token: string): boolean {
  return token.startsWith(API_TOKEN_PREFIX);
}

export class ApiTokens {
  private readonly touched = new Map<string, number>();

  constructor(private readonly store: Store) {}

  async create(actor: Actor, input: { name: string; channels: string[] }): Promise<ApiTokenRecord & { token: string }> {
    if (!isAdmin(actor)) throw forbidden('only admins manage API tokens');
    for (const slug of input.channels) {
      if (!(await this.store.getChannel(slug)))
        throw badRequest('unknown channel', { channels: `channel ${slug} does not exist` });
    }
    const token = `${API_TOKEN_PREFIX}${newToken()}`;
    const record = await this.store.tokens.create({
      name: input.name,
      tokenHash: tokenHash(token),
      channels: [...new Set(input.channels)],
      createdBy: actor.user.id,
    });
    return { ...record, token };
  }

  async list(actor: Actor): Promise<ApiTokenRecord[]> {
    if (!isAdmin(actor)) throw forbidden('only admins manage API tokens');
    return this.store.tokens.list();
  }

  async revoke(actor: Actor, id: string): Promise<void> {
    if (!isAdmin(actor)) throw forbidden('only admins manage API tokens');
    if (!(await this.store.tokens.list()).some((t) => t.id === id)) throw notFound('API token');
    await this.store.tokens.revoke(id);
  }

  /** The publisher a live token stands for; 401 for an unknown or revoked one. */
  async publisher(token: string): Promise<Publisher> {
    const record = await this.store.tokens.byHash(tokenHash(token));
    if (!record || record.revokedAt) throw new AppError(401, 'unauthorized', 'this API token is not valid');
    const now = Date.now();
    if (now - (this.touched.get(record.id) ?? 0) > TOUCH_EVERY_MS) {
      this.touched.set(record.id, now);
      void this.store.tokens.touch(record.id, new Date(now).toISOString()).catch(() => {});
    }
    const channels = new Set(record.channels);
    return { author: `token:${record.id}`, canPublishTo: (channel) => channels.has(channel) };
  }
}
