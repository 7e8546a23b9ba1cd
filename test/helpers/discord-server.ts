/**
 * A local Discord for incoming webhooks (`https://discord.com/api/webhooks/{id}/{token}`), for tests
 * that deliver signals to Discord channels: this machine cannot reach Discord, so the product talks
 * real HTTP to this instead.
 *
 * Guarantees, as Discord behaves:
 * - `POST` executes the webhook (JSON, urlencoded or multipart with `payload_json`), also under
 *   `/api/v{n}/`; `GET` returns the webhook object; other methods are 405 and other paths 404.
 * - Success is `204 No Content`, or `200` with the message object when `?wait=true`.
 * - Errors carry Discord's `{"code","message"}`: 10015 Unknown Webhook (404), 50027 Invalid Webhook
 *   Token (401), 50109 invalid JSON, 50006 empty message, and 50035 Invalid Form Body with the
 *   `errors` tree (`{"embeds":{"0":{"title":{"_errors":[{code,message}]}}}}`) for every limit:
 *   content 2000, username 1–80 without "discord" or "clyde", 10 embeds, title 256, description 4096, 25 fields (name 256,
 *   value 1024), footer 2048, author 256, color 0..0xFFFFFF, ISO8601 timestamp, http(s) URLs, and
 *   6000 characters across all embeds. Lengths are counted in code points.
 * - Every request to a webhook counts against its bucket (5 per 2 s unless configured) and every
 *   answer carries `X-RateLimit-Limit/-Remaining/-Reset/-Reset-After/-Bucket`; past it, `429`
 *   `{"message":"You are being rate limited.","retry_after":<s>,"global":false}` with `Retry-After`.
 *   Accepted messages also count per channel (30 a minute unless configured), Discord's shared limit.
 *
 * Not modelled: files' contents, components, polls, threads beyond recording `thread_id`, editing or
 * deleting messages, the global limit.
 */
import { randomBytes } from 'node:crypto';
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

export interface DiscordWebhookSpec {
  /** A snowflake; generated when omitted. */
  id?: string;
  /** 68 characters of [A-Za-z0-9_-]; generated when omitted. */
  token?: string;
  channelId?: string;
  guildId?: string;
  name?: string;
}

export interface DiscordWebhook {
  id: string;
  token: string;
  channelId: string;
  guildId: string;
  name: string;
  /** What the product is given: `${base}/api/webhooks/${id}/${token}`. */
  url: string;
}

export interface DiscordServerOptions {
  /** One webhook is created when omitted. */
  webhooks?: DiscordWebhookSpec[];
  /** The per-webhook bucket (Discord: 5 requests per 2 s). */
  rateLimit?: { limit: number; windowMs: number };
  /** Messages one channel accepts per minute through webhooks (Discord: 30). */
  channelLimitPerMinute?: number;
}

export interface DiscordEmbed {
  type?: string;
  title?: string;
  description?: string;
  url?: string;
  timestamp?: string;
  color?: number;
  footer?: { text: string; icon_url?: string };
  image?: { url: string };
  thumbnail?: { url: string };
  author?: { name: string; url?: string; icon_url?: string };
  fields?: { name: string; value: string; inline?: boolean }[];
}

/** A message Discord accepted, with its embeds as Discord stores them (`type: "rich"`, `inline` set). */
export interface DiscordMessage {
  webhookId: string;
  channelId: string;
  messageId: string;
  content: string;
  username: string | null;
  avatarUrl: string | null;
  embeds: DiscordEmbed[];
  allowedMentions: unknown;
  tts: boolean;
  threadId: string | null;
  /** Whether the sender asked for the message back (`?wait=true`). */
  wait: boolean;
  receivedAt: number;
}

/** Any request the server answered, accepted or not. */
export interface DiscordRequest {
  httpMethod: string;
  path: string;
  query: Record<string, string>;
  /** The parsed body, `null` when there was none or it was not JSON. */
  body: unknown;
  status: number;
  /** The JSON answer, `null` for 204, or the HTML page of an injected 502/503/504. */
  response: unknown;
  /** The headers sent with the answer, rate-limit headers included. */
  headers: Record<string, string>;
  receivedAt: number;
}

/** A running local Discord; `failNext`'s 502/503/504 come as the page of Discord's Cloudflare front. */
export interface DiscordServer extends ProtocolServerControls<DiscordMessage, DiscordRequest> {
  /** Base URL, in place of `https://discord.com`. */
  url: string;
  /** The first webhook. */
  webhook: DiscordWebhook;
  webhooks: readonly DiscordWebhook[];
  addWebhook(spec?: DiscordWebhookSpec): DiscordWebhook;
  /** The webhook was deleted in Discord: its URL now answers 404 Unknown Webhook. */
  removeWebhook(id: string): void;
}

const DISCORD_EPOCH = 1_420_070_400_000;
const SNOWFLAKE = /^\d{1,20}$/;
const WEBHOOK_ROUTE = /^\/api(?:\/v\d+)?\/webhooks\/([^/]+)\/([^/]+)\/?$/;

export async function startDiscordServer(options: DiscordServerOptions = {}): Promise<DiscordServer> {
  const webhooks = new Map<string, DiscordWebhook>();
  const limits = new RateLimits(options);
  let url = '';

  const addWebhook = (spec: DiscordWebhookSpec = {}): DiscordWebhook => {
    const webhook = toWebhook(spec, url);
    webhooks.set(webhook.id, webhook);
    return webhook;
  };

  const answer = async (request: IncomingRequest): Promise<Reply> => {
    const route = WEBHOOK_ROUTE.exec(request.url.pathname);
    const [, id = '', token = ''] = route ?? [];
    if (!route) return discordError(404, 0, '404: Not Found');
    if (!SNOWFLAKE.test(id)) return invalidForm(fieldError(['webhook_id'], 'NUMBER_TYPE_COERCE', notSnowflake(id)));
    const bucket = limits.take(id, request.receivedAt);
    const reply =
      bucket.retryAfterMs > 0
        ? rateLimited(bucket.retryAfterMs, 'user')
        : await executeOrGet(webhooks.get(id), token, request, limits, server.messages);
    return { ...reply, headers: { ...bucket.headers, ...reply.headers } };
  };

  const server = new ControlledServer<DiscordMessage, DiscordRequest>({
    name: 'discord-server',
    handle: async (req, res) => {
      const request = await readRequest(req);
      const injected = server.takeFailure();
      const reply = injected !== undefined ? injectedFailure(injected) : await answer(request);
      const headers = writeReply(res, reply);
      server.requests.push({
        httpMethod: request.method,
        path: request.url.pathname,
        query: Object.fromEntries(request.url.searchParams),
        body: parseJson(request.body.toString('utf8')) ?? null,
        status: reply.status,
        response: reply.recorded,
        headers,
        receivedAt: request.receivedAt,
      });
    },
    onReset: () => limits.clear(),
  });
  await server.listen();
  url = `http://127.0.0.1:${server.port}`;
  for (const spec of options.webhooks ?? [{}]) addWebhook(spec);
  const first = [...webhooks.values()][0];
  if (!first) throw new Error('discord-server: no webhook');

  return {
    ...server.controls(),
    url,
    webhook: first,
    get webhooks() {
      return [...webhooks.values()];
    },
    addWebhook,
    removeWebhook: (id) => {
      webhooks.delete(id);
    },
  };
}

// ---------------------------------------------------------------------------------------------
// Executing a webhook

interface IncomingRequest {
  method: string;
  url: URL;
  contentType: string;
  body: Buffer;
  receivedAt: number;
}

async function executeOrGet(
  webhook: DiscordWebhook | undefined,
  token: string,
  request: IncomingRequest,
  limits: RateLimits,
  messages: DiscordMessage[],
): Promise<Reply> {
  if (!webhook) return discordError(404, 10015, 'Unknown Webhook');
  if (webhook.token !== token) return discordError(401, 50027, 'Invalid Webhook Token');
  if (request.method === 'GET') return jsonReply(200, webhookObject(webhook));
  if (request.method !== 'POST') return discordError(405, 0, '405: Method Not Allowed');

  const query = readQuery(request.url.searchParams);
  if ('reply' in query) return query.reply;
  const payload = await readPayload(request.contentType, request.body);
  if ('reply' in payload) return payload.reply;
  const validated = validateMessage(payload.body);
  if (validated.errors) return invalidForm(validated.errors);
  const { content, embeds } = validated;
  if (content.trim() === '' && embeds.length === 0 && payload.files === 0 && !hasOtherContent(payload.body)) {
    return discordError(400, 50006, 'Cannot send an empty message');
  }
  const waitMs = limits.channelWaitMs(webhook.channelId, request.receivedAt);
  if (waitMs > 0) return rateLimited(waitMs, 'shared');
  limits.countMessage(webhook.channelId, request.receivedAt);

  const message: DiscordMessage = {
    webhookId: webhook.id,
    channelId: webhook.channelId,
    messageId: snowflake(request.receivedAt),
    content,
    username: validated.username,
    avatarUrl: validated.avatarUrl,
    embeds: embeds.map(storedEmbed),
    allowedMentions: payload.body.allowed_mentions ?? null,
    tts: validated.tts,
    threadId: query.threadId,
    wait: query.wait,
    receivedAt: request.receivedAt,
  };
  messages.push(message);
  return query.wait ? jsonReply(200, messageObject(webhook, message)) : noContent();
}

/** Stickers, components, polls and attachments also make a message non-empty. */
function hasOtherContent(body: Record<string, unknown>): boolean {
  return ['components', 'poll', 'sticker_ids', 'attachments'].some((key) => {
    const value = body[key];
    return Array.isArray(value) ? value.length > 0 : value !== undefined && value !== null;
  });
}

function readQuery(params: URLSearchParams): { wait: boolean; threadId: string | null } | { reply: Reply } {
  const errors: ErrorNode = {};
  const waitText = params.get('wait');
  const wait = waitText === null ? false : parseBoolean(waitText);
  if (wait === null) addError(errors, ['wait'], 'BOOLEAN_TYPE_COERCE', `Value "${waitText}" is not bool.`);
  const threadId = params.get('thread_id');
  if (threadId !== null && !SNOWFLAKE.test(threadId)) {
    addError(errors, ['thread_id'], 'NUMBER_TYPE_COERCE', notSnowflake(threadId));
  }
  if (Object.keys(errors).length > 0) return { reply: invalidForm(errors) };
  return { wait: wait === true, threadId };
}

function parseBoolean(value: unknown): boolean | null {
  if (typeof value === 'boolean') return value;
  const text = String(value).toLowerCase();
  if (text === 'true' || text === '1') return true;
  if (text === 'false' || text === '0') return false;
  return null;
}

/** The body as JSON fields; a form's `payload_json` holds them, its files only count. */
async function readPayload(
  contentType: string,
  body: Buffer,
): Promise<{ body: Record<string, unknown>; files: number } | { reply: Reply }> {
  const type = (contentType.split(';')[0] ?? '').trim().toLowerCase();
  if (type === 'application/json') return fromJson(body.toString('utf8'), 0);
  if (type !== 'multipart/form-data' && type !== 'application/x-www-form-urlencoded') {
    // Discord reads no fields from a body it has no parser for.
    return { body: {}, files: 0 };
  }
  let form: FormData;
  try {
    form = await new Response(new Uint8Array(body), { headers: { 'content-type': contentType } }).formData();
  } catch {
    return { reply: discordError(400, 50109, 'The request body contains invalid JSON.') };
  }
  const files = [...form.values()].filter((value) => typeof value !== 'string').length;
  const payloadJson = form.get('payload_json');
  if (typeof payloadJson === 'string') return fromJson(payloadJson, files);
  const fields: Record<string, unknown> = {};
  for (const [key, value] of form.entries()) if (typeof value === 'string') fields[key] = value;
  return { body: fields, files };
}

function fromJson(text: string, files: number): { body: Record<string, unknown>; files: number } | { reply: Reply } {
  const value = parseJson(text);
  if (value === undefined) return { reply: discordError(400, 50109, 'The request body contains invalid JSON.') };
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    return { reply: invalidForm(fieldError([], 'DICT_TYPE_CONVERT', 'Only dictionaries may be used in a DictType')) };
  }
  return { body: value as Record<string, unknown>, files };
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

function messageObject(webhook: DiscordWebhook, message: DiscordMessage): Record<string, unknown> {
  return {
    type: 0,
    channel_id: message.channelId,
    content: message.content,
    attachments: [],
    embeds: message.embeds,
    timestamp: discordTimestamp(message.receivedAt),
    edited_timestamp: null,
    flags: 0,
    components: [],
    id: message.messageId,
    author: {
      bot: true,
      id: webhook.id,
      username: message.username ?? webhook.name,
      avatar: null,
      discriminator: '0000',
    },
    mentions: [],
    mention_roles: [],
    pinned: false,
    mention_everyone: false,
    tts: message.tts,
    webhook_id: webhook.id,
  };
}

function webhookObject(webhook: DiscordWebhook): Record<string, unknown> {
  return {
    application_id: null,
    avatar: null,
    channel_id: webhook.channelId,
    guild_id: webhook.guildId,
    id: webhook.id,
    name: webhook.name,
    type: 1,
    token: webhook.token,
    url: webhook.url,
  };
}

function storedEmbed(embed: DiscordEmbed): DiscordEmbed {
  const stored: DiscordEmbed = { type: 'rich', ...embed };
  if (embed.timestamp !== undefined) stored.timestamp = discordTimestamp(Date.parse(embed.timestamp));
  if (embed.fields) stored.fields = embed.fields.map((field) => ({ ...field, inline: field.inline ?? false }));
  return stored;
}

/** Discord writes times with microseconds and an explicit offset: 2024-05-01T12:00:00.123000+00:00. */
function discordTimestamp(ms: number): string {
  return new Date(ms).toISOString().replace('Z', '000+00:00');
}

let snowflakeSequence = 0;

function snowflake(ms = Date.now()): string {
  const sequence = BigInt(snowflakeSequence++ & 0xfff);
  return ((BigInt(ms - DISCORD_EPOCH) << 22n) | sequence).toString();
}

function toWebhook(spec: DiscordWebhookSpec, base: string): DiscordWebhook {
  const id = spec.id ?? snowflake();
  const token = spec.token ?? randomBytes(51).toString('base64url');
  if (!SNOWFLAKE.test(id)) throw new Error(`discord-server: webhook id ${id} is not a snowflake`);
  if (!/^[A-Za-z0-9_-]{68}$/.test(token)) throw new Error(`discord-server: webhook token ${token} is malformed`);
  return {
    id,
    token,
    channelId: spec.channelId ?? snowflake(),
    guildId: spec.guildId ?? snowflake(),
    name: spec.name ?? 'Signals',
    url: `${base}/api/webhooks/${id}/${token}`,
  };
}

// ---------------------------------------------------------------------------------------------
// Validation: Discord's "Invalid Form Body" tree

type Path = (string | number)[];

interface FieldError {
  code: string;
  message: string;
}

interface ErrorNode {
  _errors?: FieldError[];
  [key: string]: ErrorNode | FieldError[] | undefined;
}

function addError(root: ErrorNode, path: Path, code: string, message: string): void {
  let node = root;
  for (const key of path) {
    const child = node[String(key)];
    if (child === undefined || Array.isArray(child)) {
      const fresh: ErrorNode = {};
      node[String(key)] = fresh;
      node = fresh;
    } else {
      node = child;
    }
  }
  (node._errors ??= []).push({ code, message });
}

function fieldError(path: Path, code: string, message: string): ErrorNode {
  const root: ErrorNode = {};
  addError(root, path, code, message);
  return root;
}

const notSnowflake = (value: unknown): string => `Value "${String(value)}" is not snowflake.`;
const codePoints = (text: string | undefined): number => (text === undefined ? 0 : [...text].length);

interface StringRule {
  max: number;
  min?: number;
  required?: boolean;
}

/** Each check records its failures under the field's path and returns the value it accepted, if any. */
class FormValidator {
  readonly errors: ErrorNode = {};
  private failed = false;

  get ok(): boolean {
    return !this.failed;
  }

  fail(path: Path, code: string, message: string): void {
    addError(this.errors, path, code, message);
    this.failed = true;
  }

  /** Discord turns numbers and booleans into text, and refuses objects. */
  string(value: unknown, path: Path, rule: StringRule): string | undefined {
    if (value === undefined || value === null || (rule.required && value === '')) {
      if (rule.required) this.fail(path, 'BASE_TYPE_REQUIRED', 'This field is required');
      return undefined;
    }
    if (typeof value === 'object') {
      this.fail(path, 'STRING_TYPE_CONVERT', `Could not interpret "${JSON.stringify(value)}" as string.`);
      return undefined;
    }
    const text = String(value);
    const length = codePoints(text);
    if (rule.min !== undefined && (length < rule.min || length > rule.max)) {
      this.fail(path, 'BASE_TYPE_BAD_LENGTH', `Must be between ${rule.min} and ${rule.max} in length.`);
    } else if (length > rule.max) {
      this.fail(path, 'BASE_TYPE_MAX_LENGTH', `Must be ${rule.max} or fewer in length.`);
    }
    return text;
  }

  url(value: unknown, path: Path, schemes: string[], required = false): string | undefined {
    const text = this.string(value, path, { max: 2048, required });
    if (text === undefined) return undefined;
    let scheme: string;
    try {
      scheme = new URL(text).protocol.slice(0, -1);
    } catch {
      this.fail(path, 'URL_TYPE_INVALID_URL', 'Not a well formed URL.');
      return undefined;
    }
    if (!schemes.includes(scheme)) {
      const allowed = schemes.map((s) => `'${s}'`).join(', ');
      this.fail(
        path,
        'URL_TYPE_INVALID_SCHEME',
        `Scheme "${scheme}" is not supported. Scheme must be one of (${allowed}).`,
      );
    }
    return text;
  }

  integer(value: unknown, path: Path, min: number, max: number): number | undefined {
    if (value === undefined || value === null) return undefined;
    const number =
      typeof value === 'number'
        ? value
        : typeof value === 'string' && /^\s*-?\d+\s*$/.test(value)
          ? Number(value)
          : NaN;
    if (!Number.isInteger(number)) {
      this.fail(path, 'NUMBER_TYPE_COERCE', `Value "${String(value)}" is not int.`);
      return undefined;
    }
    if (number < min) this.fail(path, 'NUMBER_TYPE_MIN', `int value should be greater than or equal to ${min}.`);
    else if (number > max) this.fail(path, 'NUMBER_TYPE_MAX', `int value should be less than or equal to ${max}.`);
    return number;
  }

  boolean(value: unknown, path: Path): boolean | undefined {
    if (value === undefined || value === null) return undefined;
    const parsed = parseBoolean(value);
    if (parsed === null) this.fail(path, 'BOOLEAN_TYPE_COERCE', `Value "${String(value)}" is not bool.`);
    return parsed ?? undefined;
  }

  timestamp(value: unknown, path: Path): string | undefined {
    if (value === undefined || value === null) return undefined;
    const text = String(value);
    const iso = /^\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:?\d{2})?)?$/i;
    if (typeof value !== 'string' || !iso.test(text) || Number.isNaN(Date.parse(text))) {
      this.fail(path, 'DATE_TYPE_PARSE', `Could not parse ${text}. Should be ISO8601.`);
      return undefined;
    }
    return text;
  }

  list(value: unknown, path: Path, max: number): unknown[] | undefined {
    if (value === undefined || value === null) return undefined;
    if (!Array.isArray(value)) {
      this.fail(path, 'LIST_TYPE_CONVERT', 'Only iterables may be used in a ListType');
      return undefined;
    }
    if (value.length > max) this.fail(path, 'BASE_TYPE_MAX_LENGTH', `Must be ${max} or fewer in length.`);
    return value;
  }

  dict(value: unknown, path: Path): Record<string, unknown> | undefined {
    if (value === undefined || value === null) return undefined;
    if (typeof value !== 'object' || Array.isArray(value)) {
      this.fail(path, 'DICT_TYPE_CONVERT', 'Only dictionaries may be used in a DictType');
      return undefined;
    }
    return value as Record<string, unknown>;
  }
}

interface ValidatedMessage {
  errors: ErrorNode | null;
  content: string;
  username: string | null;
  avatarUrl: string | null;
  tts: boolean;
  embeds: DiscordEmbed[];
}

const HTTP = ['http', 'https'];
const MEDIA = ['http', 'https', 'attachment'];

function validateMessage(body: Record<string, unknown>): ValidatedMessage {
  const v = new FormValidator();
  const content = v.string(body.content, ['content'], { max: 2000 }) ?? '';
  const username = v.string(body.username, ['username'], { min: 1, max: 80 });
  // Webhook names may not impersonate Discord.
  const impersonates = /discord|clyde/i.exec(username ?? '')?.[0];
  if (impersonates) {
    v.fail(['username'], 'USERNAME_INVALID_CONTAINS', `Username cannot contain "${impersonates.toLowerCase()}"`);
  }
  const avatarUrl = v.url(body.avatar_url, ['avatar_url'], HTTP);
  const tts = v.boolean(body.tts, ['tts']) ?? false;
  const embeds = validateEmbeds(v, body.embeds);
  validateAllowedMentions(v, body.allowed_mentions);
  return {
    errors: v.ok ? null : v.errors,
    content,
    username: username ?? null,
    avatarUrl: avatarUrl ?? null,
    tts,
    embeds,
  };
}

function validateEmbeds(v: FormValidator, value: unknown): DiscordEmbed[] {
  const list = v.list(value, ['embeds'], 10) ?? [];
  const embeds: DiscordEmbed[] = [];
  let characters = 0;
  list.forEach((raw, index) => {
    const fields = v.dict(raw, ['embeds', index]);
    if (!fields) return;
    const embed = validateEmbed(v, fields, ['embeds', index]);
    characters += embedCharacters(embed);
    embeds.push(embed);
  });
  if (characters > 6000) v.fail(['embeds'], 'MAX_EMBED_SIZE_EXCEEDED', 'Embed size exceeds maximum size of 6000');
  return embeds;
}

/** What counts towards the 6000 characters of a message's embeds. */
function embedCharacters(embed: DiscordEmbed): number {
  const fields = (embed.fields ?? []).reduce((sum, f) => sum + codePoints(f.name) + codePoints(f.value), 0);
  return (
    codePoints(embed.title) +
    codePoints(embed.description) +
    codePoints(embed.footer?.text) +
    codePoints(embed.author?.name) +
    fields
  );
}

function validateEmbed(v: FormValidator, raw: Record<string, unknown>, path: Path): DiscordEmbed {
  const embed: DiscordEmbed = {};
  const set = <K extends keyof DiscordEmbed>(key: K, value: DiscordEmbed[K] | undefined): void => {
    if (value !== undefined) embed[key] = value;
  };
  set('title', v.string(raw.title, [...path, 'title'], { max: 256 }));
  set('description', v.string(raw.description, [...path, 'description'], { max: 4096 }));
  set('url', v.url(raw.url, [...path, 'url'], HTTP));
  set('timestamp', v.timestamp(raw.timestamp, [...path, 'timestamp']));
  set('color', v.integer(raw.color, [...path, 'color'], 0, 0xffffff));
  set('footer', validateFooter(v, raw.footer, [...path, 'footer']));
  set('image', validateMedia(v, raw.image, [...path, 'image']));
  set('thumbnail', validateMedia(v, raw.thumbnail, [...path, 'thumbnail']));
  set('author', validateAuthor(v, raw.author, [...path, 'author']));
  set('fields', validateFields(v, raw.fields, [...path, 'fields']));
  return embed;
}

function validateFooter(v: FormValidator, value: unknown, path: Path): DiscordEmbed['footer'] {
  const footer = v.dict(value, path);
  if (!footer) return undefined;
  const text = v.string(footer.text, [...path, 'text'], { max: 2048, required: true }) ?? '';
  const iconUrl = v.url(footer.icon_url, [...path, 'icon_url'], MEDIA);
  return { text, ...(iconUrl === undefined ? {} : { icon_url: iconUrl }) };
}

function validateMedia(v: FormValidator, value: unknown, path: Path): { url: string } | undefined {
  const media = v.dict(value, path);
  if (!media) return undefined;
  return { url: v.url(media.url, [...path, 'url'], MEDIA, true) ?? '' };
}

function validateAuthor(v: FormValidator, value: unknown, path: Path): DiscordEmbed['author'] {
  const author = v.dict(value, path);
  if (!author) return undefined;
  const name = v.string(author.name, [...path, 'name'], { max: 256, required: true }) ?? '';
  const url = v.url(author.url, [...path, 'url'], HTTP);
  const iconUrl = v.url(author.icon_url, [...path, 'icon_url'], MEDIA);
  return { name, ...(url === undefined ? {} : { url }), ...(iconUrl === undefined ? {} : { icon_url: iconUrl }) };
}

function validateFields(v: FormValidator, value: unknown, path: Path): DiscordEmbed['fields'] {
  const list = v.list(value, path, 25);
  if (!list) return undefined;
  return list.flatMap((raw, index) => {
    const field = v.dict(raw, [...path, index]);
    if (!field) return [];
    const name = v.string(field.name, [...path, index, 'name'], { max: 256, required: true }) ?? '';
    const text = v.string(field.value, [...path, index, 'value'], { max: 1024, required: true }) ?? '';
    const inline = v.boolean(field.inline, [...path, index, 'inline']);
    return [{ name, value: text, ...(inline === undefined ? {} : { inline }) }];
  });
}

function validateAllowedMentions(v: FormValidator, value: unknown): void {
  const path = ['allowed_mentions'];
  const mentions = v.dict(value, path);
  if (!mentions) return;
  const parse = v.list(mentions.parse, [...path, 'parse'], 3) ?? [];
  parse.forEach((kind, index) => {
    if (typeof kind !== 'string' || !['roles', 'users', 'everyone'].includes(kind)) {
      v.fail([...path, 'parse', index], 'ENUM_TYPE_COERCE', `Value "${String(kind)}" is not a valid enum value.`);
    }
  });
  for (const kind of ['users', 'roles']) {
    const ids = v.list(mentions[kind], [...path, kind], 100) ?? [];
    ids.forEach((id, index) => {
      if (!SNOWFLAKE.test(String(id))) v.fail([...path, kind, index], 'NUMBER_TYPE_COERCE', notSnowflake(id));
    });
    if (ids.length > 0 && parse.includes(kind)) {
      v.fail(
        path,
        'MESSAGE_ALLOWED_MENTIONS_PARSE_EXCLUSIVE',
        `parse:["${kind}"] and ${kind}: [ids...] are mutually exclusive.`,
      );
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Rate limits

interface Bucket {
  hash: string;
  remaining: number;
  resetAt: number;
}

/**
 * Discord's per-route bucket: `limit` requests, refilled whole `windowMs` after the first one of a
 * window; and the shared per-channel count of webhook messages over the last minute.
 */
class RateLimits {
  private readonly buckets = new Map<string, Bucket>();
  private readonly channels = new Map<string, number[]>();
  private readonly limit: number;
  private readonly windowMs: number;
  private readonly perMinute: number;

  constructor(options: DiscordServerOptions) {
    this.limit = options.rateLimit?.limit ?? 5;
    this.windowMs = options.rateLimit?.windowMs ?? 2000;
    this.perMinute = options.channelLimitPerMinute ?? 30;
  }

  take(webhookId: string, now: number): { retryAfterMs: number; headers: Record<string, string> } {
    let bucket = this.buckets.get(webhookId);
    if (!bucket)
      this.buckets.set(webhookId, (bucket = { hash: randomBytes(16).toString('hex'), remaining: 0, resetAt: 0 }));
    if (now >= bucket.resetAt) {
      bucket.remaining = this.limit;
      bucket.resetAt = now + this.windowMs;
    }
    const retryAfterMs = bucket.remaining === 0 ? bucket.resetAt - now : 0;
    if (retryAfterMs === 0) bucket.remaining--;
    const headers = {
      'X-RateLimit-Limit': String(this.limit),
      'X-RateLimit-Remaining': String(bucket.remaining),
      'X-RateLimit-Reset': (bucket.resetAt / 1000).toFixed(3),
      'X-RateLimit-Reset-After': ((bucket.resetAt - now) / 1000).toFixed(3),
      'X-RateLimit-Bucket': bucket.hash,
    };
    return { retryAfterMs, headers };
  }

  channelWaitMs(channelId: string, now: number): number {
    const times = (this.channels.get(channelId) ?? []).filter((t) => t > now - 60_000);
    this.channels.set(channelId, times);
    if (times.length < this.perMinute) return 0;
    return (times[times.length - this.perMinute] ?? now) + 60_000 - now;
  }

  countMessage(channelId: string, now: number): void {
    this.channels.set(channelId, [...(this.channels.get(channelId) ?? []), now]);
  }

  clear(): void {
    this.buckets.clear();
    this.channels.clear();
  }
}

function rateLimited(retryAfterMs: number, scope: 'user' | 'shared'): Reply {
  // Discord gives milliseconds in the body and whole seconds, rounded up, in the header.
  const seconds = Number(Math.max(0.001, retryAfterMs / 1000).toFixed(3));
  const reply = jsonReply(429, { message: 'You are being rate limited.', retry_after: seconds, global: false });
  return { ...reply, headers: { 'Retry-After': String(Math.ceil(seconds)), 'X-RateLimit-Scope': scope } };
}

// ---------------------------------------------------------------------------------------------
// HTTP: requests and replies

async function readRequest(req: IncomingMessage): Promise<IncomingRequest> {
  const body = await readBody(req);
  return {
    method: req.method ?? 'GET',
    url: new URL(req.url ?? '/', 'http://127.0.0.1'),
    contentType: req.headers['content-type'] ?? '',
    body,
    receivedAt: Date.now(),
  };
}

function noContent(): Reply {
  return { status: 204, contentType: null, body: '', recorded: null };
}

function discordError(status: number, code: number, message: string): Reply {
  return jsonReply(status, { message, code });
}

function invalidForm(errors: ErrorNode): Reply {
  return jsonReply(400, { code: 50035, errors, message: 'Invalid Form Body' });
}

/** What a client meets when Discord has trouble: Cloudflare answers gateway errors with a page. */
function injectedFailure(status: number): Reply {
  if (status === 429) return rateLimited(1000, 'user');
  const reason = STATUS_CODES[status] ?? 'Error';
  if (status < 502 || status > 504) return discordError(status, 0, `${status}: ${reason}`);
  return gatewayErrorPage(status, 'cloudflare');
}
