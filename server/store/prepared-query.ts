/**
 * Queries whose shape never changes, built and compiled by Kysely once and then run with new
 * values. On the hot paths (authenticating a request, appending an event) building and
 * compiling the query tree cost more than SQLite took to run it; this keeps Kysely's typed
 * builder and its dialect's SQL, and pays for them once per process.
 *
 * A value is named with `param('name')` while building; compiling leaves a placeholder per
 * value, in order, and `run` fills them from the values given.
 */
import { CompiledQuery, type Compilable, type QueryResult } from 'kysely';

const MARK = '\u0000param:';

/** Anything that runs a compiled query: the Kysely instance or an open transaction. */
export interface QueryRunner {
  executeQuery<R>(query: CompiledQuery<R>): Promise<QueryResult<R>>;
}

type Slot<V> = { name: keyof V } | { constant: unknown };

export class PreparedQuery<V extends object, Row> {
  private readonly sql: string;
  private readonly slots: ReadonlyArray<Slot<V>>;

  constructor(build: (param: <K extends keyof V & string>(name: K) => V[K]) => Compilable<Row>) {
    const compiled = build((name) => `${MARK}${name}` as never).compile();
    if (compiled.sql.includes(MARK)) throw new Error(`a param() was compiled into the SQL text: ${compiled.sql}`);
    this.sql = compiled.sql;
    this.slots = compiled.parameters.map((value) =>
      typeof value === 'string' && value.startsWith(MARK)
        ? { name: value.slice(MARK.length) as keyof V }
        : { constant: value },
    );
  }

  run(runner: QueryRunner, values: V): Promise<QueryResult<Row>> {
    const parameters = this.slots.map((slot) => ('name' in slot ? values[slot.name] : slot.constant));
    return runner.executeQuery(CompiledQuery.raw(this.sql, parameters) as CompiledQuery<Row>);
  }

  async first(runner: QueryRunner, values: V): Promise<Row | undefined> {
    return (await this.run(runner, values)).rows[0];
  }
}
