/**
 * Signed chain heads. The server signs each channel's head — the seq and hash of its newest
 * event — with an Ed25519 key and publishes the public key. Whoever keeps a signed head can
 * later prove what the channel's history was at that moment: an export whose chain up to
 * `head.seq` does not end at `head.hash` has been changed since, however carefully its
 * hashes were recomputed.
 *
 * Pure apart from node:crypto, so the CLI and tests use it without a server or database.
 * What is signed is the canonical JSON (RFC 8785) of exactly
 * `{channel, seq, hash, createdAt, signedAt}`; anyone can check a signature with any
 * Ed25519 implementation from that text, the base64 signature and the public key.
 */
import {
  createHash,
  createPrivateKey,
  createPublicKey,
  generateKeyPairSync,
  sign,
  verify,
  type KeyObject,
} from 'node:crypto';
import { canonicalJson } from '../../shared/canonical-json.js';
import type { StoredEvent } from '../../shared/events.js';
import { ChainVerifier, type ChainProblem } from './hash-chain.js';

export const SIGNING_ALGORITHM = 'Ed25519';

/** A channel's newest event: the point a signature vouches for. */
export interface ChainHead {
  channel: string;
  seq: number;
  hash: string;
  /** createdAt of the event at `seq`. */
  createdAt: string;
}

/** The exact members a signature covers. */
export interface HeadStatement extends ChainHead {
  /** When the server signed: it vouches the channel held this head at that time. */
  signedAt: string;
}

export interface SignedHead extends HeadStatement {
  algorithm: typeof SIGNING_ALGORITHM;
  /** Ed25519 signature of `headPayload(head)`, base64. */
  signature: string;
  /** `publicKeyInfo(key).fingerprint` of the key that signed. */
  keyFingerprint: string;
}

export interface PublicKeyInfo {
  algorithm: typeof SIGNING_ALGORITHM;
  /** SPKI PEM. */
  pem: string;
  /** The 32-byte raw public key, base64. */
  raw: string;
  /** `sha256:` + hex sha256 of the raw key: short enough to compare by eye or publish elsewhere. */
  fingerprint: string;
}

export interface SigningKeyPair {
  /** PKCS#8 PEM; whoever holds it can sign heads as this server. */
  privateKeyPem: string;
  publicKeyPem: string;
}

export function generateSigningKey(): SigningKeyPair {
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  return {
    privateKeyPem: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
    publicKeyPem: publicKey.export({ type: 'spki', format: 'pem' }).toString(),
  };
}

/**
 * A public key from a KeyObject, an SPKI PEM, or the raw 32 bytes in base64 (as
 * `GET /api/chain/key` gives them). Throws on anything else.
 */
export function toPublicKey(key: KeyObject | string): KeyObject {
  if (typeof key !== 'string') return key.type === 'private' ? createPublicKey(key) : key;
  const text = key.trim();
  if (text.startsWith('-----BEGIN')) return createPublicKey(text);
  const raw = Buffer.from(text, 'base64');
  if (raw.length !== 32) throw new TypeError('a raw Ed25519 public key is 32 bytes (44 base64 characters)');
  return createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x: raw.toString('base64url') }, format: 'jwk' });
}

export function publicKeyInfo(key: KeyObject | string): PublicKeyInfo {
  const publicKey = toPublicKey(key);
  const jwk = publicKey.export({ format: 'jwk' });
  if (jwk.crv !== 'Ed25519' || !jwk.x) throw new TypeError('not an Ed25519 public key');
  const raw = Buffer.from(jwk.x, 'base64url');
  return {
    algorithm: SIGNING_ALGORITHM,
    pem: publicKey.export({ type: 'spki', format: 'pem' }).toString(),
    raw: raw.toString('base64'),
    fingerprint: `sha256:${createHash('sha256').update(raw).digest('hex')}`,
  };
}

/** The text a signature covers: canonical JSON of the five statement members, nothing else. */
export function headPayload(head: HeadStatement): string {
  const { channel, seq, hash, createdAt, signedAt } = head;
  return canonicalJson({ channel, seq, hash, createdAt, signedAt });
}

export function signHead(head: ChainHead, privateKey: KeyObject | string, signedAt: Date | string): SignedHead {
  const key = typeof privateKey === 'string' ? createPrivateKey(privateKey) : privateKey;
  const statement: HeadStatement = {
    channel: head.channel,
    seq: head.seq,
    hash: head.hash,
    createdAt: head.createdAt,
    signedAt: typeof signedAt === 'string' ? signedAt : signedAt.toISOString(),
  };
  return {
    ...statement,
    algorithm: SIGNING_ALGORITHM,
    signature: sign(null, Buffer.from(headPayload(statement)), key).toString('base64'),
    keyFingerprint: publicKeyInfo(createPublicKey(key)).fingerprint,
  };
}

/**
 * True only when `signature` (base64) is `publicKey`'s Ed25519 signature of exactly this
 * head's statement. Never throws: a malformed key, signature or head is simply not verified.
 */
export function verifySignedHead(head: HeadStatement, signature: string, publicKey: KeyObject | string): boolean {
  try {
    const bytes = Buffer.from(signature, 'base64');
    if (bytes.length !== 64) return false;
    return verify(null, Buffer.from(headPayload(head)), toPublicKey(publicKey), bytes);
  } catch {
    return false;
  }
}

export type HeadCheck =
  | {
      ok: true;
      /** Events of the head's channel checked, up to and including `head.seq`. */
      checked: number;
    }
  | {
      ok: false;
      reason: string;
      /** The first bad event when one can be named (the chain breaks, or the event at head.seq differs). */
      problem?: ChainProblem;
    };

/**
 * Whether `events` (ascending seq; other channels and events after `head.seq` are ignored)
 * hold the history `head` vouches for: the channel's chain verifies from its genesis, and its
 * event at `head.seq` is the last one up to there and carries `head.hash`. Since every hash
 * covers the one before, that proves nothing up to `head.seq` was removed, altered,
 * reordered or back-dated since the head was signed. Check the signature separately with
 * `verifySignedHead`.
 */
export function verifyEventsAgainstHead(events: Iterable<StoredEvent>, head: ChainHead): HeadCheck {
  const verifier = new ChainVerifier(false);
  let last: StoredEvent | undefined;
  let checked = 0;
  for (const event of events) {
    if (event.channel !== head.channel || event.seq > head.seq) continue;
    const problem = verifier.check(event);
    if (problem) return { ok: false, reason: `seq ${problem.seq} (${problem.id}): ${problem.reason}`, problem };
    last = event;
    checked++;
  }
  if (!last) {
    return { ok: false, reason: `no event of channel ${head.channel} up to seq ${head.seq}; the signed head has one` };
  }
  if (last.seq !== head.seq) {
    return {
      ok: false,
      reason: `channel ${head.channel} ends at seq ${last.seq} but the signed head is at seq ${head.seq}: events are missing`,
      problem: { seq: last.seq, id: last.id, channel: last.channel, reason: 'last event before the signed head' },
    };
  }
  if (last.hash !== head.hash) {
    return {
      ok: false,
      reason:
        `channel ${head.channel} at seq ${head.seq} has hash ${last.hash.slice(0, 12)}…, the signed head ` +
        `${head.hash.slice(0, 12)}…: its history up to there was rewritten after the head was signed`,
      problem: { seq: last.seq, id: last.id, channel: last.channel, reason: 'hash differs from the signed head' },
    };
  }
  return { ok: true, checked };
}
