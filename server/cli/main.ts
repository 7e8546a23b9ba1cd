#!/usr/bin/env node
/**
 * `signal-desk`: one command per file under commands/. Every failure ends with one clear
 * message on stderr and a non-zero exit: 1 for a failed operation or bad input, 2 for a
 * bad configuration (environment).
 */
import { Command } from 'commander';
import { AppError } from '../core/errors.js';
import { CliError } from './cli-error.js';
import { channelCommand, grantCommand, revokeCommand, userCommand } from './commands/accounts.js';
import { backupCommand } from './commands/backup.js';
import { exportCommand } from './commands/export.js';
import { importCommand } from './commands/import.js';
import { importTextCommand } from './commands/import-text.js';
import { migrateDataCommand } from './commands/migrate-data.js';
import { migrateCommand, serveCommand } from './commands/serve.js';
import { signingKeyCommand } from './commands/signing-key.js';
import { verifyCommand } from './commands/verify.js';

export function buildProgram(): Command {
  const program = new Command('signal-desk')
    .description(
      'Self-hostable real-time trading-signal broadcast.\n' +
        'Every command reads DATABASE_URL (sqlite:<path>, default sqlite:./data/signal-desk.db, or postgres://…).',
    )
    .showHelpAfterError('(run signal-desk --help for usage)')
    .configureHelp({ sortSubcommands: false });
  for (const command of [
    serveCommand(),
    migrateCommand(),
    userCommand(),
    channelCommand(),
    grantCommand(),
    revokeCommand(),
    exportCommand(),
    importCommand(),
    importTextCommand(),
    verifyCommand(),
    backupCommand(),
    migrateDataCommand(),
    signingKeyCommand(),
  ]) {
    program.addCommand(command);
  }
  return program;
}

function describe(error: unknown): { message: string; exitCode: number } {
  if (error instanceof CliError) return { message: error.message, exitCode: error.exitCode };
  if (error instanceof AppError) {
    const fields = error.fields ? Object.entries(error.fields).map(([k, v]) => `\n  ${k}: ${v}`) : [];
    return { message: `${error.message}${fields.join('')}`, exitCode: 1 };
  }
  return { message: (error as Error).message ?? String(error), exitCode: 1 };
}

try {
  await buildProgram().parseAsync(process.argv);
} catch (error) {
  const { message, exitCode } = describe(error);
  process.stderr.write(`signal-desk: ${message}\n`);
  process.exitCode = exitCode;
}
