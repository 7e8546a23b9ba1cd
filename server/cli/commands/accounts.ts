/**
 * `user add|password|sign-out`, `channel add`, `grant`, `revoke`: account changes through
 * AccountService, as the API makes them (on PostgreSQL every running node hears of them).
 */
import { Command, Option } from 'commander';
import type { ZodType } from 'zod';
import { channelInputSchema, passwordResetSchema, ROLES, userInputSchema } from '../../../shared/schemas.js';
import { CliError } from '../cli-error.js';
import { withAccounts } from '../context.js';

/** Validates with the API's own schema and turns its per-field messages into one CLI error. */
function parse<T>(schema: ZodType<T>, input: unknown, flags: Record<string, string>): T {
  const result = schema.safeParse(input);
  if (result.success) return result.data;
  const lines = result.error.issues.map((issue) => {
    const field = String(issue.path[0] ?? '');
    return `  ${flags[field] ?? field}: ${issue.message}`;
  });
  throw new CliError(`invalid input:\n${lines.join('\n')}`);
}

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  // Decoded once: a multi-byte character may straddle two chunks.
  return Buffer.concat(chunks)
    .toString('utf8')
    .replace(/\r?\n$/, '');
}

const list = (value: string) =>
  value
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);

export function userCommand(): Command {
  const user = new Command('user').description('manage users');
  user
    .command('add')
    .description('create a user (the first admin too: there is never a default password)')
    .requiredOption('--email <email>', 'sign-in email')
    .requiredOption(
      '--password <password>',
      'password (10+ characters); `-` reads it from stdin, keeping it out of `ps`',
    )
    .addOption(new Option('--role <role>', 'role').choices(ROLES).makeOptionMandatory())
    .option('--name <name>', 'display name')
    .option('--channels <slugs>', 'comma-separated channels to grant', list)
    .action(async (options: { email: string; password: string; role: string; name?: string; channels?: string[] }) => {
      if (options.password === '-') options.password = await readStdin();
      const input = parse(userInputSchema, options, {
        email: '--email',
        password: '--password',
        role: '--role',
        name: '--name',
        channels: '--channels',
      });
      const created = await withAccounts((accounts) => accounts.createUser(null, input));
      const channels = created.channels.length > 0 ? ` with channels ${created.channels.join(', ')}` : '';
      console.log(`created ${created.role} ${created.email} (id ${created.id})${channels}`);
    });
  user
    .command('password')
    .description("set a user's password (a forgotten one too); every session of that user ends")
    .requiredOption('--email <email>', "the user's email")
    .requiredOption('--password <password>', 'the new password (10+ characters); `-` reads it from stdin')
    .action(async (options: { email: string; password: string }) => {
      if (options.password === '-') options.password = await readStdin();
      const { password } = parse(passwordResetSchema, { password: options.password }, { password: '--password' });
      await withAccounts(async (accounts) => {
        const target = await accounts.userByEmail(options.email);
        await accounts.resetPassword(null, target.id, password);
        console.log(`set a new password for ${target.email}; their sessions ended`);
      });
    });
  user
    .command('sign-out')
    .description('end every session of a user and close their live connections')
    .requiredOption('--email <email>', "the user's email")
    .action(async (options: { email: string }) => {
      await withAccounts(async (accounts) => {
        const target = await accounts.userByEmail(options.email);
        await accounts.signOutUser(null, target.id);
        console.log(`signed ${target.email} out everywhere`);
      });
    });
  return user;
}

export function channelCommand(): Command {
  const channel = new Command('channel').description('manage channels');
  channel
    .command('add')
    .description('create a channel')
    .requiredOption('--slug <slug>', 'short id used in URLs and grants, e.g. gold')
    .requiredOption('--name <name>', 'display name')
    .option('--description <text>', 'description')
    .action(async (options: { slug: string; name: string; description?: string }) => {
      const input = parse(channelInputSchema, options, {
        slug: '--slug',
        name: '--name',
        description: '--description',
      });
      const created = await withAccounts((accounts) => accounts.createChannel(null, input));
      console.log(`created channel ${created.slug} (${created.name})`);
    });
  return channel;
}

function accessCommand(change: 'grant' | 'revoke'): Command {
  return new Command(change)
    .description(
      change === 'grant'
        ? 'let a user see a channel'
        : 'take a channel from a user; their live connections stop receiving it (see docs/CLI.md)',
    )
    .requiredOption('--email <email>', "the user's email")
    .requiredOption('--channel <slug>', 'the channel')
    .action(async (options: { email: string; channel: string }) => {
      await withAccounts(async (accounts, store) => {
        const user = await accounts.userByEmail(options.email);
        const before = await store.channelsOf(user.id);
        const after =
          change === 'grant'
            ? await accounts.grant(null, user.id, options.channel)
            : await accounts.revoke(null, user.id, options.channel);
        const changed = before.includes(options.channel) !== after.channels.includes(options.channel);
        const verb = change === 'grant' ? 'granted' : 'revoked';
        console.log(
          changed
            ? `${verb} ${options.channel} ${change === 'grant' ? 'to' : 'from'} ${user.email}`
            : `nothing to do: ${user.email} ${change === 'grant' ? 'already has' : 'does not have'} ${options.channel}`,
        );
        if (user.role === 'admin') console.log('note: admins see every channel regardless of grants');
      });
    });
}

export const grantCommand = () => accessCommand('grant');
export const revokeCommand = () => accessCommand('revoke');
