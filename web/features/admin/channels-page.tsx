/**
 * Channels (admin): create one, and set which channel one receives after a delay (its
 * mirror). Subscribers see the channels granted to them, and nothing else.
 */
import { useCallback, useEffect, useState, type FormEvent } from 'react';
import { channelInputSchema } from '../../../shared/schemas.js';
import { get, post } from '../../api/client.js';
import type { Mirror } from '../../api/types.js';
import { Field, optionalText } from '../../components/form.js';
import { useSchemaForm } from '../../components/use-schema-form.js';
import { formatDateTime } from '../../components/format.js';
import { useSession, useSignedIn } from '../../state/session.js';
import { ChannelMirror } from './channel-mirror.js';

export function ChannelsPage() {
  const { me } = useSignedIn();
  const { refresh } = useSession();
  const [form, setForm] = useState({ slug: '', name: '', description: '' });
  const { errors, busy, submit: send } = useSchemaForm(channelInputSchema);
  const [message, setMessage] = useState<{ tone: 'error' | 'success'; text: string } | null>(null);
  const [mirrors, setMirrors] = useState<ReadonlyMap<string, Mirror>>(new Map());
  const [mirrorError, setMirrorError] = useState<string | null>(null);
  const loadMirrors = useCallback(() => {
    get<{ items: Mirror[] }>('/api/mirrors')
      .then((answer) => {
        setMirrors(new Map(answer.items.map((m) => [m.channel, m])));
        setMirrorError(null);
      })
      .catch((e: unknown) => setMirrorError(e instanceof Error ? e.message : String(e)));
  }, []);
  useEffect(loadMirrors, [loadMirrors]);

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    const outcome = await send({ ...form, description: optionalText(form.description) }, async (data) => {
      await post('/api/channels', data);
      setMessage({ tone: 'success', text: `Channel #${data.slug} created.` });
      setForm({ slug: '', name: '', description: '' });
      await refresh();
    });
    if (!outcome.ok && outcome.refused) setMessage({ tone: 'error', text: outcome.refused.message });
  };

  const set = (key: keyof typeof form) => (e: { target: { value: string } }) =>
    setForm((f) => ({ ...f, [key]: e.target.value }));
  return (
    <div className="page">
      <header className="page__header">
        <div>
          <h1>Channels</h1>
          <p className="muted">Subscribers see the channels granted to them, and nothing else.</p>
        </div>
      </header>
      <div className="two-col">
        <form className="card stack" onSubmit={(e) => void submit(e)} noValidate aria-label="Create a channel">
          <h2>New channel</h2>
          <Field label="Slug" error={errors.slug} hint="lower-case letters, digits and dashes">
            {(ids) => <input {...ids} name="slug" value={form.slug} onChange={set('slug')} placeholder="vip-crypto" />}
          </Field>
          <Field label="Name" error={errors.name}>
            {(ids) => <input {...ids} name="name" value={form.name} onChange={set('name')} placeholder="VIP Crypto" />}
          </Field>
          <Field label="Description" error={errors.description}>
            {(ids) => <input {...ids} name="description" value={form.description} onChange={set('description')} />}
          </Field>
          {message ? (
            <p className={`notice notice--${message.tone}`} role="status">
              {message.text}
            </p>
          ) : null}
          <button type="submit" className="button button--primary" disabled={busy}>
            Create channel
          </button>
        </form>
        <section className="card" aria-labelledby="channels-heading">
          <h2 id="channels-heading">All channels</h2>
          <p className="muted small mirror__intro">
            A channel can receive another&apos;s signals after a delay — free gets VIP&apos;s signals 24 h later: each
            as a new event of its own, naming the original.
          </p>
          {mirrorError ? (
            <p className="notice notice--error small" role="alert">
              Mirrors could not be loaded: {mirrorError}
            </p>
          ) : null}
          {me.channels.length === 0 ? <p className="muted">No channels yet.</p> : null}
          <ul className="plain-list">
            {me.channels.map((c) => (
              <li key={c.slug} data-testid="channel-item" data-slug={c.slug}>
                <strong>{c.name}</strong> <code>#{c.slug}</code>
                {c.description ? <p className="muted">{c.description}</p> : null}
                <p className="muted small">created {formatDateTime(c.createdAt)}</p>
                <ChannelMirror
                  channel={c}
                  channels={me.channels}
                  mirror={mirrors.get(c.slug)}
                  onChanged={loadMirrors}
                />
              </li>
            ))}
          </ul>
        </section>
      </div>
    </div>
  );
}
