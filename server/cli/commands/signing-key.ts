/**
 * `signing-key show|rotate`: the key that signs chain heads. Rotating makes a new key the one
 * that signs, where the installation keeps its key (a 0600 file, or the database), and retires
 * the old one: its public half stays listed (`GET /api/chain/keys`), so every head it signed
 * keeps verifying. Restart the servers afterwards; each loads the key when it starts.
 */
import { renameSync } from 'node:fs';
import { Command } from 'commander';
import { uuidv7 } from 'uuidv7';
import { generateSigningKey, publicKeyInfo, SIGNING_ALGORITHM } from '../../core/chain-signer.js';
import { keyLocation, readSigningKey, samePublicKey, writeKeyFile } from '../../signing-key.js';
import { CliError } from '../cli-error.js';
import { withStore } from '../context.js';

export function signingKeyCommand(): Command {
  const command = new Command('signing-key').description('show or rotate the key that signs chain heads');
  command
    .command('show')
    .description('where the key is kept, its fingerprint, and every key that signed before it')
    .action(async () => {
      await withStore(
        async (store, config) => {
          const location = keyLocation(config);
          const key = await readSigningKey(store, location);
          const where =
            location.kind === 'file' ? location.path : location.kind === 'env' ? 'SIGNING_KEY' : 'the database';
          console.log(`kept in: ${where}`);
          console.log(
            `active: ${key ? publicKeyInfo(key.publicKeyPem).fingerprint : 'none yet (made on first start)'}`,
          );
          for (const record of await store.signingKeys()) {
            const state = record.retiredAt ? `retired ${record.retiredAt}` : 'not retired';
            console.log(`  ${publicKeyInfo(record.publicKey).fingerprint}  created ${record.createdAt}, ${state}`);
          }
        },
        { mustExist: true },
      );
    });
  command
    .command('rotate')
    .description('make a new key the one that signs; the old one is retired, its signed heads keep verifying')
    .action(async () => {
      await withStore(
        async (store, config) => {
          const location = keyLocation(config);
          if (location.kind === 'env') {
            throw new CliError(
              'the key comes from SIGNING_KEY: put a new PEM there (see docs/OPERATIONS.md) and restart',
            );
          }
          const old = await readSigningKey(store, location);
          const pair = generateSigningKey();
          const now = new Date().toISOString();
          // The new key is listed first, so a server that starts meanwhile finds a consistent pair.
          await store.addSigningKey({
            id: uuidv7(),
            algorithm: SIGNING_ALGORITHM,
            publicKey: pair.publicKeyPem,
            privateKey: location.kind === 'database' ? pair.privateKeyPem : null,
            createdAt: now,
            retiredAt: null,
          });
          if (location.kind === 'file') {
            const next = `${location.path}.next-${process.pid}`;
            writeKeyFile(next, pair.privateKeyPem);
            renameSync(next, location.path);
          }
          for (const record of await store.signingKeys()) {
            if (!record.retiredAt && !samePublicKey(record.publicKey, pair.publicKeyPem)) {
              await store.retireSigningKey(record.id, now);
              if (record.privateKey) await store.forgetPrivateKey(record.id);
            }
          }
          const from = old ? publicKeyInfo(old.publicKeyPem).fingerprint : 'none';
          console.log(`rotated the signing key: ${from} → ${publicKeyInfo(pair.publicKeyPem).fingerprint}`);
          console.log('restart every server so it signs with the new key');
        },
        { mustExist: true },
      );
    });
  return command;
}
