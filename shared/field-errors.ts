/**
 * Per-field messages from a zod error, keyed by dotted path (`takeProfits.1` → "must be above
 * the entry for a buy"; `_` for the whole value). The API's 400 `fields` and the web app's
 * form errors come from this one function, so a field shows the same words on both sides.
 */
import type { ZodError } from 'zod';

export type FieldErrors = Record<string, string>;

export function fieldErrors(error: ZodError | undefined): FieldErrors {
  const fields: FieldErrors = {};
  for (const issue of error?.issues ?? []) {
    if (issue.code === 'unrecognized_keys') {
      const prefix = issue.path.length ? `${issue.path.join('.')}.` : '';
      for (const key of issue.keys) fields[`${prefix}${key}`] ??= 'is not a known field';
      continue;
    }
    const key = issue.path.length ? issue.path.join('.') : '_';
    fields[key] ??= issue.message;
  }
  return fields;
}
