/**
 * Adding a destination: its kind decides the fields (a URL for a webhook or a Discord
 * channel, a chat and a bot for Telegram), checked with the server's own schema before
 * anything is sent. A webhook's signing secret is shown once, right here.
 */
import { useState, type FormEvent } from 'react';
import { destinationInputSchema } from '../../../shared/schemas.js';
import { post } from '../../api/client.js';
import type { Channel, Destination, DestinationKind } from '../../api/types.js';
import { Field, PasswordField } from '../../components/form.js';
import { useSchemaForm } from '../../components/use-schema-form.js';
import { ChannelChecks } from './channel-checks.js';
import { KIND_LABELS } from './destination-text.js';
import { SecretOnce } from './secret-once.js';

interface Draft {
  kind: DestinationKind;
  name: string;
  url: string;
  chatId: string;
  botToken: string;
  channels: string[];
}

const blank: Draft = { kind: 'webhook', name: '', url: '', chatId: '', botToken: '', channels: [] };

/** The URL field of the kinds that take one. */
const URL_FIELD: Record<Exclude<DestinationKind, 'telegram'>, { label: string; hint: string; placeholder: string }> = {
  webhook: {
    label: 'URL',
    hint: 'Gets a signed POST with each event, as JSON.',
    placeholder: 'https://example.com/hooks/signals',
  },
  discord: {
    label: 'Discord webhook URL',
    hint: 'In Discord: channel settings → Integrations → Webhooks → Copy Webhook URL.',
    placeholder: 'https://discord.com/api/webhooks/…',
  },
};

/** Only the fields of the chosen kind: the schema refuses the others. */
function inputOf(draft: Draft) {
  const { kind, name, channels } = draft;
  return kind === 'telegram'
    ? { kind, name, channels, chatId: draft.chatId, botToken: draft.botToken }
    : { kind, name, channels, url: draft.url };
}

export function DestinationForm(props: { channels: Channel[]; onCreated(): void }) {
  const [draft, setDraft] = useState<Draft>(blank);
  const { errors, busy, submit: send } = useSchemaForm(destinationInputSchema);
  const [message, setMessage] = useState<{ tone: 'error' | 'success'; text: string } | null>(null);
  const [secret, setSecret] = useState<{ name: string; value: string } | null>(null);

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    setMessage(null);
    const outcome = await send(inputOf(draft), async (data) => {
      const created = await post<Destination & { secret?: string }>('/api/destinations', data);
      setMessage({ tone: 'success', text: `${created.name} added: it receives what is published from now on.` });
      if (created.secret) setSecret({ name: created.name, value: created.secret });
      setDraft((d) => ({ ...blank, kind: d.kind }));
      props.onCreated();
    });
    // Per-field refusals show under their fields; the rest (an unreachable target…) here.
    if (!outcome.ok && outcome.refused) setMessage({ tone: 'error', text: outcome.refused.message });
  };
  const set = (key: 'name' | 'url' | 'chatId' | 'botToken') => (e: { target: { value: string } }) =>
    setDraft((d) => ({ ...d, [key]: e.target.value }));
  const urlField = draft.kind === 'telegram' ? undefined : URL_FIELD[draft.kind];

  return (
    <div className="stack">
      {secret ? (
        <div className="card">
          <SecretOnce title={`Signing secret of ${secret.name}`} secret={secret.value} onDone={() => setSecret(null)} />
        </div>
      ) : null}
      <form className="card stack" onSubmit={(e) => void submit(e)} noValidate aria-label="Add a destination">
        <h2>New destination</h2>
        <Field label="Kind" error={errors.kind}>
          {(ids) => (
            <select
              {...ids}
              name="kind"
              value={draft.kind}
              onChange={(e) => setDraft((d) => ({ ...d, kind: e.target.value as DestinationKind }))}
            >
              {(Object.keys(KIND_LABELS) as DestinationKind[]).map((kind) => (
                <option key={kind} value={kind}>
                  {KIND_LABELS[kind].long}
                </option>
              ))}
            </select>
          )}
        </Field>
        <Field label="Name" error={errors.name} hint="How it reads in this list and in the delivery log.">
          {(ids) => <input {...ids} name="name" value={draft.name} onChange={set('name')} placeholder="Order router" />}
        </Field>
        {urlField ? (
          <Field label={urlField.label} error={errors.url} hint={urlField.hint}>
            {(ids) => (
              <input
                {...ids}
                type="url"
                name="url"
                value={draft.url}
                onChange={set('url')}
                placeholder={urlField.placeholder}
              />
            )}
          </Field>
        ) : null}
        {draft.kind === 'telegram' ? (
          <>
            <Field label="Chat" error={errors.chatId} hint="-1001234567890 or @channelname; add the bot to it first.">
              {(ids) => <input {...ids} name="chatId" value={draft.chatId} onChange={set('chatId')} />}
            </Field>
            <PasswordField
              label="Bot token"
              error={errors.botToken}
              hint="From @BotFather. Never shown again."
              name="botToken"
              autoComplete="off"
              value={draft.botToken}
              onChange={set('botToken')}
            />
          </>
        ) : null}
        <ChannelChecks
          legend="Channels"
          channels={props.channels}
          chosen={draft.channels}
          error={errors.channels}
          onChange={(channels) => setDraft((d) => ({ ...d, channels }))}
        />
        {message ? (
          <p className={`notice notice--${message.tone}`} role={message.tone === 'error' ? 'alert' : 'status'}>
            {message.text}
          </p>
        ) : null}
        <button type="submit" className="button button--primary" disabled={busy}>
          {busy ? 'Adding…' : 'Add destination'}
        </button>
      </form>
    </div>
  );
}
