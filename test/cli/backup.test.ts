/**
 * `backup` of a live SQLite database while a server process is acknowledging publishes:
 * the copy restores to a database whose chain verifies and which holds every signal
 * acknowledged before the backup began.
 */
import assert from 'node:assert/strict';
import { copyFileSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { sqliteDatabase, tempDir, type TestDatabase } from '../helpers/databases.js';
import { PASSWORD, publish } from '../helpers/server.js';
import { cli, cliOk, loginAt, serveProcess, type ServeProcess } from './cli.js';

describe('signal-desk backup', () => {
  let db: TestDatabase;
  let dir: ReturnType<typeof tempDir>;
  let server: ServeProcess;
  let env: Record<string, string>;

  before(async () => {
    db = sqliteDatabase();
    dir = tempDir();
    env = { DATABASE_URL: db.url };
    await cliOk(['channel', 'add', '--slug', 'gold', '--name', 'Gold'], env);
    await cliOk(['user', 'add', '--email', 'admin@example.test', '--password', PASSWORD, '--role', 'admin'], env);
    server = await serveProcess(db.url);
  });
  after(async () => {
    await server.stop();
    await db.drop();
    dir.remove();
  });

  test('a backup taken while publishes run restores complete and verified', async () => {
    const admin = await loginAt(server.url, 'admin@example.test');
    const acknowledged: string[] = [];
    let running = true;
    let failure: unknown;
    const loop = (async () => {
      while (running) acknowledged.push((await publish(admin, 'gold')).id);
    })().catch((error: unknown) => (failure = error));
    while (acknowledged.length < 20 && !failure) await new Promise((r) => setTimeout(r, 20));

    const beforeBackup = [...acknowledged];
    const backupFile = join(dir.path, 'backup.db');
    const result = await cliOk(['backup', backupFile], env);
    const duringBackup = acknowledged.length - beforeBackup.length;
    running = false;
    await loop;
    assert.equal(failure, undefined);
    assert.ok(duringBackup > 0, 'publishes were acknowledged while the backup ran');
    assert.match(result.stdout, /integrity ok, chains verify/);

    // Restore = put the file in place of a database; then check it as an operator would.
    const restored = join(dir.path, 'restored.db');
    copyFileSync(backupFile, restored);
    const restoredEnv = { DATABASE_URL: `sqlite:${restored}` };
    assert.match((await cliOk(['verify'], restoredEnv)).stdout, /^OK database/m);
    const exportFile = join(dir.path, 'restored.ndjson');
    await cliOk(['export', '--out', exportFile], restoredEnv);
    const ids = new Set(
      readFileSync(exportFile, 'utf8')
        .split('\n')
        .filter(Boolean)
        .map((line) => (JSON.parse(line) as { id: string }).id),
    );
    const missing = beforeBackup.filter((id) => !ids.has(id));
    assert.deepEqual(missing, [], 'every signal acknowledged before the backup began is in it');
  });

  test('backup refuses to overwrite a file and reports a missing database', async () => {
    const existing = join(dir.path, 'existing.db');
    writeFileSync(existing, 'keep me');
    const [overwrite, absent] = await Promise.all([
      cli(['backup', existing], env),
      cli(['backup', join(dir.path, 'x.db')], { DATABASE_URL: `sqlite:${join(dir.path, 'absent.db')}` }),
    ]);
    assert.equal(overwrite.code, 1);
    assert.match(overwrite.stderr, /already exists/);
    assert.equal(readFileSync(existing, 'utf8'), 'keep me');
    assert.equal(absent.code, 1);
    assert.match(absent.stderr, /no database at/);
  });
});
