/**
 * Reading an export file (NDJSON or CSV) as a stream of events, one line at a time, so a
 * file of any size is checked and imported in constant memory.
 */
import { createReadStream } from 'node:fs';
import { open } from 'node:fs/promises';
import { extname } from 'node:path';
import { createInterface } from 'node:readline';
import type { StoredEvent } from '../../shared/events.js';
import {
  checkCsvHeader,
  decodeCsvFields,
  decodeNdjsonLine,
  DecodeError,
  splitCsvRecord,
  type ExportFormat,
} from '../core/event-codec.js';
import { CliError } from './cli-error.js';

/** The format a file's extension names, or else the one its first bytes look like. */
export async function detectFormat(file: string): Promise<ExportFormat> {
  const ext = extname(file).toLowerCase();
  if (ext === '.csv') return 'csv';
  if (ext === '.ndjson' || ext === '.jsonl') return 'ndjson';
  let handle;
  try {
    handle = await open(file, 'r');
  } catch (error) {
    throw new CliError(`cannot read ${file}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
  }
  try {
    const { buffer, bytesRead } = await handle.read(Buffer.alloc(64), 0, 64, 0);
    const head = buffer
      .subarray(0, bytesRead)
      .toString('utf8')
      .replace(/^\uFEFF/, '')
      .trimStart();
    if (head.startsWith('{')) return 'ndjson';
    if (head.startsWith('seq,')) return 'csv';
    if (head === '') return 'ndjson';
    throw new CliError(`${file} is neither an NDJSON nor a CSV export of signal-desk`);
  } finally {
    await handle.close();
  }
}

export interface FileEvent {
  /** 1-based line where the event's record starts. */
  line: number;
  event: StoredEvent;
}

/** Yields the file's events in file order; a malformed record throws a CliError naming its line. */
export async function* readEventFile(file: string, format: ExportFormat): AsyncGenerator<FileEvent> {
  const stream = createReadStream(file, { encoding: 'utf8' });
  const lines = createInterface({ input: stream, crlfDelay: Infinity });
  let lineNo = 0;
  let headerSeen = format === 'ndjson';
  let pending = '';
  let pendingStart = 0;
  try {
    for await (const raw of lines) {
      lineNo++;
      const line = lineNo === 1 ? raw.replace(/^\uFEFF/, '') : raw;
      try {
        if (format === 'ndjson') {
          if (line.trim() === '') continue;
          yield { line: lineNo, event: decodeNdjsonLine(line) };
          continue;
        }
        if (pending === '' && line === '') continue;
        if (pending === '') pendingStart = lineNo;
        const text = pending === '' ? line : `${pending}\n${line}`;
        const fields = splitCsvRecord(text);
        if (!fields) {
          pending = text;
          continue;
        }
        pending = '';
        if (!headerSeen) {
          checkCsvHeader(fields);
          headerSeen = true;
          continue;
        }
        yield { line: pendingStart, event: decodeCsvFields(fields) };
      } catch (error) {
        if (error instanceof DecodeError) {
          throw new CliError(`${file} line ${format === 'csv' ? pendingStart : lineNo}: ${error.message}`);
        }
        throw error;
      }
    }
    if (pending !== '') throw new CliError(`${file} line ${pendingStart}: a quoted CSV field is never closed`);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code && !(error instanceof CliError)) {
      throw new CliError(`cannot read ${file}: ${(error as NodeJS.ErrnoException).code}`);
    }
    throw error;
  } finally {
    lines.close();
    stream.destroy();
  }
}
