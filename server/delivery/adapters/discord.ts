/**
 * Discord channels, through an incoming webhook (`…/api/webhooks/<id>/<token>`).
 *
 * Guarantees:
 * - Each event is one message with one embed within Discord's limits (title, description,
 *   fields, footer "#channel · seq N", the event's time, a link when the public URL is known),
 *   posted with `?wait=true` so Discord confirms it stored the message.
 * - No mention in a message ever pings anyone (`allowed_mentions: { parse: [] }`).
 * - Discord's rate-limit answers are honoured: `retry_after` on a 429, and a pause when a
 *   success reports an empty bucket; `pace()` keeps Discord's 30 webhook messages a minute per channel.
 * - The webhook token is a secret: no error this adapter returns contains it.
 */
import { z } from 'zod';
import type { AdapterTarget, DestinationAdapter, SendContext, SendResult } from '../adapter.js';
import { cut, plainBody, renderEvent, TONE_COLORS, type RenderedEvent } from '../format.js';
import { excerpt, retryAfterMs, settle, type HttpAnswer } from '../http.js';

const WEBHOOK_PATH = /^\/api(?:\/v\d+)?\/webhooks\/(\d{1,20})\/([A-Za-z0-9_-]{1,200})\/?$/;

export const discordConfigSchema = z.object({
  url: z
    .string()
    .trim()
    .max(2048, 'must be at most 2048 characters')
    .refine(
      (value) => parseWebhookUrl(value) !== null,
      'must be a Discord webhook URL: https://discord.com/api/webhooks/<id>/<token>',
    ),
});
export type DiscordConfig = z.infer<typeof discordConfigSchema>;

/** The webhook's id and token, or null when `url` is no webhook URL. */
export function parseWebhookUrl(url: string): { id: string; token: string } | null {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return null;
  }
  if (parsed.protocol !== 'https:' && parsed.protocol !== 'http:') return null;
  if (parsed.search !== '' || parsed.hash !== '' || parsed.username !== '' || parsed.password !== '') return null;
  const match = WEBHOOK_PATH.exec(parsed.pathname);
  return match?.[1] && match[2] ? { id: match[1], token: match[2] } : null;
}

export interface DiscordEmbed {
  title: string;
  description?: string;
  url?: string;
  color: number;
  timestamp?: string;
  footer?: { text: string };
  fields?: { name: string; value: string; inline: boolean }[];
}

/** One event as an embed, cut to Discord's limits. */
export function eventEmbed(rendered: RenderedEvent): DiscordEmbed {
  // A new signal's prices are its fields; an update tells what happened in prose.
  const text = rendered.facts.length > 0 ? (rendered.notes ?? '') : plainBody(rendered);
  return {
    title: cut(rendered.title, 256),
    ...(text === '' ? {} : { description: cut(text, 4096) }),
    ...(rendered.url === null ? {} : { url: rendered.url }),
    color: rendered.color,
    timestamp: rendered.createdAt,
    footer: { text: cut(`#${rendered.channel} · seq ${rendered.seq}`, 2048) },
    ...(rendered.facts.length === 0
      ? {}
      : { fields: rendered.facts.map((f) => ({ name: f.name, value: cut(f.value, 1024), inline: true })) }),
  };
}

export const discordAdapter: DestinationAdapter<DiscordConfig> = {
  kind: 'discord',
  configSchema: discordConfigSchema,
  send: (target, message, context) =>
    settle(() => execute(target, eventEmbed(renderEvent(message, context.publicUrl)), context), tokenOf(target)),
  sendTest: (target, context) =>
    settle(
      () =>
        execute(
          target,
          {
            title: 'signal-desk test',
            description: cut(`A test for the destination ${target.name}: signals will arrive in this channel.`, 4096),
            color: TONE_COLORS.neutral,
          },
          context,
        ),
      tokenOf(target),
    ),
  pace: (target) => {
    const webhook = parseWebhookUrl(target.config.url);
    return webhook ? { key: `discord:${webhook.id}`, limit: 30, perMs: 60_000 } : undefined;
  },
};

function tokenOf(target: AdapterTarget<DiscordConfig>): string {
  return parseWebhookUrl(target.config.url)?.token ?? '';
}

async function execute(
  target: AdapterTarget<DiscordConfig>,
  embed: DiscordEmbed,
  context: SendContext,
): Promise<SendResult> {
  const url = new URL(target.config.url);
  url.searchParams.set('wait', 'true');
  const answer = await context.http.request(url.toString(), {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ username: 'signal-desk', embeds: [embed], allowed_mentions: { parse: [] } }),
    timeoutMs: context.timeoutMs,
  });
  return readAnswer(answer, context.now());
}

interface DiscordAnswer {
  message?: string;
  code?: number;
  retry_after?: number;
  errors?: unknown;
}

function readAnswer({ status, headers, body }: HttpAnswer, now: Date): SendResult {
  if (status >= 200 && status < 300) {
    const waitMs = emptyBucketWaitMs(headers);
    return { kind: 'delivered', status, ...(waitMs === undefined ? {} : { waitMs }) };
  }
  const json = parseAnswer(body);
  if (status === 429) {
    const wait =
      typeof json?.retry_after === 'number'
        ? Math.ceil(json.retry_after * 1000)
        : retryAfterMs(headers['retry-after'], now);
    return {
      kind: 'retry',
      status,
      error: `Discord answered 429: ${json?.message ?? 'rate limited'}`,
      ...(wait === undefined ? {} : { retryAfterMs: wait }),
    };
  }
  return { kind: 'retry', status, error: `Discord answered ${status}: ${describe(json, body)}` };
}

/** How long until the webhook's bucket refills, when this send emptied it. */
function emptyBucketWaitMs(headers: Record<string, string>): number | undefined {
  if (headers['x-ratelimit-remaining'] !== '0') return undefined;
  const seconds = Number(headers['x-ratelimit-reset-after']);
  return Number.isFinite(seconds) && seconds > 0 ? Math.ceil(seconds * 1000) : undefined;
}

function describe(json: DiscordAnswer | null, body: string): string {
  if (!json?.message) return excerpt(body) || 'no explanation';
  const code = json.code ? ` (code ${json.code})` : '';
  // An invalid form names the fields at fault in `errors`.
  const fields = json.errors === undefined ? '' : ` ${excerpt(JSON.stringify(json.errors))}`;
  return `${json.message}${code}${fields}`;
}

function parseAnswer(body: string): DiscordAnswer | null {
  try {
    const value: unknown = JSON.parse(body);
    return typeof value === 'object' && value !== null ? (value as DiscordAnswer) : null;
  } catch {
    return null;
  }
}
