/**
 * One zod schema per payload. The server validates HTTP bodies with these, the web app
 * validates its forms with the very same schemas, and the types are inferred from them.
 */
import { z } from 'zod';
import { LIMITS } from './limits.js';

export const MARKETS = ['crypto', 'forex', 'stocks', 'indices', 'commodities', 'other'] as const;

export const marketSchema = z.enum(MARKETS, { error: `must be one of ${MARKETS.join(', ')}` });
export const SIDES = ['buy', 'sell'] as const;
export const UPDATE_TYPES = ['tp_hit', 'sl_hit', 'breakeven', 'closed', 'cancelled', 'note'] as const;
export const STATUSES = ['open', 'tp_hit', 'sl_hit', 'closed', 'cancelled'] as const;
export const ROLES = ['admin', 'subscriber'] as const;

export type Market = (typeof MARKETS)[number];
export type Side = (typeof SIDES)[number];
export type UpdateType = (typeof UPDATE_TYPES)[number];
export type SignalStatus = (typeof STATUSES)[number];
export type Role = (typeof ROLES)[number];

export const slugSchema = z
  .string({ error: 'must be a string' })
  .min(1, 'is required')
  .max(LIMITS.slugMaxChars, `must be at most ${LIMITS.slugMaxChars} characters`)
  .regex(/^[a-z0-9]+(?:-[a-z0-9]+)*$/, 'must be lower-case letters, digits and single dashes');

export const priceSchema = z
  .number({ error: 'must be a number' })
  .refine(Number.isFinite, 'must be a finite number')
  .refine((n) => n > 0, 'must be greater than 0')
  // Beyond these, ratios of prices (R multiples) stop being meaningful numbers.
  .refine((n) => n >= LIMITS.priceMin && n <= LIMITS.priceMax, {
    message: `must be between ${LIMITS.priceMin} and ${LIMITS.priceMax}`,
  });

const optionalText = (max: number) =>
  z.string({ error: 'must be a string' }).trim().max(max, `must be at most ${max} characters`).optional();

export const notesSchema = z
  .string({ error: 'must be a string' })
  .max(LIMITS.notesMaxChars, `must be at most ${LIMITS.notesMaxChars} characters`);

export const idempotencyKeySchema = z
  .string({ error: 'must be a string' })
  .min(8, 'must be at least 8 characters')
  .max(128, 'must be at most 128 characters');

/** The body of `POST /api/signals`. */
export const signalInputSchema = z
  .strictObject(
    {
      channel: slugSchema,
      symbol: z
        .string({ error: 'must be a string' })
        .trim()
        .min(1, 'is required')
        .max(LIMITS.symbolMaxChars, `must be at most ${LIMITS.symbolMaxChars} characters`)
        .regex(/^[A-Za-z0-9][A-Za-z0-9._/:-]*$/, 'may hold letters, digits and . _ / : -')
        .toUpperCase(),
      market: marketSchema,
      side: z.enum(SIDES, { error: 'must be buy or sell' }),
      entry: priceSchema,
      stopLoss: priceSchema,
      takeProfits: z
        .array(priceSchema, { error: 'must be a list of prices' })
        .min(1, 'needs at least one take-profit')
        .max(LIMITS.takeProfitsMax, `allows at most ${LIMITS.takeProfitsMax} take-profits`),
      source: optionalText(100),
      timeframe: optionalText(20),
      leverage: z
        .number({ error: 'must be a number' })
        .refine(Number.isFinite, 'must be a finite number')
        .refine((n) => n >= 1 && n <= 1000, 'must be between 1 and 1000')
        .optional(),
      notes: notesSchema.optional(),
      idempotencyKey: idempotencyKeySchema.optional(),
    },
    { error: (issue) => (issue.code === 'unrecognized_keys' ? 'is not a known field' : 'must be an object') },
  )
  .superRefine((s, ctx) => {
    const below = s.side === 'buy';
    if (below ? !(s.stopLoss < s.entry) : !(s.stopLoss > s.entry)) {
      ctx.addIssue({
        code: 'custom',
        path: ['stopLoss'],
        message: below ? 'must be below the entry for a buy' : 'must be above the entry for a sell',
      });
    }
    s.takeProfits.forEach((tp, i) => {
      if (below ? !(tp > s.entry) : !(tp < s.entry)) {
        ctx.addIssue({
          code: 'custom',
          path: ['takeProfits', i],
          message: below ? 'must be above the entry for a buy' : 'must be below the entry for a sell',
        });
      }
    });
  });
export type SignalInput = z.infer<typeof signalInputSchema>;

/** The body of `POST /api/signals/:id/updates`. */
export const signalUpdateInputSchema = z
  .strictObject(
    {
      type: z.enum(UPDATE_TYPES, { error: `must be one of ${UPDATE_TYPES.join(', ')}` }),
      price: priceSchema.optional(),
      level: z
        .number({ error: 'must be a number' })
        .int('must be a whole number')
        .min(1, 'must be at least 1')
        .max(LIMITS.takeProfitsMax, `must be at most ${LIMITS.takeProfitsMax}`)
        .optional(),
      notes: notesSchema.optional(),
      idempotencyKey: idempotencyKeySchema.optional(),
    },
    { error: (issue) => (issue.code === 'unrecognized_keys' ? 'is not a known field' : 'must be an object') },
  )
  .superRefine((u, ctx) => {
    if (u.type === 'tp_hit' && u.level === undefined) {
      ctx.addIssue({ code: 'custom', path: ['level'], message: 'is required for tp_hit' });
    }
    if (u.type !== 'tp_hit' && u.level !== undefined) {
      ctx.addIssue({ code: 'custom', path: ['level'], message: 'is only allowed for tp_hit' });
    }
    if (u.type === 'note' && !u.notes?.trim()) {
      ctx.addIssue({ code: 'custom', path: ['notes'], message: 'is required for a note' });
    }
    if ((u.type === 'note' || u.type === 'breakeven') && u.price !== undefined) {
      ctx.addIssue({ code: 'custom', path: ['price'], message: `is not allowed for ${u.type}` });
    }
  });
export type SignalUpdateInput = z.infer<typeof signalUpdateInputSchema>;

const emailSchema = z
  .string({ error: 'must be a string' })
  .trim()
  .toLowerCase()
  .max(254, 'is too long')
  .email('must be an email address');

export const passwordSchema = z
  .string({ error: 'must be a string' })
  .min(LIMITS.passwordMinChars, `must be at least ${LIMITS.passwordMinChars} characters`)
  .max(LIMITS.passwordMaxChars, `must be at most ${LIMITS.passwordMaxChars} characters`);

export const loginInputSchema = z.strictObject({
  email: emailSchema,
  password: z.string({ error: 'must be a string' }).min(1, 'is required').max(LIMITS.passwordMaxChars, 'is too long'),
});
export type LoginInput = z.infer<typeof loginInputSchema>;

export const setupInputSchema = z.strictObject({
  email: emailSchema,
  password: passwordSchema,
  name: optionalText(100),
  setupCode: z
    .string({ error: "is required: paste the code from the server's log" })
    .trim()
    .min(1, "is required: paste the code from the server's log")
    .max(64, 'is too long'),
});
export type SetupInput = z.infer<typeof setupInputSchema>;

export const userInputSchema = z.strictObject({
  email: emailSchema,
  password: passwordSchema,
  name: optionalText(100),
  role: z.enum(ROLES, { error: 'must be admin or subscriber' }),
  channels: z.array(slugSchema).max(200, 'too many channels').optional(),
});
export type UserInput = z.infer<typeof userInputSchema>;

export const userPatchSchema = z.strictObject({
  disabled: z.boolean({ error: 'must be true or false' }).optional(),
  name: optionalText(100),
});

/** `POST /api/me/password`: one's own password, with the current one. */
export const passwordChangeSchema = z.strictObject({
  currentPassword: z.string({ error: 'must be a string' }).min(1, 'is required').max(256, 'is too long'),
  newPassword: passwordSchema,
});
export type PasswordChange = z.infer<typeof passwordChangeSchema>;

/** `POST /api/users/:id/password` (admin): a new password for someone else. */
export const passwordResetSchema = z.strictObject({ password: passwordSchema });

export const channelInputSchema = z.strictObject({
  slug: slugSchema,
  name: z.string({ error: 'must be a string' }).trim().min(1, 'is required').max(100, 'must be at most 100 characters'),
  description: optionalText(500),
});
export type ChannelInput = z.infer<typeof channelInputSchema>;

export const positionInputSchema = z.strictObject({
  delivered: z.number().int().min(0).optional(),
  read: z.number().int().min(0).optional(),
});
export type PositionInput = z.infer<typeof positionInputSchema>;

const intQuery = (min: number, max: number) =>
  z.coerce
    .number({ error: 'must be a number' })
    .int('must be a whole number')
    .min(min, `must be at least ${min}`)
    .max(max, `must be at most ${max}`);

export const signalListQuerySchema = z.strictObject({
  channel: slugSchema.optional(),
  market: z.enum(MARKETS).optional(),
  symbol: z.string().trim().min(1).max(LIMITS.symbolMaxChars).optional(),
  side: z.enum(SIDES).optional(),
  status: z.enum(STATUSES).optional(),
  q: z.string().trim().min(1).max(100).optional(),
  before: intQuery(1, Number.MAX_SAFE_INTEGER).optional(),
  limit: intQuery(1, LIMITS.pageSizeMax).default(LIMITS.pageSizeDefault),
});
export type SignalListQuery = z.infer<typeof signalListQuerySchema>;

export const eventsQuerySchema = z.strictObject({
  after: intQuery(0, Number.MAX_SAFE_INTEGER).default(0),
  limit: intQuery(1, LIMITS.eventsPageMax).default(200),
  channel: slugSchema.optional(),
});
export type EventsQuery = z.infer<typeof eventsQuerySchema>;

// ---- inlets and outlets

/** The name an admin gives a destination, source or token. */
export const nameSchema = z
  .string({ error: 'must be a string' })
  .trim()
  .min(1, 'is required')
  .max(100, 'must be at most 100 characters');

const channelListSchema = z
  .array(slugSchema, { error: 'must be a list of channel slugs' })
  .max(200, 'too many channels');

const httpUrlSchema = z
  .string({ error: 'must be a string' })
  .trim()
  .max(2048, 'must be at most 2048 characters')
  .refine((v) => {
    try {
      const url = new URL(v);
      return (url.protocol === 'https:' || url.protocol === 'http:') && url.hostname !== '';
    } catch {
      return false;
    }
  }, 'must be an http:// or https:// URL');

/** A browser's PushSubscription (its toJSON()), plus which channels notify and a device label. */
export const pushSubscriptionInputSchema = z.strictObject({
  endpoint: httpUrlSchema,
  keys: z.strictObject({
    p256dh: z.string({ error: 'must be a string' }).min(80, 'is not a P-256 public key').max(100, 'is too long'),
    auth: z.string({ error: 'must be a string' }).min(16, 'is too short').max(32, 'is too long'),
  }),
  expirationTime: z.number().nullable().optional(),
  /** Channels that notify this device; absent: every channel the user may see. */
  channels: channelListSchema.optional(),
  label: optionalText(100),
});
export type PushSubscriptionInput = z.infer<typeof pushSubscriptionInputSchema>;

export const pushSubscriptionPatchSchema = z.strictObject({
  channels: channelListSchema.optional(),
  label: optionalText(100),
});

export const TELEGRAM_BOT_TOKEN = /^\d{3,}:[A-Za-z0-9_-]{35}$/;
export const TELEGRAM_CHAT_ID = /^(-?\d{1,20}|@[A-Za-z][A-Za-z0-9_]{4,31})$/;

const botTokenSchema = z
  .string({ error: 'must be a string' })
  .trim()
  .regex(TELEGRAM_BOT_TOKEN, 'must be a bot token as @BotFather gives it, e.g. 123456789:AA…');
const chatIdSchema = z
  .string({ error: 'must be a string' })
  .trim()
  .regex(TELEGRAM_CHAT_ID, 'must be a chat id like -1001234567890 or @channelname');

/** `POST /api/destinations` (admin). */
export const destinationInputSchema = z.discriminatedUnion(
  'kind',
  [
    z.strictObject({
      kind: z.literal('webhook'),
      name: nameSchema,
      url: httpUrlSchema,
      channels: channelListSchema,
      enabled: z.boolean().optional(),
    }),
    z.strictObject({
      kind: z.literal('telegram'),
      name: nameSchema,
      chatId: chatIdSchema,
      botToken: botTokenSchema,
      channels: channelListSchema,
      enabled: z.boolean().optional(),
    }),
    z.strictObject({
      kind: z.literal('discord'),
      name: nameSchema,
      url: httpUrlSchema.refine(
        (v) => /\/api\/(v\d+\/)?webhooks\/\d+\/[\w-]+\/?$/.test(new URL(v).pathname),
        'must be a Discord webhook URL (…/api/webhooks/<id>/<token>)',
      ),
      channels: channelListSchema,
      enabled: z.boolean().optional(),
    }),
  ],
  { error: 'kind must be webhook, telegram or discord' },
);
export type DestinationInput = z.infer<typeof destinationInputSchema>;

/** `PATCH /api/destinations/:id` (admin): what may change; the kind may not. */
export const destinationPatchSchema = z.strictObject({
  name: nameSchema.optional(),
  channels: channelListSchema.optional(),
  enabled: z.boolean({ error: 'must be true or false' }).optional(),
  url: httpUrlSchema.optional(),
  chatId: chatIdSchema.optional(),
  botToken: botTokenSchema.optional(),
});
export type DestinationPatchInput = z.infer<typeof destinationPatchSchema>;

/** `POST /api/tokens` (admin): a bot's publish-only token for these channels. */
export const apiTokenInputSchema = z.strictObject({
  name: nameSchema,
  channels: channelListSchema.min(1, 'needs at least one channel'),
});

/** `PUT /api/channels/:slug/mirror` (admin): release `origin`'s events into this channel after a delay. */
export const mirrorInputSchema = z.strictObject({
  origin: slugSchema,
  delaySeconds: z
    .number({ error: 'must be a number of seconds' })
    .int('must be a whole number of seconds')
    .min(1, 'must be at least 1 second')
    .max(30 * 86_400, 'must be at most 30 days'),
});
export type MirrorInput = z.infer<typeof mirrorInputSchema>;
