/**
 * Which store failures mean "the database cannot be reached right now" rather than "this
 * request is wrong". The HTTP layer answers those with 503 `unavailable` (the client may
 * retry, with its idempotency key), never with 500 and never with a false success.
 */

/** Socket-level failures reaching the database server. */
const NETWORK_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ECONNABORTED',
  'EPIPE',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENOTFOUND',
  'EAI_AGAIN',
]);

/**
 * PostgreSQL SQLSTATEs: class 08 (connection exception), 57P01–57P03 (shutting down, crashed,
 * starting up), 53300 (too many connections); SQLite: the file stayed locked past busy_timeout.
 */
const DATABASE_CODES = /^(08\w{3}|57P0[123]|53300|SQLITE_BUSY\w*)$/;

/** node-postgres reports a lost or unobtainable connection with messages, not codes. */
const DRIVER_MESSAGES =
  /^(Connection terminated|timeout exceeded when trying to connect|Client has encountered a connection error|Client was closed and is not queryable)/;

export function isDatabaseUnavailable(error: unknown): boolean {
  for (let e = error, depth = 0; e && typeof e === 'object' && depth < 4; depth++) {
    const { code, message, cause } = e as { code?: unknown; message?: unknown; cause?: unknown };
    if (typeof code === 'string' && (NETWORK_CODES.has(code) || DATABASE_CODES.test(code))) return true;
    if (typeof message === 'string' && DRIVER_MESSAGES.test(message)) return true;
    e = cause;
  }
  return false;
}
