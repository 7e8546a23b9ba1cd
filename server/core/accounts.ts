/**
 * Accounts, sessions, channels and grants. Every change that affects live connections
 * (revoke, logout, disable) is announced on the bus so every node acts on it at once.
 */
import { uuidv7 } from 'uuidv7';
import type { PublicUser } from '../../shared/events.js';
import type { ChannelInput, SetupInput, UserInput } from '../../shared/schemas.js';
import { hashPassword, verifyPassword } from '../auth/passwords.js';
import { newToken, tokenHash } from '../auth/tokens.js';
import type { Bus } from '../bus/bus.js';
import type { ChannelRecord, Store, UserRecord } from '../store/store.js';
import { AppError, badRequest, conflict, forbidden, notFound, unauthorized } from './errors.js';
import { isAdmin, type Actor } from './policy.js';

const THROTTLE_WINDOW_MS = 15 * 60_000;
const THROTTLE_MAX_FAILURES = 5;
const THROTTLE_LOCK_MS = 15 * 60_000;

export interface LoginResult {
  token: string;
  user: PublicUser;
  sessionId: string;
  expiresAt: string;
}

export function presentUser(user: UserRecord, channels: readonly string[]): PublicUser {
  return {
    id: user.id,
    email: user.email,
    name: user.name,
    role: user.role,
    disabled: user.disabledAt !== null,
    createdAt: user.createdAt,
    channels: [...channels],
  };
}

export class AccountService {
  constructor(
    private readonly store: Store,
    private readonly bus: Bus,
    private readonly sessionTtlMs: number,
  ) {}

  async setupNeeded(): Promise<boolean> {
    return (await this.store.countAdmins()) === 0;
  }

  /** Creates the first admin; refused once any admin exists. */
  async setup(input: SetupInput): Promise<UserRecord> {
    if (!(await this.setupNeeded())) throw conflict('setup_done', 'setup is complete: an admin already exists');
    return this.store.createUser({
      email: input.email,
      name: input.name ?? null,
      role: 'admin',
      passwordHash: await hashPassword(input.password),
    });
  }

  async login(email: string, password: string): Promise<LoginResult> {
    const key = `login:${email.toLowerCase()}`;
    const now = Date.now();
    const throttle = await this.store.getLoginThrottle(key);
    if (throttle && throttle.lockedUntil > now) {
      throw new AppError(429, 'too_many_attempts', 'too many failed sign-ins; try again later');
    }
    const user = await this.store.findUserByEmail(email);
    const ok = await verifyPassword(user?.passwordHash, password);
    if (!ok || !user) {
      const fresh = !throttle || now - throttle.windowStart > THROTTLE_WINDOW_MS;
      const failures = fresh ? 1 : throttle.failures + 1;
      await this.store.putLoginThrottle(key, {
        failures,
        windowStart: fresh ? now : throttle.windowStart,
        lockedUntil: failures >= THROTTLE_MAX_FAILURES ? now + THROTTLE_LOCK_MS : 0,
      });
      throw unauthorized('email or password is incorrect');
    }
    if (throttle) await this.store.clearLoginThrottle(key);
    if (user.disabledAt) throw new AppError(403, 'account_disabled', 'this account is disabled; ask an admin');
    return this.startSession(user);
  }

  async startSession(user: UserRecord): Promise<LoginResult> {
    const token = newToken();
    const sessionId = uuidv7();
    const expiresAt = new Date(Date.now() + this.sessionTtlMs).toISOString();
    await this.store.createSession({ id: sessionId, tokenHash: tokenHash(token), userId: user.id, expiresAt });
    return { token, sessionId, expiresAt, user: presentUser(user, await this.store.channelsOf(user.id)) };
  }

  /** The actor a token belongs to, or an error saying why there is none. */
  async authenticate(token: string): Promise<Actor> {
    const session = await this.store.findSession(tokenHash(token));
    if (!session || session.revokedAt) throw unauthorized('session is not valid; sign in again');
    if (session.expiresAt <= new Date().toISOString()) {
      throw new AppError(401, 'session_expired', 'session expired; sign in again');
    }
    const { user } = session;
    if (user.disabledAt) throw new AppError(401, 'account_disabled', 'this account is disabled');
    const channels = user.role === 'admin' ? [] : await this.store.channelsOf(user.id);
    return { user, sessionId: session.id, channels };
  }

  /**
   * What a connected user may have now, read afresh: their live (unrevoked, unexpired)
   * sessions and granted channels, or null if the account is gone or disabled. The realtime
   * gateways apply it when access messages may have been lost.
   */
  async currentAccess(userId: string): Promise<{ sessionIds: Set<string>; channels: Set<string> } | null> {
    const user = await this.store.getUser(userId);
    if (!user || user.disabledAt) return null;
    const [sessionIds, channels] = await Promise.all([
      this.store.liveSessionIds(userId),
      this.store.channelsOf(userId),
    ]);
    return { sessionIds, channels: new Set(channels) };
  }

  async logout(actor: Actor): Promise<void> {
    await this.store.revokeSession(actor.sessionId);
    await this.bus.publish({ kind: 'disconnect', sessionId: actor.sessionId, reason: 'logged out' });
  }

  // ---- users (admin)

  async createUser(actor: Actor | null, input: UserInput): Promise<PublicUser> {
    if (actor && !isAdmin(actor)) throw forbidden('only admins manage users');
    const channels = [...new Set(input.channels ?? [])];
    await this.requireChannels(channels, 'channels');
    const user = await this.store.createUser({
      email: input.email,
      name: input.name ?? null,
      role: input.role,
      passwordHash: await hashPassword(input.password),
    });
    for (const channel of channels) await this.store.grant(user.id, channel);
    return presentUser(user, channels);
  }

  async listUsers(actor: Actor): Promise<PublicUser[]> {
    if (!isAdmin(actor)) throw forbidden('only admins manage users');
    const users = await this.store.listUsers();
    return Promise.all(users.map(async (u) => presentUser(u, await this.store.channelsOf(u.id))));
  }

  async getUser(actor: Actor, id: string): Promise<PublicUser> {
    if (!isAdmin(actor) && actor.user.id !== id) throw forbidden();
    const user = await this.store.getUser(id);
    if (!user) throw notFound('user');
    return presentUser(user, await this.store.channelsOf(id));
  }

  async userByEmail(email: string): Promise<UserRecord> {
    const user = await this.store.findUserByEmail(email);
    if (!user) throw notFound(`user ${email}`);
    return user;
  }

  async setDisabled(actor: Actor | null, id: string, disabled: boolean): Promise<PublicUser> {
    if (actor && !isAdmin(actor)) throw forbidden('only admins manage users');
    if (actor && actor.user.id === id && disabled)
      throw conflict('cannot_disable_self', 'you cannot disable your own account');
    const user = await this.store.getUser(id);
    if (!user) throw notFound('user');
    await this.store.setUserDisabled(id, disabled);
    if (disabled) {
      await this.store.revokeUserSessions(id);
      await this.bus.publish({ kind: 'disconnect', userId: id, reason: 'account disabled' });
    }
    return presentUser(
      { ...user, disabledAt: disabled ? new Date().toISOString() : null },
      await this.store.channelsOf(id),
    );
  }

  async rename(actor: Actor, id: string, name: string | null): Promise<void> {
    if (!isAdmin(actor)) throw forbidden('only admins manage users');
    if (!(await this.store.getUser(id))) throw notFound('user');
    await this.store.setUserName(id, name);
  }

  async grant(actor: Actor | null, userId: string, channel: string): Promise<PublicUser> {
    return this.changeAccess(actor, userId, channel, 'granted');
  }

  async revoke(actor: Actor | null, userId: string, channel: string): Promise<PublicUser> {
    return this.changeAccess(actor, userId, channel, 'revoked');
  }

  private async changeAccess(
    actor: Actor | null,
    userId: string,
    channel: string,
    change: 'granted' | 'revoked',
  ): Promise<PublicUser> {
    if (actor && !isAdmin(actor)) throw forbidden('only admins manage grants');
    const user = await this.store.getUser(userId);
    if (!user) throw notFound('user');
    if (!(await this.store.getChannel(channel))) throw notFound(`channel ${channel}`);
    const changed =
      change === 'granted' ? await this.store.grant(userId, channel) : await this.store.revoke(userId, channel);
    if (changed) await this.bus.publish({ kind: 'access', userId, channel, change });
    return presentUser(user, await this.store.channelsOf(userId));
  }

  // ---- channels

  async createChannel(actor: Actor | null, input: ChannelInput): Promise<ChannelRecord> {
    if (actor && !isAdmin(actor)) throw forbidden('only admins manage channels');
    const channel = await this.store.createChannel({
      slug: input.slug,
      name: input.name,
      description: input.description ?? null,
    });
    await this.bus.publish({ kind: 'channel', slug: channel.slug });
    return channel;
  }

  async listChannels(actor: Actor): Promise<ChannelRecord[]> {
    const all = await this.store.listChannels();
    return isAdmin(actor) ? all : all.filter((c) => actor.channels.includes(c.slug));
  }

  private async requireChannels(channels: readonly string[], field: string): Promise<void> {
    for (const slug of channels) {
      if (!(await this.store.getChannel(slug)))
        throw badRequest('unknown channel', { [field]: `channel ${slug} does not exist` });
    }
  }
}
