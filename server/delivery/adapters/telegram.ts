/**
 * Telegram chats, through the Bot API's `sendMessage` (TELEGRAM_API_URL, api.telegram.org by default).
 *
 * Guarantees:
 * - Each event is one HTML message, every interpolated value escaped, at most 4096 characters
 *   (only the notes are shortened), without a link preview.
 * - Telegram's flood answers are honoured (`retry_after`), and `pace()` keeps below its limits
 *   per bot and chat: 20 messages a minute to a group or channel, one a second to a private chat.
 * - A group that became a supergroup is reported with its new chat id, for the admin to update.
 * - The bot token is a secret: no error this adapter returns contains it.
 */
import { z } from 'zod';
import type { AdapterTarget, DestinationAdapter, Pace, SendContext, SendResult } from '../adapter.js';
import { escapeHtml, renderEvent, telegramHtml } from '../format.js';
import { excerpt, retryAfterMs, settle, type HttpAnswer } from '../http.js';

const MAX_MESSAGE_LENGTH = 4096;

const chatIdPattern = /^(?:-?\d{1,20}|@[A-Za-z][A-Za-z0-9_]{4,31})$/;

export const telegramConfigSchema = z.object({
  botToken: z
    .string()
    .trim()
    .regex(/^\d{1,20}:[A-Za-z0-9_-]{35}$/, 'must be a bot token from @BotFather, such as 123456789:AA…'),
  // Numbers are accepted as the Bot API accepts them, and kept as text: ids outgrow 32 bits.
  chatId: z
    .union([z.number().int().transform(String), z.string().trim()])
    .pipe(z.string().regex(chatIdPattern, 'must be a chat id such as -1001234567890 or 123456789, or @channelname')),
});
export type TelegramConfig = z.infer<typeof telegramConfigSchema>;

export const telegramAdapter: DestinationAdapter<TelegramConfig> = {
  kind: 'telegram',
  configSchema: telegramConfigSchema,
  send: (target, message, context) =>
    settle(
      () => sendMessage(target, telegramHtml(renderEvent(message, context.publicUrl), MAX_MESSAGE_LENGTH), context),
      target.config.botToken,
    ),
  sendTest: (target, context) =>
    settle(
      () =>
        sendMessage(
          target,
          `<b>signal-desk</b>\nA test for the destination <b>${escapeHtml(target.name)}</b>: signals will arrive in this chat.`,
          context,
        ),
      target.config.botToken,
    ),
  pace: (target) => telegramPace(target.config),
};

/** Telegram's limits per bot and chat: groups and channels (negative ids, @names) 20 a minute, private chats 1 a second. */
export function telegramPace({ botToken, chatId }: TelegramConfig): Pace {
  const botId = botToken.slice(0, botToken.indexOf(':'));
  const key = `telegram:${botId}:${chatId}`;
  const group = chatId.startsWith('-') || chatId.startsWith('@');
  return group ? { key, limit: 20, perMs: 60_000 } : { key, limit: 1, perMs: 1000 };
}

async function sendMessage(
  target: AdapterTarget<TelegramConfig>,
  html: string,
  context: SendContext,
): Promise<SendResult> {
  const { botToken, chatId } = target.config;
  const answer = await context.http.request(
    `${context.telegramApiUrl.replace(/\/+$/, '')}/bot${botToken}/sendMessage`,
    {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        chat_id: chatId,
        text: html,
        parse_mode: 'HTML',
        link_preview_options: { is_disabled: true },
      }),
      timeoutMs: context.timeoutMs,
    },
  );
  return readAnswer(answer, context.now());
}

interface BotApiAnswer {
  ok?: boolean;
  description?: string;
  parameters?: { retry_after?: number; migrate_to_chat_id?: number };
}

function readAnswer({ status, headers, body }: HttpAnswer, now: Date): SendResult {
  const json = parseAnswer(body);
  if (status >= 200 && status < 300 && json?.ok === true) return { kind: 'delivered', status };
  const description = json?.description ?? excerpt(body);
  if (status === 429) {
    const after = json?.parameters?.retry_after;
    const wait = typeof after === 'number' ? after * 1000 : retryAfterMs(headers['retry-after'], now);
    return {
      kind: 'retry',
      status,
      error: `Telegram answered 429: ${description}`,
      ...(wait === undefined ? {} : { retryAfterMs: wait }),
    };
  }
  const migratedTo = json?.parameters?.migrate_to_chat_id;
  if (migratedTo !== undefined) {
    return {
      kind: 'retry',
      status,
      error: `Telegram answered ${status}: the group became a supergroup with the chat id ${migratedTo}; change this destination's chat id to ${migratedTo}`,
    };
  }
  return { kind: 'retry', status, error: `Telegram answered ${status}${description ? `: ${description}` : ''}` };
}

function parseAnswer(body: string): BotApiAnswer | null {
  try {
    const value: unknown = JSON.parse(body);
    return typeof value === 'object' && value !== null ? (value as BotApiAnswer) : null;
  } catch {
    return null;
  }
}
