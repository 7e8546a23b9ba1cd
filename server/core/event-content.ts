/**
 * What an event from outside (an import, a migrated log) may hold: exactly what the API
 * would have accepted when the event was appended. A file whose chain verifies proves only
 * that nobody changed it since it was hashed, not that its content is sane: a 200 KB note,
 * an unknown market or a `createdAt` far in the future (which every later event of the
 * channel would then have to follow) are refused here.
 */
import type { StoredEvent } from '../../shared/events.js';
import { fieldErrors } from '../../shared/field-errors.js';
import { z } from 'zod';
import { signalInputSchema, signalUpdateInputSchema, slugSchema } from '../../shared/schemas.js';

const ID_MAX = 64;

const originSchema = z.strictObject({
  channel: slugSchema,
  seq: z.number().int().positive(),
  id: z.string().min(1).max(ID_MAX),
  signalId: z.string().min(1).max(ID_MAX),
  hash: z.string().regex(/^[0-9a-f]{64}$/),
  createdAt: z.string().refine((v) => !Number.isNaN(Date.parse(v))),
});

/** How far ahead of this machine's clock an event's time may be (clocks differ a little). */
const CLOCK_SKEW_MS = 5 * 60_000;

/** Why `event` holds what the API would never have stored, or null when it does not. */
export function eventContentProblem(event: StoredEvent, now: number = Date.now()): string | null {
  if (!slugSchema.safeParse(event.channel).success) return `channel ${JSON.stringify(event.channel)} is not a slug`;
  for (const field of ['id', 'signalId', 'author'] as const) {
    if (event[field].length === 0 || event[field].length > ID_MAX) return `${field} must be 1 to ${ID_MAX} characters`;
  }
  const at = Date.parse(event.createdAt);
  if (Number.isNaN(at)) return 'createdAt is not a valid time';
  if (at > now + CLOCK_SKEW_MS) return `createdAt ${event.createdAt} is in the future`;
  // A mirror's release names its original; the rest is what the API accepts.
  const { origin, ...data } = event.data;
  if (origin !== undefined && !originSchema.safeParse(origin).success) return 'its origin is not a valid origin';
  const result =
    event.type === 'signal.created'
      ? signalInputSchema.safeParse({ ...data, channel: event.channel })
      : signalUpdateInputSchema.safeParse(data);
  if (result.success) return null;
  const fields = Object.entries(fieldErrors(result.error)).map(([field, message]) => `${field} ${message}`);
  return `its data would be refused by the API: ${fields.join('; ')}`;
}
