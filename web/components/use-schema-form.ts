/**
 * The submit path of the sign-in, setup and admin forms: validate with the same zod schema the server uses,
 * show each message under its field, send, and put the server's own per-field messages
 * there too when it refuses. The caller decides what success and refusal say.
 */
import { useRef, useState } from 'react';
import type { ZodType } from 'zod';
import { ApiError } from '../api/client.js';
import { fieldErrors, type FieldErrors } from '../../shared/field-errors.js';

export type SubmitOutcome = { ok: true } | { ok: false; refused?: ApiError };

export function useSchemaForm<T>(schema: ZodType<T>) {
  const [errors, setErrors] = useState<FieldErrors>({});
  const [busy, setBusy] = useState(false);
  // A second click lands before React re-renders the disabled button: guard synchronously.
  const inFlight = useRef(false);

  const submit = async (input: unknown, send: (data: T) => Promise<void>): Promise<SubmitOutcome> => {
    if (inFlight.current) return { ok: false };
    const parsed = schema.safeParse(input);
    setErrors(fieldErrors(parsed.error));
    if (!parsed.success) return { ok: false };
    inFlight.current = true;
    setBusy(true);
    try {
      await send(parsed.data);
      return { ok: true };
    } catch (error) {
      if (!(error instanceof ApiError)) throw error;
      setErrors(error.fields);
      return { ok: false, refused: error };
    } finally {
      inFlight.current = false;
      setBusy(false);
    }
  };

  return { errors, busy, submit };
}
