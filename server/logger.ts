/** Structured JSON logs (pino). Credentials never reach a log line. */
import { pino, type Logger } from 'pino';

export function createLogger(level: string): Logger {
  return pino({
    level,
    base: { service: 'signal-desk' },
    redact: {
      paths: ['req.headers.authorization', 'req.headers.cookie', 'token', 'password', '*.token', '*.password'],
      censor: '[redacted]',
    },
  });
}
