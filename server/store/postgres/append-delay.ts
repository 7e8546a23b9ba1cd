/**
 * TEST-ONLY: widens the window in which an append holds the log lock, so tests can show
 * that concurrent publishers on several nodes still produce a gap-free, commit-ordered log.
 * Enabled only by `SIGNAL_DESK_TEST_APPEND_DELAY_MS=<max ms>`; never set it in production.
 * After the `UPDATE log_head … RETURNING seq` that takes the lock, the append transaction
 * pauses a random 0..max ms before it goes on to write the event and commit.
 */
import type {
  KyselyPlugin,
  PluginTransformQueryArgs,
  PluginTransformResultArgs,
  QueryResult,
  RootOperationNode,
  UnknownRow,
} from 'kysely';

export const APPEND_DELAY_ENV = 'SIGNAL_DESK_TEST_APPEND_DELAY_MS';

/** The configured maximum pause, or 0 when the hook is off. */
export function appendDelayFromEnv(env: NodeJS.ProcessEnv = process.env): number {
  const value = Number(env[APPEND_DELAY_ENV] ?? 0);
  return Number.isFinite(value) && value > 0 ? Math.min(value, 10_000) : 0;
}

export class AppendDelayPlugin implements KyselyPlugin {
  private readonly lockQueries = new WeakSet<object>();

  constructor(private readonly maxMs: number) {}

  transformQuery(args: PluginTransformQueryArgs): RootOperationNode {
    const { node } = args;
    if (node.kind === 'UpdateQueryNode' && JSON.stringify(node.table ?? null).includes('"log_head"')) {
      this.lockQueries.add(args.queryId);
    }
    return node;
  }

  async transformResult(args: PluginTransformResultArgs): Promise<QueryResult<UnknownRow>> {
    if (this.lockQueries.has(args.queryId)) {
      await new Promise((resolve) => setTimeout(resolve, Math.random() * this.maxMs));
    }
    return args.result;
  }
}
