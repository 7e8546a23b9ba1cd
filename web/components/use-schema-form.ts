/**
 * The submit path of the sign-in, setup and admin forms: validate with the same zod schema the server uses,
 * show each message under its field, send, and put the server's own per-field messages
 * there too when it refuses. The caller decides what success and refusal say.
 */
import { useState } from 'react';
import type { ZodType } from 'zod';
import { ApiError } from '../api/client.js';
import { fieldErrors, type FieldErrors } from '../../shared/field-errors.js';
import { useSingleFlight } from './use-single-flight.js';

export type SubmitOutcome = { ok: true } | { ok: false; refused?: ApiError };

export function useSchemaForm<T>(schema: ZodType<T>) {
  const [errors, setErrors] = useState<FieldErrors>({});
  const { busy, run } = useSingleFlight();

  const submit = async (input: unknown, send: (data: T) => Promise<void>): Promise<SubmitOutcome> => {
    const parsed = schema.safeParse(input);
    setErrors(fieldErrors(parsed.error));
    if (!parsed.success) return { ok: false };
    const outcome = await run(async (): Promise<SubmitOutcome> => {
      try {
        await send(parsed.data);
        return { ok: true };
      } catch (error) {
        if (!(error instanceof ApiError)) throw error;
        setErrors(error.fields);
        return { ok: false, refused: error };
      }
    });
    return outcome ?? { ok: false };
  };

  return { errors, busy, submit };
}
