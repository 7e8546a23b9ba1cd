/**
 * A transaction written once for both kinds of driver. Its body is a generator that yields
 * each statement it needs run and is handed back that statement's first row. Over a pool
 * (node-postgres) the statements are awaited one by one; over better-sqlite3, whose
 * statements complete as they are called, the whole body runs in one go between BEGIN and
 * COMMIT, with no promise settled between statements and nothing else on the event loop.
 *
 * A statement that fails is thrown back into the body at the `yield` that asked for it, so
 * the body's own `try`/`catch` (a savepoint rolled back) sees it the same on both.
 */
import type { CompiledQuery } from 'kysely';
import type { QueryRunner } from './prepared-query.js';

/** A transaction's body: yields statements, receives each one's first row, returns `T`. */
export type Steps<T> = Generator<CompiledQuery, T, unknown>;

/** How the statement a body asked for ended. */
type Outcome = { row: unknown } | { error: unknown };

/** One statement of a body: yields `query` and returns its first row. */
export function* ask<Row>(query: CompiledQuery<Row>): Generator<CompiledQuery, Row | undefined, unknown> {
  return (yield query) as Row | undefined;
}

/** Hands the body its statement's row, or throws the statement's error into it. */
function resume<T>(steps: Steps<T>, outcome: Outcome): IteratorResult<CompiledQuery, T> {
  return 'error' in outcome ? steps.throw(outcome.error) : steps.next(outcome.row);
}

/** Runs `steps` on `runner` (an open Kysely transaction), awaiting each statement. */
export async function runSteps<T>(steps: Steps<T>, runner: QueryRunner): Promise<T> {
  let next = steps.next();
  while (!next.done) {
    const outcome = await runner.executeQuery(next.value).then(
      (result): Outcome => ({ row: result.rows[0] }),
      (error: unknown): Outcome => ({ error }),
    );
    next = resume(steps, outcome);
  }
  return next.value;
}

/** Runs `steps` with `execute`, which runs one statement to completion and returns its rows. */
export function runStepsNow<T>(steps: Steps<T>, execute: (query: CompiledQuery) => readonly unknown[]): T {
  let next = steps.next();
  while (!next.done) {
    let outcome: Outcome;
    try {
      outcome = { row: execute(next.value)[0] };
    } catch (error) {
      outcome = { error };
    }
    next = resume(steps, outcome);
  }
  return next.value;
}
