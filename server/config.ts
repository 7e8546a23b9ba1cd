/** The one validated configuration, read from the environment at start. */
import { z } from 'zod';

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

const envSchema = z.object({
  PORT: z.coerce.number({ error: 'must be a number' }).int('must be a whole number').min(0).max(65535).default(3000),
  HOST: z.string().min(1).default('127.0.0.1'),
  DATABASE_URL: z
    .string()
    .default('sqlite:./data/signal-desk.db')
    .refine(
      (v) => /^sqlite:.+/.test(v) || /^postgres(ql)?:\/\/.+/.test(v),
      'must be sqlite:<path> or postgres://user@host:port/database',
    ),
  ALLOWED_ORIGINS: z
    .string()
    .default('')
    .transform((v) =>
      v
        .split(',')
        .map((s) => s.trim())
        .filter(Boolean),
    )
    .refine(
      (list) => list.every((o) => /^https?:\/\/[^/\s]+$/.test(o)),
      'must be a comma-separated list of origins like https://app.example.com',
    ),
  LOG_LEVEL: z.enum(LOG_LEVELS, { error: `must be one of ${LOG_LEVELS.join(', ')}` }).default('info'),
  LOG_FORMAT: z.enum(['auto', 'json', 'pretty'], { error: 'must be auto, json or pretty' }).default('auto'),
  SESSION_TTL_HOURS: z.coerce
    .number()
    .int()
    .min(1)
    .max(24 * 365)
    .default(24 * 14),
  TRUST_PROXY: z
    .enum(['true', 'false', '1', '0'], { error: 'must be true or false' })
    .default('false')
    .transform((v) => v === 'true' || v === '1'),
  COOKIE_SECURE: z.enum(['auto', 'true', 'false'], { error: 'must be auto, true or false' }).default('auto'),
  SIGNING_KEY: z
    .string()
    .optional()
    .refine((v) => v === undefined || v.includes('-----BEGIN PRIVATE KEY-----'), 'must be a PKCS#8 PEM private key'),
  SIGNING_KEY_FILE: z.string().min(1).optional(),
  MAX_CONNECTIONS_PER_ADDRESS: z.coerce
    .number({ error: 'must be a number' })
    .int('must be a whole number')
    .min(0, 'must be 0 (off) or more')
    .default(512),
  REQUEST_TIMEOUT_SECONDS: z.coerce
    .number({ error: 'must be a number' })
    .int('must be a whole number')
    .min(1, 'must be at least 1')
    .max(3600, 'must be at most 3600')
    .default(15),
  SLOW_CLIENT_TIMEOUT_SECONDS: z.coerce
    .number({ error: 'must be a number' })
    .int('must be a whole number')
    .min(1, 'must be at least 1')
    .max(3600, 'must be at most 3600')
    .default(30),
  DESTINATIONS_ALLOW_PRIVATE: z
    .enum(['true', 'false', '1', '0'], { error: 'must be true or false' })
    .default('false')
    .transform((v) => v === 'true' || v === '1'),
  DESTINATIONS_CA_FILE: z.string().min(1).optional(),
  TELEGRAM_API_URL: z
    .string()
    .default('https://api.telegram.org')
    .refine((v) => /^https?:\/\/[^/\s]+/.test(v), 'must be an http(s) URL like https://api.telegram.org'),
  PUBLIC_URL: z
    .string()
    .optional()
    .refine(
      (v) => v === undefined || /^https?:\/\/[^/\s]+/.test(v),
      'must be the URL people open, e.g. https://signals.example.com',
    ),
  PUSH_CONTACT: z
    .string()
    .optional()
    .refine(
      (v) => v === undefined || /^(mailto:\S+@\S+|https:\/\/\S+)$/.test(v),
      'must be mailto:you@example.com or an https:// URL',
    ),
  DELIVERY_TIMEOUT_SECONDS: z.coerce.number({ error: 'must be a number' }).int().min(1).max(120).default(10),
  DESTINATION_PAUSE_AFTER_HOURS: z.coerce
    .number({ error: 'must be a number' })
    .positive()
    .max(24 * 30)
    .default(24),
  DESTINATION_LEASE_SECONDS: z.coerce.number({ error: 'must be a number' }).int().min(2).max(600).default(30),
  SIGNAL_DESK_TEST_RETRY_SCALE: z.coerce.number().positive().max(1).default(1),
  METRICS_TOKEN: z
    .string()
    .optional()
    .refine((v) => v === undefined || v.length >= 16, 'must be at least 16 characters (it guards /metrics)'),
  AUTH_RATE_LIMIT: z.coerce
    .number({ error: 'must be a number' })
    .int('must be a whole number')
    .min(0, 'must be 0 (off) or more')
    .default(60),
});

export type Config = {
  port: number;
  host: string;
  databaseUrl: string;
  allowedOrigins: string[];
  logLevel: (typeof LOG_LEVELS)[number];
  /** JSON lines, readable lines, or (auto) readable when stdout is a terminal. */
  logFormat: 'auto' | 'json' | 'pretty';
  sessionTtlMs: number;
  trustProxy: boolean;
  cookieSecure: 'auto' | 'true' | 'false';
  /** The chain-head signing key (PEM) from the environment, if given. */
  signingKey?: string | undefined;
  /** A file holding the signing key, if given (see server/signing-key.ts for the default). */
  signingKeyFile?: string | undefined;
  /** Open TCP connections one client address may hold (0: no cap; not applied behind a proxy). */
  maxConnectionsPerAddress: number;
  /** Time a client has to send a whole request (headers and body). */
  requestTimeoutMs: number;
  /** A client that takes nothing from a replay for this long is disconnected (it resumes later). */
  slowClientTimeoutMs: number;
  /** Deliver to loopback and private addresses too (destinations inside your network). */
  destinationsAllowPrivate: boolean;
  /** Extra CA certificates (PEM file) trusted for destinations and push services. */
  destinationsCaFile?: string | undefined;
  telegramApiUrl: string;
  /** The URL people open the web app at, for links in messages. */
  publicUrl?: string | undefined;
  /** Contact push services may use (VAPID subject). */
  pushContact?: string | undefined;
  deliveryTimeoutMs: number;
  /** A destination failing this long is paused. */
  destinationPauseAfterMs: number;
  /** How long a node holds a destination without renewing; another takes over after it. */
  destinationLeaseMs: number;
  /** TEST-ONLY: shrinks the retry schedule of destinations. */
  retryScale: number;
  /** Bearer token that opens GET /metrics; without it the endpoint is off (404). */
  metricsToken?: string | undefined;
  /** Requests per minute one address may make to sign-in, setup and password change (0: no limit). */
  authRateLimit: number;
};

export class ConfigError extends Error {}

/** Reads and validates the configuration; throws a ConfigError naming every bad variable. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const parsed = envSchema.safeParse(Object.fromEntries(Object.entries(env).filter(([, v]) => v !== '')));
  if (!parsed.success) {
    const lines = parsed.error.issues.map((i) => `  ${i.path.join('.')}: ${i.message}`);
    throw new ConfigError(`invalid configuration:\n${lines.join('\n')}`);
  }
  const e = parsed.data;
  return {
    port: e.PORT,
    host: e.HOST,
    databaseUrl: e.DATABASE_URL,
    allowedOrigins: e.ALLOWED_ORIGINS,
    logLevel: e.LOG_LEVEL,
    logFormat: e.LOG_FORMAT,
    sessionTtlMs: e.SESSION_TTL_HOURS * 3600_000,
    trustProxy: e.TRUST_PROXY,
    cookieSecure: e.COOKIE_SECURE,
    authRateLimit: e.AUTH_RATE_LIMIT,
    metricsToken: e.METRICS_TOKEN,
    maxConnectionsPerAddress: e.MAX_CONNECTIONS_PER_ADDRESS,
    requestTimeoutMs: e.REQUEST_TIMEOUT_SECONDS * 1000,
    slowClientTimeoutMs: e.SLOW_CLIENT_TIMEOUT_SECONDS * 1000,
    destinationsAllowPrivate: e.DESTINATIONS_ALLOW_PRIVATE,
    destinationsCaFile: e.DESTINATIONS_CA_FILE,
    telegramApiUrl: e.TELEGRAM_API_URL.replace(/\/+$/, ''),
    publicUrl: e.PUBLIC_URL?.replace(/\/+$/, ''),
    pushContact: e.PUSH_CONTACT,
    deliveryTimeoutMs: e.DELIVERY_TIMEOUT_SECONDS * 1000,
    destinationPauseAfterMs: e.DESTINATION_PAUSE_AFTER_HOURS * 3_600_000,
    retryScale: e.SIGNAL_DESK_TEST_RETRY_SCALE,
    destinationLeaseMs: e.DESTINATION_LEASE_SECONDS * 1000,
    signingKey: e.SIGNING_KEY,
    signingKeyFile: e.SIGNING_KEY_FILE,
  };
}
