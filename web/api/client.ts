/**
 * The one way the web app talks HTTP to its server: same origin, session cookie, and the
 * session's CSRF token on every request that changes state. Failures become `ApiError`
 * carrying the server's `{ error: { code, message, fields } }`.
 */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly fields: Record<string, string> = {},
  ) {
    super(message);
  }

  /** The session is gone (expired, revoked, account disabled): the user must sign in again. */
  get signedOut(): boolean {
    return this.status === 401;
  }
}

const SAFE = new Set(['GET', 'HEAD']);
let csrfToken: string | null = null;
const signedOutListeners = new Set<(error: ApiError) => void>();

/** Remembers the CSRF token from a login, setup or `/api/me` response. */
export function setCsrfToken(token: string | null): void {
  csrfToken = token;
}

/** Called whenever any request learns that the session ended. */
export function onSignedOut(listener: (error: ApiError) => void): () => void {
  signedOutListeners.add(listener);
  return () => signedOutListeners.delete(listener);
}

export interface RequestOptions {
  /** Do not tell the signed-out listeners about a 401 (the caller handles it). */
  quiet?: boolean;
}

export async function api<T>(method: string, path: string, body?: unknown, options: RequestOptions = {}): Promise<T> {
  const headers: Record<string, string> = { accept: 'application/json' };
  if (body !== undefined) headers['content-type'] = 'application/json';
  if (!SAFE.has(method) && csrfToken) headers['x-csrf-token'] = csrfToken;
  let response: Response;
  try {
    response = await fetch(path, {
      method,
      headers,
      credentials: 'same-origin',
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  } catch {
    throw new ApiError(0, 'network', 'cannot reach the server; check your connection');
  }
  if (response.status === 204) return undefined as T;
  const text = await response.text();
  let parsed: unknown = null;
  try {
    parsed = text ? JSON.parse(text) : null;
  } catch {
    /* not JSON: handled below */
  }
  if (!response.ok) {
    const error = (parsed as { error?: { code?: string; message?: string; fields?: Record<string, string> } } | null)
      ?.error;
    const failure = new ApiError(
      response.status,
      error?.code ?? 'http_error',
      error?.message ?? `request failed (${response.status})`,
      error?.fields ?? {},
    );
    // A failed sign-in is an answer to show on the form, not a lost session.
    if (failure.signedOut && !options.quiet && path !== '/api/auth/login')
      for (const listener of signedOutListeners) listener(failure);
    throw failure;
  }
  return parsed as T;
}

export const get = <T>(path: string, options?: RequestOptions) => api<T>('GET', path, undefined, options);
export const post = <T>(path: string, body: unknown = {}) => api<T>('POST', path, body);

/** Query string from defined, non-empty values. */
export function query(params: Record<string, string | number | undefined | null>): string {
  const search = new URLSearchParams();
  for (const [key, value] of Object.entries(params)) {
    if (value !== undefined && value !== null && value !== '') search.set(key, String(value));
  }
  const text = search.toString();
  return text ? `?${text}` : '';
}
