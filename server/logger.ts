/**
 * Logs: JSON lines (pino) for machines, or readable lines (pino-pretty) for a person at a
 * terminal — `LOG_FORMAT=auto` picks by whether stdout is a terminal. Credentials never reach
 * a log line: the fields that could carry one are censored wherever they appear. The one
 * secret meant for the log is the first-run setup code (see main.ts).
 */
import { PinoPretty } from 'pino-pretty';
import { pino, type DestinationStream, type Logger } from 'pino';

export type LogFormat = 'auto' | 'json' | 'pretty';

/** Field names that may hold a credential, at the top of a log object or one level down. */
const SECRET_FIELDS = [
  'authorization',
  'cookie',
  'token',
  'password',
  'currentPassword',
  'newPassword',
  'secret',
  'previousSecret',
  'botToken',
  'privateKey',
  'csrfToken',
];

export function createLogger(level: string, format: LogFormat = 'json'): Logger {
  const pretty = format === 'pretty' || (format === 'auto' && process.stdout.isTTY === true);
  const options = {
    level,
    base: { service: 'signal-desk' },
    redact: {
      paths: [
        'req.headers.authorization',
        'req.headers.cookie',
        ...SECRET_FIELDS,
        ...SECRET_FIELDS.map((field) => `*.${field}`),
      ],
      censor: '[redacted]',
    },
  };
  if (!pretty) return pino(options);
  const stream: DestinationStream = PinoPretty({
    colorize: process.stdout.isTTY === true,
    translateTime: 'SYS:HH:MM:ss.l',
    ignore: 'pid,hostname,service',
    singleLine: true,
  });
  return pino(options, stream);
}
