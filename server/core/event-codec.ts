/**
 * The export formats of the log, shared by `signal-desk export|import|verify` and
 * `GET /api/export`. Both formats carry every hashed field verbatim, so the chain can be
 * rebuilt and verified from a file alone:
 * - NDJSON: one StoredEvent as JSON per line.
 * - CSV (RFC 4180): a header, then one row per event; `data` is a JSON column.
 */
import { EVENT_TYPES, type StoredEvent } from '../../shared/events.js';
import type { ChannelScope, Store } from '../store/store.js';

export const EXPORT_FORMATS = ['ndjson', 'csv'] as const;
export type ExportFormat = (typeof EXPORT_FORMATS)[number];

export const CSV_COLUMNS = [
  'seq',
  'id',
  'type',
  'channel',
  'signalId',
  'author',
  'createdAt',
  'prevHash',
  'hash',
  'data',
] as const;

export const CONTENT_TYPES: Record<ExportFormat, string> = {
  ndjson: 'application/x-ndjson; charset=utf-8',
  csv: 'text/csv; charset=utf-8',
};

function csvField(value: string): string {
  return /[",\r\n]/.test(value) ? `"${value.replace(/"/g, '""')}"` : value;
}

/** The text before the first event: the CSV header, nothing for NDJSON. */
export function exportPreamble(format: ExportFormat): string {
  return format === 'csv' ? `${CSV_COLUMNS.join(',')}\r\n` : '';
}

export function encodeEvent(event: StoredEvent, format: ExportFormat): string {
  if (format === 'ndjson') return `${JSON.stringify(event)}\n`;
  const cells = CSV_COLUMNS.map((column) =>
    column === 'data' ? JSON.stringify(event.data) : column === 'seq' ? String(event.seq) : event[column],
  );
  return `${cells.map(csvField).join(',')}\r\n`;
}

/** Why a line of an export is not an event. */
export class DecodeError extends Error {}

const STRING_FIELDS = ['id', 'channel', 'signalId', 'author', 'createdAt', 'prevHash', 'hash'] as const;

/** Checks the shape of a parsed record and returns it as a StoredEvent (content is the verifier's job). */
export function toStoredEvent(value: unknown): StoredEvent {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new DecodeError('not a JSON object');
  const record = value as Record<string, unknown>;
  if (!Number.isSafeInteger(record.seq)) throw new DecodeError('seq is not a whole number');
  for (const field of STRING_FIELDS) {
    if (typeof record[field] !== 'string') throw new DecodeError(`${field} is missing or not a string`);
  }
  if (!(EVENT_TYPES as readonly unknown[]).includes(record.type)) {
    throw new DecodeError(`type must be one of ${EVENT_TYPES.join(', ')}`);
  }
  if (typeof record.data !== 'object' || record.data === null || Array.isArray(record.data)) {
    throw new DecodeError('data is not a JSON object');
  }
  const extra = Object.keys(record).filter((k) => !(CSV_COLUMNS as readonly string[]).includes(k));
  if (extra.length > 0) throw new DecodeError(`unexpected field ${extra.join(', ')}`);
  return record as unknown as StoredEvent;
}

export function decodeNdjsonLine(line: string): StoredEvent {
  let parsed: unknown;
  try {
    parsed = JSON.parse(line);
  } catch (error) {
    throw new DecodeError(`not valid JSON (${(error as Error).message})`);
  }
  return toStoredEvent(parsed);
}

/**
 * Splits one CSV record into its fields. Returns null when the text ends inside a quoted
 * field, so the caller appends the next line and tries again.
 */
export function splitCsvRecord(text: string): string[] | null {
  const fields: string[] = [];
  let field = '';
  let quoted = false;
  let i = 0;
  while (i < text.length) {
    const ch = text[i]!;
    if (quoted) {
      if (ch === '"' && text[i + 1] === '"') {
        field += '"';
        i += 2;
        continue;
      }
      if (ch === '"') quoted = false;
      else field += ch;
    } else if (ch === '"' && field === '') {
      quoted = true;
    } else if (ch === ',') {
      fields.push(field);
      field = '';
    } else {
      field += ch;
    }
    i++;
  }
  if (quoted) return null;
  fields.push(field);
  return fields;
}

export function checkCsvHeader(fields: readonly string[]): void {
  if (fields.join(',') !== CSV_COLUMNS.join(',')) {
    throw new DecodeError(`the CSV header must be ${CSV_COLUMNS.join(',')}`);
  }
}

export function decodeCsvFields(fields: readonly string[]): StoredEvent {
  if (fields.length !== CSV_COLUMNS.length) {
    throw new DecodeError(`has ${fields.length} columns, expected ${CSV_COLUMNS.length}`);
  }
  const record: Record<string, unknown> = {};
  CSV_COLUMNS.forEach((column, index) => {
    const cell = fields[index] ?? '';
    if (column === 'seq') record.seq = /^\d+$/.test(cell) ? Number(cell) : Number.NaN;
    else if (column === 'data') {
      try {
        record.data = JSON.parse(cell);
      } catch {
        throw new DecodeError('the data column is not valid JSON');
      }
    } else record[column] = cell;
  });
  return toStoredEvent(record);
}

/**
 * The log in ascending seq, page by page, so a caller never holds more than one page.
 * `upTo` fixes the end at the head when reading starts: an export is a snapshot.
 */
export async function* logPages(
  store: Store,
  options: {
    channels: ChannelScope;
    upTo?: number;
    pageSize?: number;
    /** Awaited before each page: a server reader waits for its turn here (see backlog.ts). */
    beforePage?: () => Promise<void>;
  },
): AsyncGenerator<StoredEvent[]> {
  const limit = options.pageSize ?? 1000;
  const upTo = options.upTo ?? (await store.headSeq());
  let after = 0;
  for (;;) {
    await options.beforePage?.();
    const page = await store.readEvents({ after, upTo, limit, channels: options.channels });
    if (page.length === 0) return;
    yield page;
    after = page[page.length - 1]!.seq;
    if (page.length < limit) return;
  }
}
