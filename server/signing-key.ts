/**
 * Where the Ed25519 key that signs chain heads lives, and how it is loaded.
 *
 * - `SIGNING_KEY` (a PKCS#8 PEM in the environment) or `SIGNING_KEY_FILE` (a path): the
 *   operator's own key; every node of a cluster must be given the same one.
 * - Otherwise, on SQLite, a file `signing-key.pem` beside the database, created 0600 on
 *   first start: the database file, its WAL and its backups hold no private key. A key an
 *   older version kept in the database is moved out into that file.
 * - Otherwise (PostgreSQL without either setting), the database holds it, as every node
 *   must find the same key there; the database server's access control guards it.
 *
 * Whatever the place, the *public* key of every key ever used stays in the database, with
 * when it was retired, so heads signed before a rotation keep verifying.
 */
import { chmodSync, existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { createPrivateKey, createPublicKey, type KeyObject } from 'node:crypto';
import { dirname, join } from 'node:path';
import { uuidv7 } from 'uuidv7';
import { generateSigningKey, SIGNING_ALGORITHM } from './core/chain-signer.js';
import { sqlitePath } from './store/open-store.js';
import type { SigningKeyRecord, Store } from './store/store.js';

export type KeyLocation = { kind: 'env'; pem: string } | { kind: 'file'; path: string } | { kind: 'database' };

export interface KeySettings {
  databaseUrl: string;
  signingKey?: string | undefined;
  signingKeyFile?: string | undefined;
}

export const KEY_FILE_NAME = 'signing-key.pem';

export function keyLocation(settings: KeySettings): KeyLocation {
  if (settings.signingKey) return { kind: 'env', pem: settings.signingKey };
  if (settings.signingKeyFile) return { kind: 'file', path: settings.signingKeyFile };
  if (settings.databaseUrl.startsWith('sqlite:')) {
    return { kind: 'file', path: join(dirname(sqlitePath(settings.databaseUrl)), KEY_FILE_NAME) };
  }
  return { kind: 'database' };
}

export interface ActiveSigningKey {
  privateKey: KeyObject;
  /** SPKI PEM. */
  publicKeyPem: string;
}

function parsePrivateKey(pem: string, where: string): KeyObject {
  let key: KeyObject;
  try {
    key = createPrivateKey(pem);
  } catch (error) {
    throw new Error(`${where} is not a PEM private key: ${(error as Error).message}`);
  }
  if (key.asymmetricKeyType !== 'ed25519') {
    throw new Error(`${where} holds a ${key.asymmetricKeyType ?? 'non-asymmetric'} key; chain heads need Ed25519`);
  }
  return key;
}

function active(privateKey: KeyObject): ActiveSigningKey {
  return { privateKey, publicKeyPem: createPublicKey(privateKey).export({ type: 'spki', format: 'pem' }).toString() };
}

/** Writes a key file readable by its owner only; false when another process created it first. */
export function writeKeyFile(path: string, pem: string): boolean {
  try {
    writeFileSync(path, pem, { mode: 0o600, flag: 'wx' });
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw error;
  }
}

function readKeyFile(path: string): KeyObject {
  // A key file others could read is a key others may have copied: tighten it, then use it.
  if ((statSync(path).mode & 0o077) !== 0) chmodSync(path, 0o600);
  return parsePrivateKey(readFileSync(path, 'utf8'), `the signing key file ${path}`);
}

/** Makes sure the database lists this key's public half (the private half is kept elsewhere). */
async function register(store: Store, key: ActiveSigningKey): Promise<void> {
  const known = await store.signingKeys();
  if (known.some((k) => samePublicKey(k.publicKey, key.publicKeyPem))) return;
  await store.addSigningKey({
    id: uuidv7(),
    algorithm: SIGNING_ALGORITHM,
    publicKey: key.publicKeyPem,
    privateKey: null,
    createdAt: new Date().toISOString(),
    retiredAt: null,
  });
}

/** The active key kept in the database, created by the first node that finds none. */
async function databaseKey(store: Store): Promise<ActiveSigningKey> {
  let record = await store.signingKey();
  if (!record) {
    const pair = generateSigningKey();
    // Nodes starting together may all find none: one adds its key, and every one gets that one.
    record = await store.claimSigningKey({
      id: uuidv7(),
      algorithm: SIGNING_ALGORITHM,
      publicKey: pair.publicKeyPem,
      privateKey: pair.privateKeyPem,
      createdAt: new Date().toISOString(),
      retiredAt: null,
    });
  }
  if (!record?.privateKey) {
    throw new Error(
      'the active signing key is kept outside the database (a key file or SIGNING_KEY), ' +
        'but this node was given neither: set SIGNING_KEY_FILE or SIGNING_KEY',
    );
  }
  return active(parsePrivateKey(record.privateKey, `signing key ${record.id} in the database`));
}

/** A key older versions kept in the database, to move into the key file. */
function legacyKey(record: SigningKeyRecord | undefined): KeyObject | undefined {
  return record?.privateKey ? parsePrivateKey(record.privateKey, `signing key ${record.id}`) : undefined;
}

/**
 * The key an installation signs with, read from where it keeps it, creating nothing: for
 * moving an installation. Undefined when it has never signed a head.
 */
export async function readSigningKey(store: Store, location: KeyLocation): Promise<ActiveSigningKey | undefined> {
  if (location.kind === 'env') return active(parsePrivateKey(location.pem, 'SIGNING_KEY'));
  if (location.kind === 'file' && existsSync(location.path)) return active(readKeyFile(location.path));
  const moved = legacyKey(await store.signingKey());
  return moved && active(moved);
}

export function samePublicKey(a: string, b: string): boolean {
  try {
    return createPublicKey(a).equals(createPublicKey(b));
  } catch {
    return false;
  }
}

/** Loads the key this node signs with, creating it in its place on first start. */
export async function openSigningKey(store: Store, location: KeyLocation): Promise<ActiveSigningKey> {
  if (location.kind === 'database') return databaseKey(store);
  if (location.kind === 'env') {
    const key = active(parsePrivateKey(location.pem, 'SIGNING_KEY'));
    await register(store, key);
    return key;
  }
  const { path } = location;
  if (!existsSync(path)) {
    const current = await store.signingKey();
    const moved = legacyKey(current);
    const pem = moved ? moved.export({ type: 'pkcs8', format: 'pem' }).toString() : generateSigningKey().privateKeyPem;
    writeKeyFile(path, pem);
    if (moved && current) await store.forgetPrivateKey(current.id);
  }
  const key = active(readKeyFile(path));
  await register(store, key);
  return key;
}
