import { useState, type FormEvent } from 'react';
import { channelInputSchema } from '../../../shared/schemas.js';
import { post } from '../../api/client.js';
import { Field, optionalText } from '../../components/form.js';
import { useSchemaForm } from '../../components/use-schema-form.js';
import { formatDateTime } from '../../components/format.js';
import { useSession, useSignedIn } from '../../state/session.js';

export function ChannelsPage() {
  const { me } = useSignedIn();
  const { refresh } = useSession();
  const [form, setForm] = useState({ slug: '', name: '', description: '' });
  const { errors, busy, submit: send } = useSchemaForm(channelInputSchema);
  const [message, setMessage] = useState<{ tone: 'error' | 'success'; text: string } | null>(null);

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
          {me.channels.length === 0 ? <p className="muted">No channels yet.</p> : null}
          <ul className="plain-list">
            {me.channels.map((c) => (
              <li key={c.slug} data-testid="channel-item">
                <strong>{c.name}</strong> <code>#{c.slug}</code>
                {c.description ? <p className="muted">{c.description}</p> : null}
                <p className="muted small">created {formatDateTime(c.createdAt)}</p>
              </li>
            ))}
          </ul>
        </section>
      </div>
    </div>
  );
}
