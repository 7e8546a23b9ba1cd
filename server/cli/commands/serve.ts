/** `serve` and `migrate`. */
import { Command } from 'commander';
import { cliConfig, openCliStore, redactUrl } from '../context.js';

export function serveCommand(): Command {
  return new Command('serve')
    .description('run the server (HTTP, Socket.IO, SSE, web app); configured by PORT, HOST, DATABASE_URL, …')
    .action(async () => {
      // Loaded on use: the server's modules are most of the CLI's start-up time.
      const { serve } = await import('../../main.js');
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
