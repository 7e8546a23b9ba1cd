/** Every failure leaves the API as `{ error: { code, message, fields? } }` with the right status. */
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { ZodError } from 'zod';
import { fieldErrors } from '../../shared/field-errors.js';
import { AppError } from '../core/errors.js';
import { isDatabaseUnavailable } from '../store/unavailable.js';

export interface ErrorBody {
  error: { code: string; message: string; fields?: Record<string, string> };
}

const CODES_BY_STATUS: Record<number, string> = {
  400: 'bad_request',
  401: 'unauthorized',
  403: 'forbidden',
  404: 'not_found',
  405: 'method_not_allowed',
  406: 'not_acceptable',
  409: 'conflict',
  413: 'payload_too_large',
  415: 'unsupported_media_type',
  429: 'rate_limited',
  503: 'unavailable',
};

export function toErrorResponse(error: unknown): { status: number; body: ErrorBody } {
  if (error instanceof AppError) {
    return {
      status: error.status,
      body: { error: { code: error.code, message: error.message, ...(error.fields ? { fields: error.fields } : {}) } },
    };
  }
  if (error instanceof ZodError) {
    const fields = fieldErrors(error);
    const context = (error as ZodError & { validationContext?: string }).validationContext;
    const where = context === 'querystring' ? 'query' : context === 'params' ? 'path' : 'request body';
    return {
      status: 400,
      body: { error: { code: 'validation_failed', message: `the ${where} has invalid fields`, fields } },
    };
  }
  // Fastify's own client errors (a body cut short reads as ECONNRESET) are never an outage.
  const clientError = typeof (error as Partial<FastifyError>).statusCode === 'number';
  if (!clientError && isDatabaseUnavailable(error)) {
    return {
      status: 503,
      body: {
        error: {
          code: 'unavailable',
          message: 'the database is unavailable; try again shortly (repeat the same idempotencyKey to be safe)',
        },
      },
    };
  }
  const e = error as Partial<FastifyError>;
  const status = typeof e.statusCode === 'number' && e.statusCode >= 400 && e.statusCode < 500 ? e.statusCode : 500;
  if (status === 500) return { status, body: { error: { code: 'internal', message: 'internal error' } } };
  const code =
    e.code === 'FST_ERR_CTP_INVALID_JSON_BODY' || e.code === 'FST_ERR_CTP_EMPTY_JSON_BODY'
      ? 'invalid_json'
      : (CODES_BY_STATUS[status] ?? 'bad_request');
  const message =
    status === 413 ? 'request body is too large' : e.message ? e.message.replace(/^FST_\w+: /, '') : 'bad request';
  return { status, body: { error: { code, message } } };
}

/**
 * A request's path as a log line may show it: without the query, and without the secret an
 * inlet's address carries (`/hooks/tv/<secret>` → `/hooks/tv/[secret]`).
 */
export function loggablePath(url: string): string {
  return (url.split('?')[0] ?? '').replace(/^\/hooks\/([^/]+)\/[^/]+/, '/hooks/$1/[secret]');
}

export function errorHandler(error: unknown, request: FastifyRequest, reply: FastifyReply): void {
  if (request.raw.destroyed && !request.raw.complete) {
    // The client went away mid-request: nobody reads an answer, and nothing is wrong here.
    request.log.info({ reason: 'client closed the request', url: loggablePath(request.url) }, 'request aborted');
    void reply.status(400).send({ error: { code: 'aborted', message: 'the client closed the request' } });
    return;
  }
  const { status, body } = toErrorResponse(error);
  const line = { method: request.method, url: loggablePath(request.url), status, reason: body.error.code };
  // A refusal is the client's business: one short line; a failure of ours: the whole error.
  if (status >= 500) request.log.error({ ...line, err: error }, 'request failed');
  else request.log.info(line, 'request refused');
  if (error instanceof AppError && error.retryAfterSeconds !== undefined) {
    void reply.header('retry-after', String(error.retryAfterSeconds));
  } else if (status === 503) {
    void reply.header('retry-after', '2');
  }
  void reply.status(status).send(body);
}
