/**
 * Inbound webhook sources (TradingView alerts): the admin payloads, validated by the server and
 * the web form with the same schemas, TradingView's published alert addresses, and the alert
 * messages to paste into TradingView. An allowed address is a plain IPv4 or IPv6 address or a
 * CIDR range, in the strict forms ipaddr.js reads (no `127.1` shorthands).
 */
import ipaddr from 'ipaddr.js';
import { z } from 'zod';
import { marketSchema, nameSchema, slugSchema } from './schemas.js';

export const SOURCE_KINDS = ['tradingview'] as const;
export type SourceKind = (typeof SOURCE_KINDS)[number];

/** The addresses TradingView sends webhook alerts from (its help centre publishes them). */
export const TRADINGVIEW_ADDRESSES = ['52.89.214.238', '34.212.75.30', '54.218.53.128', '52.32.178.7'] as const;

export const SOURCE_LIMITS = {
  ratePerMinuteDefault: 60,
  ratePerMinuteMax: 10_000,
  allowedIpsMax: 100,
  /** Requests kept in each source's log. */
  requestsKept: 200,
  requestsPageMax: 200,
} as const;

/** Whether `value` is an address or a CIDR range in a form nobody misreads. */
export function isAddressOrRange(value: string): boolean {
  return (
    ipaddr.IPv4.isValidFourPartDecimal(value) ||
    ipaddr.IPv6.isValid(value) ||
    ipaddr.IPv4.isValidCIDRFourPartDecimal(value) ||
    ipaddr.IPv6.isValidCIDR(value)
  );
}

const addressSchema = z
  .string({ error: 'must be a string' })
  .trim()
  .refine(isAddressOrRange, 'must be an IP address (52.89.214.238) or a CIDR range (52.89.214.0/24)');

const allowedIpsSchema = z
  .array(addressSchema, { error: 'must be a list of addresses' })
  .max(SOURCE_LIMITS.allowedIpsMax, `allows at most ${SOURCE_LIMITS.allowedIpsMax} entries`);

// The label becomes the `source` of every signal the source publishes, so it has that field's bound.
const labelSchema = z.string({ error: 'must be a string' }).trim().max(100, 'must be at most 100 characters');

const rateSchema = z
  .number({ error: 'must be a number' })
  .int('must be a whole number')
  .min(1, 'must be at least 1')
  .max(SOURCE_LIMITS.ratePerMinuteMax, `must be at most ${SOURCE_LIMITS.ratePerMinuteMax}`);

const strictError = {
  error: (issue: { code: string }) =>
    issue.code === 'unrecognized_keys' ? 'is not a known field' : 'must be an object',
};

/** `POST /api/sources` (admin). An empty label or allowlist means none. */
export const sourceInputSchema = z.strictObject(
  {
    kind: z.literal('tradingview', { error: 'must be tradingview' }),
    channel: slugSchema,
    name: nameSchema,
    label: labelSchema.optional(),
    market: marketSchema.optional(),
    allowedIps: allowedIpsSchema.optional(),
    ratePerMinute: rateSchema.optional(),
  },
  strictError,
);
export type SourceInput = z.infer<typeof sourceInputSchema>;

/** `PATCH /api/sources/:id` (admin): `null` clears the label, the market or the allowlist. */
export const sourcePatchSchema = z.strictObject(
  {
    name: nameSchema.optional(),
    label: labelSchema.nullable().optional(),
    market: marketSchema.nullable().optional(),
    allowedIps: allowedIpsSchema.nullable().optional(),
    ratePerMinute: rateSchema.optional(),
    enabled: z.boolean({ error: 'must be true or false' }).optional(),
  },
  strictError,
);
export type SourcePatchInput = z.infer<typeof sourcePatchSchema>;

/** What `POST /api/sources` and `POST /api/sources/:id/rotate` add to the source: shown this once. */
export interface SourceSecret {
  /** `/hooks/tv/<secret>`, relative to the server. */
  url: string;
  /** The same on the host and protocol the request came in on, when known. */
  absoluteUrl?: string;
  secret: string;
}

/**
 * The alert messages to paste into TradingView. Every value is quoted: an unquoted number
 * whose plot has no value on that bar renders as `NaN` and breaks the JSON, while a quoted
 * one reaches the server, which names the key that was empty. The `id` is what makes a
 * resent alert a duplicate and two different alerts two signals.
 */
export const TRADINGVIEW_TEMPLATES = {
  /** A strategy's alert fires on every order: entries open a signal, an order that leaves it flat closes it. */
  strategy:
    '{"ticker":"{{ticker}}","action":"{{strategy.order.action}}",' +
    '"marketPosition":"{{strategy.market_position}}","price":"{{strategy.order.price}}",' +
    '"sl":"{{plot("Stop")}}","tp":"{{plot("Target 1")}} {{plot("Target 2")}}",' +
    '"interval":"{{interval}}","id":"{{ticker}}-{{strategy.order.id}}-{{timenow}}"}',
  /** An indicator's alert has no order: one alert per condition, the side written in the message. */
  indicator:
    '{"ticker":"{{ticker}}","action":"buy","price":"{{close}}",' +
    '"sl":"{{plot("Stop")}}","tp1":"{{plot("Target 1")}}","tp2":"{{plot("Target 2")}}",' +
    '"interval":"{{interval}}","id":"{{ticker}}-{{interval}}-{{time}}-buy"}',
} as const;
