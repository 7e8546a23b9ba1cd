/**
 * Accounts, sessions, channels and grants. Every change that affects live connections
 * (revoke, logout, disable) is announced on the bus so every node acts on it at once.
 */
import { randomInt } from 'node:crypto';
import { uuidv7 } from 'uuidv7';
import type { PublicUser } from '../../shared/events.js';
import type { ChannelInput, SetupInput, UserInput } from '../../shared/schemas.js';
import { hashPassword, verifyPassword } from '../auth/passwords.js';
import { newToken, tokenHash } from '../auth/tokens.js';
import type { Bus } from '../bus/bus.js';
import {
  SETUP_CODE_SETTING,
  SETUP_DONE_SETTING,
  type ChannelRecord,
  type Store,
  type UserRecord,
} from '../store/store.js';
import { AppError, badRequest, conflict, forbidden, notFound, tooManyAttempts, unauthorized } from './errors.js';
import { isAdmin, type Actor } from './policy.js';
import { ACCOUNT_POLICY, ADDRESS_POLICY, Throttle } from './throttle.js';

/** Crockford's base32 without the look-alikes, as people copy it from a log. */
const CODE_ALPHABET = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';

/** Sixteen characters (80 bits), stored without separators. */
function newSetupCode(): string {
  return Array.from({ length: 16 }, () => CODE_ALPHABET[randomInt(CODE_ALPHABET.length)]).join('');
}

/** `k3qf 9x2m-tr7d…` as typed or pasted → the stored form. */
export function normalizeSetupCode(code: string): string {
  return code.toUpperCase().replace(/[^0-9A-Z]/g, '');
}

/** The stored code as the log shows it: four groups of four. */
export function displaySetupCode(code: string): string {
  return code.match(/.{1,4}/g)?.join('-') ?? code;
}

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
  private readonly byAccount: Throttle;
  private readonly byAddress: Throttle;

  constructor(
    private readonly store: Store,
    private readonly bus: Bus,
    private readonly sessionTtlMs: number,
    /** Told of refused sign-ins (metrics). */
    private readonly hooks: { loginFailed?: () => void; throttled?: () => void } = {},
  ) {
    this.byAccount = new Throttle(store, ACCOUNT_POLICY);
    this.byAddress = new Throttle(store, ADDRESS_POLICY);
  }

  async setupNeeded(): Promise<boolean> {
    if ((await this.store.getSetting(SETUP_DONE_SETTING)) !== undefined) return false;
    return (await this.store.countAdmins()) === 0;
  }

  /**
   * The one-time setup code while setup is needed (created on the first call, the same on
   * every node), else null. Whoever reaches the port first cannot claim the installation:
   * setup also needs this code, which only the server's log shows.
   */
  async setupCode(): Promise<string | null> {
    if (!(await this.setupNeeded())) return null;
    return displaySetupCode(await this.store.ensureSetting(SETUP_CODE_SETTING, newSetupCode()));
  }

  /** Creates the first admin; needs the setup code, and is refused for ever once it ran. */
  async setup(input: SetupInput): Promise<UserRecord> {
    if (!(await this.setupNeeded())) throw conflict('setup_done', 'setup is complete: an admin already exists');
    return this.store.completeSetup(normalizeSetupCode(input.setupCode), {
      email: input.email,
      name: input.name ?? null,
      role: 'admin',
      passwordHash: await hashPassword(input.password),
    });
  }

  /**
   * Signs in. The attempt is counted for the account and for `address` before the password
   * is checked (see throttle.ts), so concurrent guesses cannot outrun the count.
   */
  async login(email: string, password: string, address: string): Promise<LoginResult> {
    const user = await this.checkPassword(email, password, address);
    if (user.disabledAt) throw new AppError(403, 'account_disabled', 'this account is disabled; ask an admin');
    return this.startSession(user);
  }

  /** The user whose password this is, through both throttles; a success clears the account's count. */
  private async checkPassword(email: string, password: string, address: string): Promise<UserRecord> {
    const accountKey = `account:${email.toLowerCase()}`;
    const addressKey = `address:${address}`;
    const [account, from] = await Promise.all([this.byAccount.attempt(accountKey), this.byAddress.attempt(addressKey)]);
    if (!account.allowed || !from.allowed) {
      this.hooks.throttled?.();
      throw tooManyAttempts(
        'too many sign-in attempts; try again later',
        Math.max(account.retryAfterMs, from.retryAfterMs),
      );
    }
    const user = await this.store.findUserByEmail(email);
    const ok = await verifyPassword(user?.passwordHash, password);
    if (!ok || !user) {
      this.hooks.loginFailed?.();
      throw unauthorized('email or password is incorrect');
    }
    await Promise.all([this.byAccount.clear(accountKey), this.byAddress.forgive(addressKey)]);
    return user;
  }

  /** Changes one's own password (the current one is checked, throttled like a sign-in); other sessions end. */
  async changePassword(actor: Actor, current: string, next: string, address: string): Promise<void> {
    try {
      await this.checkPassword(actor.user.email, current, address);
    } catch (error) {
      if (error instanceof AppError && error.status === 401) {
        throw badRequest('the current password is wrong', { currentPassword: 'is not your current password' });
      }
      throw error;
    }
    await this.store.setPasswordHash(actor.user.id, await hashPassword(next));
    await this.endSessions(actor.user.id, 'password changed', actor.sessionId);
  }

  /** An admin sets a user's password; every session of that user ends. */
  async resetPassword(actor: Actor | null, userId: string, password: string): Promise<void> {
    if (actor && !isAdmin(actor)) throw forbidden('only admins reset passwords');
    if (!(await this.store.getUser(userId))) throw notFound('user');
    await this.store.setPasswordHash(userId, await hashPassword(password));
    await this.endSessions(userId, 'password reset by an admin');
  }

  /** An admin signs a user out everywhere. */
  async signOutUser(actor: Actor | null, userId: string): Promise<void> {
    if (actor && !isAdmin(actor)) throw forbidden('only admins sign other users out');
    if (!(await this.store.getUser(userId))) throw notFound('user');
    await this.endSessions(userId, 'signed out by an admin');
  }

  /**
   * Ends every session of the user (but `except`), closes their live connections on every
   * node, and turns off the push devices those sessions turned on (a lost phone stops ringing).
   */
  async endSessions(userId: string, reason: string, except?: string): Promise<void> {
    await this.store.revokeUserSessions(userId, except);
    await this.removeDevices(userId, (sessionId) => sessionId !== except);
    await this.bus.publish({
      kind: 'disconnect',
      userId,
      ...(except !== undefined ? { exceptSessionId: except } : {}),
      reason,
    });
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
    return { user, sessionId: session.id, sessionExpiresAt: Date.parse(session.expiresAt), channels };
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

  /** Removes the user's push devices turned on by sessions `ended` says ended. */
  private async removeDevices(userId: string, ended: (sessionId: string | null) => boolean): Promise<void> {
    const devices = await this.store.destinations.list({ ownerId: userId, kinds: ['push'] });
    const gone = devices.filter((d) => ended(d.createdBy));
    for (const device of gone) await this.store.destinations.remove(device.id);
    if (gone.length > 0) await this.bus.publish({ kind: 'destinations' });
  }

  async logout(actor: Actor): Promise<void> {
    await this.store.revokeSession(actor.sessionId);
    await this.removeDevices(actor.user.id, (sessionId) => sessionId === actor.sessionId);
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
    if (disabled) await this.endSessions(id, 'account disabled');
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
