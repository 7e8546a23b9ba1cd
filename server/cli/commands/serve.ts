/** `serve` and `migrate`. */
import { Command } from 'commander';
import { serve } from '../../main.js';
import { cliConfig, openCliStore, redactUrl } from '../context.js';

export function serveCommand(): Command {
  return new Command('serve')
    .description('run the server (HTTP, Socket.IO, SSE, web app); configured by PORT, HOST, DATABASE_URL, …')
    .action(async () => {
      await serve(cliConfig());
    });
}

export function migrateCommand(): Command {
  return new Command('migrate').description('create or upgrade the database schema').action(async () => {
    const config = cliConfig();
    let applied = 0;
    const store = await openCliStore(config.databaseUrl, { onMigrated: (n) => (applied = n) });
    try {
      console.log(`database ${redactUrl(config.databaseUrl)} is up to date (${applied} migration(s) applied now)`);
    } finally {
      await store.close();
    }
  });
}
