/**
 * Runs the real CLI as its own process (the build when it is fresh, else the sources: see
 * `../helpers/entry.ts`), and a real `serve` process beside it.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { entryArgs } from '../helpers/entry.js';
import { Api, PASSWORD, type Account } from '../helpers/server.js';

export const ROOT = fileURLToPath(new URL('../..', import.meta.url));

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

export async function cli(args: string[], env: Record<string, string> = {}, input?: string): Promise<CliResult> {
  const child = spawn(process.execPath, [...entryArgs('cli/main'), ...args], {
    cwd: ROOT,
    env: { ...process.env, LOG_LEVEL: 'silent', ...env },
    stdio: [input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'],
  });
  if (input !== undefined) child.stdin!.end(input);
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const timer = setTimeout(() => child.kill('SIGKILL'), 180_000);
  const [code] = (await once(child, 'close')) as [number | null];
  clearTimeout(timer);
  return { code, stdout, stderr };
}

/** Runs several independent invocations, a few at a time, in order of `runs`. */
export async function cliMany(
  runs: ReadonlyArray<{ args: string[]; env?: Record<string, string> }>,
  concurrency = 3,
): Promise<CliResult[]> {
  const results: CliResult[] = new Array<CliResult>(runs.length);
  let next = 0;
  const worker = async () => {
    while (next < runs.length) {
      const index = next++;
      const run = runs[index]!;
      results[index] = await cli(run.args, run.env);
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, runs.length) }, worker));
  return results;
}

/** Fails with the CLI's own output when it did not exit 0. */
export async function cliOk(args: string[], env: Record<string, string> = {}, input?: string): Promise<CliResult> {
  const result = await cli(args, env, input);
  if (result.code !== 0) {
    throw new Error(`signal-desk ${args.join(' ')} exited ${result.code}\n${result.stdout}\n${result.stderr}`);
  }
  return result;
}

export interface ServeProcess {
  url: string;
  child: ChildProcess;
  stop(): Promise<void>;
}

/** `signal-desk serve` on a free port; resolves once it says it is serving. */
export async function serveProcess(databaseUrl: string): Promise<ServeProcess> {
  const child = spawn(process.execPath, [...entryArgs('cli/main'), 'serve'], {
    cwd: ROOT,
    env: { ...process.env, DATABASE_URL: databaseUrl, PORT: '0', HOST: '127.0.0.1', LOG_LEVEL: 'info' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  // Never outlive the test process, even when it ends without reaching `stop()`.
  const orphanGuard = () => child.kill('SIGKILL');
  process.once('exit', orphanGuard);
  let output = '';
  const port = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`serve did not start:\n${output}`)), 30_000);
    child.stdout!.on('data', (chunk: Buffer) => {
      output += chunk.toString();
      const match = /"port":(\d+).*signal-desk is serving/.exec(output);
      if (match) {
        clearTimeout(timer);
        resolve(Number(match[1]));
      }
    });
    child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`serve exited ${code}:\n${output}`));
    });
  });
  return {
    url: `http://127.0.0.1:${port}`,
    child,
    async stop() {
      process.off('exit', orphanGuard);
      if (child.exitCode !== null) return;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await once(child, 'exit');
      clearTimeout(timer);
    },
  };
}

/** Signs in to a server process (the helpers' `login` wants an in-process TestServer). */
export async function loginAt(url: string, email: string, password = PASSWORD): Promise<Account> {
  const res = await new Api(url).post('/api/auth/login', { email, password });
  if (res.status !== 200) throw new Error(`login failed for ${email}: ${res.status} ${JSON.stringify(res.body)}`);
  return { api: new Api(url, res.body.token), token: res.body.token, user: res.body.user };
}
