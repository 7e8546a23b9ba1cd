/** The bus contract against the in-process bus and two PostgreSQL LISTEN/NOTIFY buses (two nodes). */
import pg from 'pg';
import { pino } from 'pino';
import { postgresDatabase, skipWithoutPostgres } from '../../test/helpers/databases.js';
import { runBusContract } from './bus.contract.js';
import { MemoryBus } from './memory-bus.js';
import { PgNotifyBus } from './pg-notify-bus.js';

runBusContract('memory', async () => {
  const bus = new MemoryBus();
  return { nodes: [bus], destroy: () => bus.close() };
});

runBusContract(
  'postgres',
  async () => {
    const database = await postgresDatabase();
    const logger = pino({ level: 'silent' });
    const nodes = [new PgNotifyBus(database.url, logger), new PgNotifyBus(database.url, logger)];
    await Promise.all(nodes.map((n) => n.whenReady()));
    return {
      nodes,
      async cutTransport() {
        const admin = new pg.Client({ connectionString: database.url });
        await admin.connect();
        try {
          const { rowCount } = await admin.query(
            `SELECT pg_terminate_backend(pid) FROM pg_stat_activity
             WHERE datname = current_database() AND application_name = 'signal-desk-listen'`,
          );
          if (rowCount !== nodes.length) throw new Error(`expected ${nodes.length} listeners, found ${rowCount}`);
        } finally {
          await admin.end();
        }
      },
      async destroy() {
        await Promise.all(nodes.map((n) => n.close()));
        await database.drop();
      },
    };
  },
  { skip: skipWithoutPostgres },
);
