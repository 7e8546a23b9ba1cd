/**
 * A local Telegram Bot API (`https://api.telegram.org/bot<token>/<method>`) for tests that deliver to
 * Telegram chats: this machine cannot reach Telegram, so the product talks real HTTP to this instead.
 *
 * Guarantees, as the Bot API server (telegram-bot-api on TDLib) behaves:
 * - `getMe` and `sendMessage`, with parameters from the query string and a JSON, urlencoded or multipart
 *   body; method names are case-insensitive; any other method is `404 Not Found`.
 * - Answers are `{"ok":true,"result":…}` or `{"ok":false,"error_code":N,"description":"…"}` with the
 *   same status, checked in Telegram's order: token, method, text present, markup, chat, the text as
 *   delivered (non-empty, at most 4096), then the flood limits.
 * - `parse_mode` HTML, MarkdownV2 and Markdown go through ports of TDLib's own parsers
 *   (telegram-markup.ts), so a markup mistake is refused here with the description Telegram gives.
 *   HTML is also held to the documented escaping rule unless `strictHtml: false` (see the option).
 * - Each accepted message is recorded as the chat shows it (`text`: markup gone, entities decoded,
 *   control characters blanked, trimmed) next to what was sent (`rawText`), with the entities Telegram
 *   reports (UTF-16 offsets).
 * - Flood control per group/channel chat per minute, per private chat per second and per bot per second:
 *   `429` with `parameters.retry_after` in whole seconds and a `Retry-After` header. Refused requests do
 *   not count against a limit.
 *
 * Not modelled: other methods, entities Telegram finds by itself (URLs, mentions, hashtags) and its
 * merging of touching same-style entities, entities given by the caller, link previews, reply markup,
 * files.
 */
import { randomBytes, randomInt } from 'node:crypto';
import { STATUS_CODES, type IncomingMessage } from 'node:http';
import {
  ControlledServer,
  gatewayErrorPage,
  jsonReply,
  readBody,
  writeReply,
  type ProtocolServerControls,
  type Reply,
} from './protocol-server-controls.js';
import { parseMarkup, shownText, type TelegramEntity } from './telegram-markup.js';

export type { TelegramEntity };

export type TelegramChatType = 'private' | 'group' | 'supergroup' | 'channel';

/** A chat a bot can post to. `type` defaults from the id: positive private, `-100…` supergroup, else group. */
export interface TelegramChatSpec {
  id: number;
  type?: TelegramChatType;
  title?: string;
  /** Public username without `@`; for channels and supergroups it makes `chat_id: "@username"` work. */
  username?: string;
}

export interface TelegramBotSpec {
  /** `<bot id>:<35 characters of [A-Za-z0-9_-]>`, as BotFather issues them. */
  token: string;
  username?: string;
  firstName?: string;
}

export interface TelegramServerOptions {
  /** Valid bot tokens; one is generated when omitted. */
  tokens?: (string | TelegramBotSpec)[];
  /**
   * Chats the bots are members of: numeric ids, `@username` (a public channel), or specs.
   * Default: the supergroup -1001234567890 and the private chat 123456789.
   */
  chats?: (number | string | TelegramChatSpec)[];
  /** Messages a bot may send to one group, supergroup or channel per minute (Telegram: 20). */
  limitPerMinute?: number;
  /** Messages a bot may send to one private chat per second (Telegram: about 1). */
  privateLimitPerSecond?: number;
  /** Messages a bot may send per second across all chats (Telegram: about 30). */
  limitPerSecond?: number;
  /**
   * Refuse a bare `>` or an `&` that starts no entity in HTML text (default true). The Bot API
   * documentation requires them escaped, but Telegram itself shows them literally; this catches a
   * product that does not escape what it interpolates before a `<` in real data breaks delivery.
   * The refusal's description is this server's own, after Telegram's "can't parse entities: " prefix.
   */
  strictHtml?: boolean;
}

/** A chat as the Bot API presents it. */
export interface TelegramChat {
  id: number;
  type: TelegramChatType;
  title?: string;
  username?: string;
  first_name?: string;
}

/** A user as the Bot API presents it; `getMe` adds what the bot can do. */
export interface TelegramUser {
  id: number;
  is_bot: boolean;
  first_name: string;
  username?: string;
  can_join_groups?: boolean;
  can_read_all_group_messages?: boolean;
  supports_inline_queries?: boolean;
  can_connect_to_business?: boolean;
  has_main_web_app?: boolean;
}

/** A message Telegram accepted. */
export interface TelegramMessage {
  token: string;
  /** The numeric id of the chat, also when it was addressed as `@username`. */
  chatId: number;
  messageId: number;
  /** The text as the chat shows it. */
  text: string;
  /** The `text` parameter as sent. */
  rawText: string;
  parseMode: string | null;
  entities: TelegramEntity[];
  disableNotification: boolean;
  linkPreviewDisabled: boolean;
  receivedAt: number;
}

/** Any request the server answered, accepted or not. */
export interface TelegramRequest {
  httpMethod: string;
  path: string;
  /** The Bot API method, lower-cased as Telegram matches it; empty when the path named none. */
  method: string;
  params: Record<string, string>;
  status: number;
  /** The JSON answer, or the HTML page of an injected 502/503/504. */
  response: unknown;
  receivedAt: number;
}

/** A running local Bot API; `failNext`'s 502/503/504 come as the page of Telegram's nginx front. */
export interface TelegramServer extends ProtocolServerControls<TelegramMessage, TelegramRequest> {
  /** Base URL, in place of `https://api.telegram.org`. */
  url: string;
  /** The first valid token. */
  token: string;
  tokens: string[];
  chats: TelegramChat[];
  /** `${url}/bot${token}/${method}`. */
  methodUrl(method: string, token?: string): string;
  /** The bot was blocked by the user (private) or removed from the chat: sends get 403. */
  forbid(chatId: number | string): void;
  allow(chatId: number | string): void;
  /** A basic group becomes a supergroup: sends to the old id get 400 with `migrate_to_chat_id`; returns the new id. */
  migrate(groupId: number): number;
}

const MAX_TEXT_LENGTH = 4096;
const DEFAULT_CHATS: TelegramChatSpec[] = [
  { id: -1001234567890, type: 'supergroup', title: 'Signals' },
  { id: 123456789, type: 'private' },
];

export async function startTelegramServer(options: TelegramServerOptions = {}): Promise<TelegramServer> {
  const bots = new Map((options.tokens ?? [generateToken()]).map((spec) => toBot(spec)).map((b) => [b.token, b]));
  const chats = new ChatDirectory(options.chats ?? DEFAULT_CHATS);
  const flood = new FloodControl(options);
  const strictHtml = options.strictHtml ?? true;

  const answer = (route: Route | null, params: Map<string, string>, now: number): Reply => {
    if (!route) return fail(404, 'Not Found');
    const bot = bots.get(route.token);
    if (!bot) return fail(401, looksLikeToken(route.token) ? 'Unauthorized' : 'Unauthorized: invalid token specified');
    if (route.method === 'getme') return ok(botUser(bot, true));
    if (route.method !== 'sendmessage') return fail(404, 'Not Found');
    const sent = sendMessage({ bot, params, now, chats, flood, strictHtml });
    if (sent.message) server.messages.push(sent.message);
    return sent.reply;
  };

  const server = new ControlledServer<TelegramMessage, TelegramRequest>({
    name: 'telegram-server',
    handle: async (req, res) => {
      const receivedAt = Date.now();
      const url = new URL(req.url ?? '/', 'http://127.0.0.1');
      const params = await readParams(req, url);
      const route = parsePath(url.pathname);
      const injected = server.takeFailure();
      const reply =
        injected !== undefined
          ? injectedFailure(injected)
          : params instanceof Map
            ? answer(route, params, receivedAt)
            : params;
      const paramRecord = params instanceof Map ? Object.fromEntries(params) : {};
      server.requests.push({
        httpMethod: req.method ?? 'GET',
        path: url.pathname,
        method: route?.method ?? '',
        params: paramRecord,
        status: reply.status,
        response: reply.recorded,
        receivedAt,
      });
      writeReply(res, reply);
    },
    onReset: () => flood.clear(),
  });
  await server.listen();
  const url = `http://127.0.0.1:${server.port}`;
  const tokens = [...bots.keys()];

  return {
    ...server.controls(),
    url,
    token: tokens[0] ?? '',
    tokens,
    get chats() {
      return chats.list();
    },
    methodUrl: (method, token = tokens[0] ?? '') => `${url}/bot${token}/${method}`,
    forbid: (chatId) => {
      chats.require(chatId).forbidden = true;
    },
    allow: (chatId) => {
      chats.require(chatId).forbidden = false;
    },
    migrate: (groupId) => chats.migrate(groupId),
  };
}

// ---------------------------------------------------------------------------------------------
// sendMessage

interface Bot {
  token: string;
  id: number;
  username: string;
  firstName: string;
}

interface SendContext {
  bot: Bot;
  params: Map<string, string>;
  now: number;
  chats: ChatDirectory;
  flood: FloodControl;
  strictHtml: boolean;
}

function sendMessage(context: SendContext): { reply: Reply; message?: TelegramMessage } {
  const { bot, params, now, chats, flood } = context;
  const rawText = params.get('text') ?? '';
  if (rawText === '') return { reply: fail(400, 'Bad Request: message text is empty') };
  const parseMode = params.get('parse_mode') ?? '';
  const parsed = parseMarkup(rawText, parseMode, context.strictHtml);
  if ('error' in parsed) return { reply: fail(400, `Bad Request: ${parsed.error}`) };
  const linkPreviewDisabled = readLinkPreviewDisabled(params);
  if (linkPreviewDisabled === null) {
    return { reply: fail(400, "Bad Request: can't parse link preview options JSON object") };
  }

  const chatId = params.get('chat_id') ?? '';
  if (chatId === '') return { reply: fail(400, 'Bad Request: chat_id is empty') };
  const chat = chats.find(chatId);
  if (!chat) return { reply: fail(400, 'Bad Request: chat not found') };
  const refusal = chatRefusal(chat);
  if (refusal) return { reply: refusal };

  const shown = shownText(parsed);
  if (!shown) return { reply: fail(400, 'Bad Request: text must be non-empty') };
  if (shown.text.length > MAX_TEXT_LENGTH) return { reply: fail(400, 'Bad Request: message is too long') };
  const waitMs = flood.waitMs(bot.token, chat.chat, now);
  if (waitMs > 0) return { reply: tooManyRequests(waitMs) };
  flood.count(bot.token, chat.chat, now);

  const messageId = ++chat.lastMessageId;
  const message: TelegramMessage = {
    token: bot.token,
    chatId: chat.chat.id,
    messageId,
    text: shown.text,
    rawText,
    parseMode: parseMode === '' ? null : parseMode,
    entities: shown.entities,
    disableNotification: isTrue(params.get('disable_notification')),
    linkPreviewDisabled,
    receivedAt: now,
  };
  return { reply: ok(messageObject(bot, chat.chat, message)), message };
}

function messageObject(bot: Bot, chat: TelegramChat, message: TelegramMessage): Record<string, unknown> {
  // A channel post is signed by the channel, not by the bot that wrote it.
  const sender = chat.type === 'channel' ? { sender_chat: chat } : { from: botUser(bot, false) };
  return {
    message_id: message.messageId,
    ...sender,
    chat,
    date: Math.floor(message.receivedAt / 1000),
    text: message.text,
    ...(message.entities.length > 0 ? { entities: message.entities } : {}),
  };
}

function botUser(bot: Bot, full: boolean): TelegramUser {
  const user: TelegramUser = { id: bot.id, is_bot: true, first_name: bot.firstName, username: bot.username };
  if (!full) return user;
  return {
    ...user,
    can_join_groups: true,
    can_read_all_group_messages: false,
    supports_inline_queries: false,
    can_connect_to_business: false,
    has_main_web_app: false,
  };
}

/** `false`/`true` as sent; `null` when `link_preview_options` is not JSON, which Telegram refuses. */
function readLinkPreviewDisabled(params: Map<string, string>): boolean | null {
  const options = params.get('link_preview_options');
  if (options === undefined || options === '') return isTrue(params.get('disable_web_page_preview'));
  try {
    const parsed: unknown = JSON.parse(options);
    if (typeof parsed !== 'object' || parsed === null) return null;
    return (parsed as { is_disabled?: unknown }).is_disabled === true;
  } catch {
    return null;
  }
}

/** The Bot API reads booleans as text: only "true" and "1" are true. */
function isTrue(value: string | undefined): boolean {
  return value !== undefined && ['true', '1'].includes(value.toLowerCase());
}

// ---------------------------------------------------------------------------------------------
// Chats

interface ChatState {
  chat: TelegramChat;
  lastMessageId: number;
  forbidden: boolean;
  migratedTo: number | null;
}

const FORBIDDEN: Record<TelegramChatType, string> = {
  private: 'Forbidden: bot was blocked by the user',
  group: 'Forbidden: bot was kicked from the group chat',
  supergroup: 'Forbidden: bot was kicked from the supergroup chat',
  channel: 'Forbidden: bot is not a member of the channel chat',
};

function chatRefusal(state: ChatState): Reply | null {
  if (state.migratedTo !== null) {
    return fail(400, 'Bad Request: group chat was upgraded to a supergroup chat', {
      migrate_to_chat_id: state.migratedTo,
    });
  }
  return state.forbidden ? fail(403, FORBIDDEN[state.chat.type]) : null;
}

class ChatDirectory {
  private readonly byId = new Map<number, ChatState>();
  private readonly byUsername = new Map<string, ChatState>();
  private generatedIds = 0;

  constructor(specs: (number | string | TelegramChatSpec)[]) {
    for (const spec of specs) this.add(this.toSpec(spec));
  }

  list(): TelegramChat[] {
    return [...this.byId.values()].map((state) => state.chat);
  }

  /** As Telegram resolves `chat_id`: a numeric id, or `@username` of a public chat. */
  find(chatId: string): ChatState | undefined {
    if (/^-?\d+$/.test(chatId)) return this.byId.get(Number(chatId));
    if (chatId.startsWith('@')) return this.byUsername.get(chatId.slice(1).toLowerCase());
    return undefined;
  }

  require(chatId: number | string): ChatState {
    const state = this.find(String(chatId));
    if (!state) throw new Error(`telegram-server: no chat ${chatId}`);
    return state;
  }

  migrate(groupId: number): number {
    const state = this.require(groupId);
    if (state.chat.type !== 'group') throw new Error(`telegram-server: chat ${groupId} is not a basic group`);
    const id = -1_000_000_000_000 - Math.abs(groupId);
    this.add({ id, type: 'supergroup', title: state.chat.title });
    state.migratedTo = id;
    return id;
  }

  private toSpec(spec: number | string | TelegramChatSpec): TelegramChatSpec {
    if (typeof spec === 'number') return { id: spec };
    if (typeof spec === 'string') {
      const username = spec.replace(/^@/, '');
      return { id: -1_001_000_000_000 - ++this.generatedIds, type: 'channel', username };
    }
    return spec;
  }

  private add(spec: TelegramChatSpec): void {
    const chat = chatObject(spec);
    const state: ChatState = { chat, lastMessageId: 0, forbidden: false, migratedTo: null };
    this.byId.set(chat.id, state);
    // Bots cannot address a private chat by its user's username.
    if (chat.username && chat.type !== 'private') this.byUsername.set(chat.username.toLowerCase(), state);
  }
}

function chatObject(spec: TelegramChatSpec): TelegramChat {
  const type = spec.type ?? (spec.id > 0 ? 'private' : spec.id <= -1_000_000_000_000 ? 'supergroup' : 'group');
  const username = spec.username === undefined ? {} : { username: spec.username };
  if (type === 'private') return { id: spec.id, first_name: spec.title ?? 'Test User', ...username, type };
  return { id: spec.id, title: spec.title ?? `Test ${type} ${spec.id}`, ...username, type };
}

// ---------------------------------------------------------------------------------------------
// Flood control

/** Messages accepted in the last `windowMs`. */
class SlidingWindow {
  private readonly times: number[] = [];

  constructor(
    private readonly limit: number,
    private readonly windowMs: number,
  ) {}

  /** How long until one more message fits; 0 when it fits now. */
  waitMs(now: number): number {
    while (this.times.length > 0 && (this.times[0] ?? now) <= now - this.windowMs) this.times.shift();
    if (this.times.length < this.limit) return 0;
    const freesASlot = this.times[this.times.length - this.limit] ?? now;
    return freesASlot + this.windowMs - now;
  }

  add(now: number): void {
    this.times.push(now);
  }
}

class FloodControl {
  private readonly windows = new Map<string, SlidingWindow>();
  private readonly perMinute: number;
  private readonly privatePerSecond: number;
  private readonly perSecond: number;

  constructor(options: TelegramServerOptions) {
    this.perMinute = options.limitPerMinute ?? 20;
    this.privatePerSecond = options.privateLimitPerSecond ?? 1;
    this.perSecond = options.limitPerSecond ?? 30;
  }

  waitMs(token: string, chat: TelegramChat, now: number): number {
    return Math.max(this.bot(token).waitMs(now), this.chat(token, chat).waitMs(now));
  }

  count(token: string, chat: TelegramChat, now: number): void {
    this.bot(token).add(now);
    this.chat(token, chat).add(now);
  }

  clear(): void {
    this.windows.clear();
  }

  private bot(token: string): SlidingWindow {
    return this.window(token, this.perSecond, 1000);
  }

  private chat(token: string, chat: TelegramChat): SlidingWindow {
    const key = `${token} ${chat.id}`;
    return chat.type === 'private'
      ? this.window(key, this.privatePerSecond, 1000)
      : this.window(key, this.perMinute, 60_000);
  }

  private window(key: string, limit: number, windowMs: number): SlidingWindow {
    let window = this.windows.get(key);
    if (!window) this.windows.set(key, (window = new SlidingWindow(limit, windowMs)));
    return window;
  }
}

function tooManyRequests(waitMs: number): Reply {
  const retryAfter = Math.max(1, Math.ceil(waitMs / 1000));
  const reply = fail(429, `Too Many Requests: retry after ${retryAfter}`, { retry_after: retryAfter });
  return { ...reply, headers: { 'Retry-After': String(retryAfter) } };
}

// ---------------------------------------------------------------------------------------------
// HTTP: routes, parameters, replies

interface Route {
  token: string;
  method: string;
}

/** `/bot<token>/<method>` (or `/bot<token>/test/<method>`), split as telegram-bot-api does. */
function parsePath(pathname: string): Route | null {
  let path: string;
  try {
    path = decodeURIComponent(pathname);
  } catch {
    return null;
  }
  if (!path.startsWith('/bot')) return null;
  const slash = path.indexOf('/', 4);
  if (slash < 0) return null;
  const rest = path.slice(slash + 1);
  const method = rest.startsWith('test/') ? rest.slice(5) : rest;
  return { token: path.slice(4, slash), method: method.toLowerCase() };
}

/** The checks telegram-bot-api makes before it asks Telegram whether the token exists. */
function looksLikeToken(token: string): boolean {
  return token.length <= 80 && /^[1-9]\d*:[^/]*$/.test(token);
}

/** Query string first, then the body, each parameter as text: JSON values other than strings keep their JSON. */
async function readParams(req: IncomingMessage, url: URL): Promise<Map<string, string> | Reply> {
  const params = new Map<string, string>();
  const add = (key: string, value: string): void => {
    if (!params.has(key)) params.set(key, value);
  };
  for (const [key, value] of url.searchParams) add(key, value);
  const body = await readBody(req);
  const contentType = req.headers['content-type'] ?? '';
  const type = (contentType.split(';')[0] ?? '').trim().toLowerCase();
  if (type === 'application/json' && body.length > 0) {
    const json = parseJsonObject(body.toString('utf8'));
    if (!json) return fail(400, 'Bad Request: JSON object expected');
    for (const [key, value] of Object.entries(json))
      add(key, typeof value === 'string' ? value : JSON.stringify(value));
  } else if (type === 'application/x-www-form-urlencoded') {
    for (const [key, value] of new URLSearchParams(body.toString('utf8'))) add(key, value);
  } else if (type === 'multipart/form-data') {
    for (const [key, value] of await readMultipart(body, contentType)) add(key, value);
  }
  return params;
}

function parseJsonObject(text: string): Record<string, unknown> | null {
  try {
    const value: unknown = JSON.parse(text);
    return typeof value === 'object' && value !== null && !Array.isArray(value)
      ? (value as Record<string, unknown>)
      : null;
  } catch {
    return null;
  }
}

/** Text fields of a multipart body; files are not modelled. */
async function readMultipart(body: Buffer, contentType: string): Promise<[string, string][]> {
  try {
    const form = await new Response(new Uint8Array(body), { headers: { 'content-type': contentType } }).formData();
    return [...form.entries()].flatMap(([key, value]): [string, string][] =>
      typeof value === 'string' ? [[key, value]] : [],
    );
  } catch {
    return [];
  }
}

function ok(result: unknown): Reply {
  return jsonReply(200, { ok: true, result });
}

function fail(status: number, description: string, parameters?: Record<string, number>): Reply {
  return jsonReply(status, { ok: false, error_code: status, description, ...(parameters ? { parameters } : {}) });
}

/** What a client meets when Telegram has trouble: its nginx front answers gateway errors with a page. */
function injectedFailure(status: number): Reply {
  if (status === 429) return tooManyRequests(1000);
  if (status < 502 || status > 504) return fail(status, STATUS_CODES[status] ?? 'Error');
  return gatewayErrorPage(status, 'nginx/1.18.0');
}

function toBot(spec: string | TelegramBotSpec): Bot {
  const { token, username, firstName } = typeof spec === 'string' ? { token: spec } : spec;
  if (!/^\d+:[A-Za-z0-9_-]{35}$/.test(token)) throw new Error(`telegram-server: malformed bot token ${token}`);
  const id = Number(token.slice(0, token.indexOf(':')));
  return { token, id, username: username ?? `test_${id}_bot`, firstName: firstName ?? 'Test Bot' };
}

function generateToken(): string {
  return `${randomInt(1_000_000_000, 9_999_999_999)}:${randomBytes(27).toString('base64url').slice(0, 35)}`;
}
