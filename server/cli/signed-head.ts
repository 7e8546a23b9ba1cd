/**
 * `verify --head`: a head signed by the server (`GET /api/chain/head`) checked against the
 * public key (`GET /api/chain/key`) and against the events being verified. The signature
 * proves the server vouched for (channel, seq, hash) at `signedAt`; the events then hold
 * that history only if the channel's event at `seq` carries exactly that hash.
 */
import { existsSync, readFileSync } from 'node:fs';
import type { StoredEvent } from '../../shared/events.js';
import { publicKeyInfo, verifySignedHead, type SignedHead } from '../core/chain-signer.js';
import { CliError } from './cli-error.js';

function readJson(file: string, what: string): unknown {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    throw new CliError(
      `cannot read ${what} ${file}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`,
    );
  }
  try {
    return JSON.parse(text);
  } catch {
    throw new CliError(`${what} ${file} is not JSON`);
  }
}

function isSignedHead(value: unknown): value is SignedHead {
  const v = value as Partial<SignedHead> | null;
  return (
    typeof v === 'object' &&
    v !== null &&
    typeof v.channel === 'string' &&
    Number.isSafeInteger(v.seq) &&
    typeof v.hash === 'string' &&
    typeof v.createdAt === 'string' &&
    typeof v.signedAt === 'string' &&
    typeof v.signature === 'string'
  );
}

export interface HeadFile {
  heads: SignedHead[];
  /** Public key material carried in the file itself, when it has any. */
  key?: string;
}

/** A saved `GET /api/chain/head` answer, one signed head, or an array of them. */
export function readHeadFile(file: string): HeadFile {
  const json = readJson(file, 'signed head file');
  const body = json as { heads?: unknown; key?: { pem?: unknown; raw?: unknown } };
  const list: unknown[] = Array.isArray(json) ? json : Array.isArray(body.heads) ? body.heads : [json];
  if (list.length === 0) throw new CliError(`${file} holds no signed heads`);
  const bad = list.findIndex((h) => !isSignedHead(h));
  if (bad >= 0) {
    throw new CliError(
      `${file}: entry ${bad + 1} is not a signed head (channel, seq, hash, createdAt, signedAt, signature)`,
    );
  }
  const keyText =
    typeof body.key?.pem === 'string' ? body.key.pem : typeof body.key?.raw === 'string' ? body.key.raw : undefined;
  return { heads: list as SignedHead[], ...(keyText ? { key: keyText } : {}) };
}

/** `--key`: a file holding a PEM, raw base64 or a saved `GET /api/chain/key` answer; or the base64 itself. */
export function readPublicKey(value: string): string {
  const text = existsSync(value) ? readFileSync(value, 'utf8').trim() : value.trim();
  let key = text;
  if (text.startsWith('{')) {
    const json = JSON.parse(text) as { pem?: unknown; raw?: unknown };
    key = typeof json.pem === 'string' ? json.pem : typeof json.raw === 'string' ? json.raw : '';
  }
  try {
    publicKeyInfo(key);
  } catch (error) {
    throw new CliError(
      `--key is not an Ed25519 public key (PEM, raw base64 or GET /api/chain/key JSON): ${(error as Error).message}`,
    );
  }
  return key;
}

/** Checks each head's signature and key; throws a CliError naming the first that fails. */
export function checkSignatures(heads: readonly SignedHead[], key: string): void {
  const fingerprint = publicKeyInfo(key).fingerprint;
  for (const head of heads) {
    if (head.keyFingerprint && head.keyFingerprint !== fingerprint) {
      throw new CliError(
        `the signed head of ${head.channel} at seq ${head.seq} was signed by key ${head.keyFingerprint}, not by the given key ${fingerprint}`,
      );
    }
    if (!verifySignedHead(head, head.signature, key)) {
      throw new CliError(
        `the signature of the head of ${head.channel} at seq ${head.seq} does not verify with key ${fingerprint}`,
      );
    }
  }
}

/** Follows the events as they are verified and says, at the end, whether each signed head is in them. */
export class HeadTracker {
  private readonly lastUpTo = new Map<string, StoredEvent>();

  constructor(private readonly heads: readonly SignedHead[]) {}

  observe(event: StoredEvent): void {
    for (const head of this.heads) {
      if (head.channel === event.channel && event.seq <= head.seq) this.lastUpTo.set(this.key(head), event);
    }
  }

  private key(head: SignedHead): string {
    return `${head.channel}@${head.seq}`;
  }

  /** One line per head: null when it holds, or why not, naming the event. */
  results(): Array<{ head: SignedHead; problem: string | null }> {
    return this.heads.map((head) => {
      const last = this.lastUpTo.get(this.key(head));
      if (!last)
        return { head, problem: `no event of channel ${head.channel} up to seq ${head.seq}; the signed head has one` };
      const name = `event seq ${last.seq} (id ${last.id}, channel ${last.channel})`;
      if (last.seq !== head.seq) {
        return { head, problem: `${name} is the last up to the signed head at seq ${head.seq}: events are missing` };
      }
      if (last.hash !== head.hash) {
        return {
          head,
          problem: `${name}: hash ${last.hash.slice(0, 16)}… differs from the signed head's ${head.hash.slice(0, 16)}…: the history up to there was rewritten after ${head.signedAt}`,
        };
      }
      return { head, problem: null };
    });
  }
}
