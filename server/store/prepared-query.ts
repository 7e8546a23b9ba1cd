/**
 * Queries whose shape never changes, built and compiled by Kysely once and then run with new
 * values. On the hot paths (authenticating a request, appending an event) building and
 * compiling the query tree cost more than SQLite took to run it; this keeps Kysely's typed
 * builder and its dialect's SQL, and pays for them once per process.
 *
 * A value is named with `param('name')` while building; compiling leaves a placeholder per
 * value, in order, and `run` fills them from the values given.
 */
import type { CompiledQuery, Compilable, QueryResult, QueryId, RootOperationNode } from 'kysely';
import { ask } from './query-steps.js';

const MARK = '\u0000param:';

/** Anything that runs a compiled query: the Kysely instance or an open transaction. */
export interface QueryRunner {
  executeQuery<R>(query: CompiledQuery<R>): Promise<QueryResult<R>>;
}

type Slot<V> = { name: keyof V } | { constant: unknown };

export class PreparedQuery<V extends object, Row> {
  private readonly sql: string;
  private readonly query: RootOperationNode;
  private readonly queryId: QueryId;
  private readonly slots: ReadonlyArray<Slot<V>>;

  constructor(build: (param: <K extends keyof V & string>(name: K) => V[K]) => Compilable<Row>) {
    const compiled = build((name) => `${MARK}${name}` as never).compile();
    if (compiled.sql.includes(MARK)) throw new Error(`a param() was compiled into the SQL text: ${compiled.sql}`);
    this.sql = compiled.sql;
    // Plugins match a result to its query by these (the test-only append delay does).
    this.query = compiled.query;
    this.queryId = compiled.queryId;
    this.slots = compiled.parameters.map((value) =>
      typeof value === 'string' && value.startsWith(MARK)
        ? { name: value.slice(MARK.length) as keyof V }
        : { constant: value },
    );
  }

  /** The query with `values` filled in. */
  with(values: V): CompiledQuery<Row> {
    const parameters = this.slots.map((slot) => ('name' in slot ? values[slot.name] : slot.constant));
    return { sql: this.sql, query: this.query, queryId: this.queryId, parameters };
  }

  run(runner: QueryRunner, values: V): Promise<QueryResult<Row>> {
    return runner.executeQuery(this.with(values));
  }

  async first(runner: QueryRunner, values: V): Promise<Row | undefined> {
    return (await this.run(runner, values)).rows[0];
  }

  /** As one statement of a transaction's `Steps` (query-steps.ts): its first row. */
  step(values: V): Generator<CompiledQuery, Row | undefined, unknown> {
    return ask(this.with(values));
  }
}
