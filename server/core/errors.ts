/**
 * A failure the API reports to its caller as `{ error: { code, message, fields? } }`.
 * `retryAfterSeconds`, for a 429 or 503, becomes the `Retry-After` header.
 */
export class AppError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly fields?: Record<string, string>,
    readonly retryAfterSeconds?: number,
  ) {
    super(message);
    this.name = 'AppError';
  }
}

export const badRequest = (message: string, fields?: Record<string, string>) =>
  new AppError(400, 'validation_failed', message, fields);
export const unauthorized = (message = 'authentication required') => new AppError(401, 'unauthorized', message);
export const forbidden = (message = 'not allowed') => new AppError(403, 'forbidden', message);
export const notFound = (what: string) => new AppError(404, 'not_found', `${what} not found`);
export const conflict = (code: string, message: string) => new AppError(409, code, message);
export const unavailable = (message: string) => new AppError(503, 'unavailable', message);

/** Refused for now: try again after `retryAfterMs`. */
export const tooManyAttempts = (message: string, retryAfterMs: number) =>
  new AppError(429, 'too_many_attempts', message, undefined, Math.max(1, Math.ceil(retryAfterMs / 1000)));
