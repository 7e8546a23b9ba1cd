/**
 * Inbound sources (TradingView alerts): create one for a channel, copy its address once, and
 * watch what each alert became. The form is checked with the server's own schema.
 */
import { useCallback, useEffect, useState, type FormEvent } from 'react';
import { MARKETS } from '../../../shared/schemas.js';
import { SOURCE_LIMITS, sourceInputSchema, TRADINGVIEW_ADDRESSES, type SourceSecret } from '../../../shared/sources.js';
import type { SourceRecord } from '../../../server/store/integrations.js';
import { api, get, post } from '../../api/client.js';
import type { Channel } from '../../api/types.js';
import { Field, numberOf, optionalText } from '../../components/form.js';
import { formatDateTime } from '../../components/format.js';
import { useSchemaForm } from '../../components/use-schema-form.js';
import { useSignedIn } from '../../state/session.js';
import { RequestLog } from './request-log.js';
import { SourceSecretPanel } from './source-secret.js';
import './sources.css';

type Revealed = SourceRecord & SourceSecret;

export function SourcesPage() {
  const { me } = useSignedIn();
  const [sources, setSources] = useState<SourceRecord[]>([]);
  const [revealed, setRevealed] = useState<Revealed | null>(null);
  const [error, setError] = useState<string | null>(null);
  const load = useCallback(() => {
    get<{ items: SourceRecord[] }>('/api/sources')
      .then((answer) => setSources(answer.items))
      .catch((e: unknown) => setError(e instanceof Error ? e.message : String(e)));
  }, []);
  useEffect(load, [load]);
  const reveal = (source: Revealed) => {
    setRevealed(source);
    load();
  };

  return (
    <div className="page">
      <header className="page__header">
        <div>
          <h1>Sources</h1>
          <p className="muted">
            TradingView alerts and text signals posted to a secret address publish into a channel, checked like the
            compose form.
          </p>
        </div>
      </header>
      {error ? (
        <p className="notice notice--error" role="alert">
          {error}
        </p>
      ) : null}
      {revealed ? <SourceSecretPanel source={revealed} onDone={() => setRevealed(null)} /> : null}
      <div className="two-col">
        <CreateSourceForm channels={me.channels} onCreated={reveal} />
        <section className="card" aria-labelledby="sources-heading">
          <h2 id="sources-heading">All sources</h2>
          {sources.length === 0 ? <p className="muted">No sources yet.</p> : null}
          <ul className="plain-list">
            {[...sources].reverse().map((source) => (
              <SourceItem key={source.id} source={source} onChange={load} onRotated={reveal} />
            ))}
          </ul>
        </section>
      </div>
    </div>
  );
}

interface Draft {
  channel: string;
  name: string;
  label: string;
  market: string;
  allowedIps: string;
  ratePerMinute: string;
}

const blank = (channel: string): Draft => ({
  channel,
  name: '',
  label: '',
  market: '',
  allowedIps: '',
  ratePerMinute: String(SOURCE_LIMITS.ratePerMinuteDefault),
});

/** One address or range per line (commas and spaces also separate). */
const addressesOf = (text: string) => text.split(/[\s,]+/).filter((part) => part !== '');

function CreateSourceForm(props: { channels: Channel[]; onCreated(source: Revealed): void }) {
  const [draft, setDraft] = useState<Draft>(() => blank(props.channels[0]?.slug ?? ''));
  const { errors, busy, submit: send } = useSchemaForm(sourceInputSchema);
  const [message, setMessage] = useState<string | null>(null);
  const channel = draft.channel || props.channels[0]?.slug || '';

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    const addresses = addressesOf(draft.allowedIps);
    const input = {
      kind: 'tradingview',
      channel,
      name: draft.name,
      label: optionalText(draft.label),
      market: draft.market || undefined,
      allowedIps: addresses.length ? addresses : undefined,
      ratePerMinute: numberOf(draft.ratePerMinute),
    };
    const outcome = await send(input, async (data) => {
      props.onCreated(await post<Revealed>('/api/sources', data));
      setDraft(blank(channel));
      setMessage(null);
    });
    if (!outcome.ok && outcome.refused) setMessage(outcome.refused.message);
  };
  const set = (key: keyof Draft) => (e: { target: { value: string } }) =>
    setDraft((d) => ({ ...d, [key]: e.target.value }));
  const addressError = Object.entries(errors)
    .filter(([key]) => key.startsWith('allowedIps'))
    .map(([key, text]) => {
      const index = Number(key.split('.')[1]);
      return Number.isNaN(index) ? text : `${addressesOf(draft.allowedIps)[index] ?? `entry ${index + 1}`} ${text}`;
    })[0];

  return (
    <form className="card stack" onSubmit={(e) => void submit(e)} noValidate aria-label="Create a source">
      <h2>New TradingView source</h2>
      <Field label="Channel" error={errors.channel}>
        {(ids) => (
          <select {...ids} name="channel" value={channel} onChange={set('channel')}>
            {props.channels.length === 0 ? <option value="">Create a channel first</option> : null}
            {props.channels.map((c) => (
              <option key={c.slug} value={c.slug}>
                {c.name}
              </option>
            ))}
          </select>
        )}
      </Field>
      <Field label="Name" error={errors.name} hint="For you: which alert or script posts here.">
        {(ids) => <input {...ids} name="name" value={draft.name} onChange={set('name')} placeholder="BTC Supertrend" />}
      </Field>
      <Field label="Label" error={errors.label} hint="The signals’ source, unless an alert names its own.">
        {(ids) => (
          <input {...ids} name="label" value={draft.label} onChange={set('label')} placeholder="TV: Supertrend" />
        )}
      </Field>
      <Field label="Default market" error={errors.market} hint="For alerts that name no market.">
        {(ids) => (
          <select {...ids} name="market" value={draft.market} onChange={set('market')}>
            <option value="">None: each alert names its market</option>
            {MARKETS.map((m) => (
              <option key={m} value={m}>
                {m[0]?.toUpperCase() + m.slice(1)}
              </option>
            ))}
          </select>
        )}
      </Field>
      <Field
        label="Allowed addresses"
        error={addressError}
        hint="One address or CIDR range per line. Empty: any address with the secret may post."
      >
        {(ids) => (
          <div className="stack stack--tight">
            <textarea {...ids} name="allowedIps" rows={4} value={draft.allowedIps} onChange={set('allowedIps')} />
            <button
              type="button"
              className="button button--ghost button--small"
              onClick={() => setDraft((d) => ({ ...d, allowedIps: TRADINGVIEW_ADDRESSES.join('\n') }))}
            >
              Use TradingView’s addresses
            </button>
          </div>
        )}
      </Field>
      <Field label="Requests per minute" error={errors.ratePerMinute} hint="More are answered 429 and logged.">
        {(ids) => (
          <input
            {...ids}
            name="ratePerMinute"
            inputMode="numeric"
            value={draft.ratePerMinute}
            onChange={set('ratePerMinute')}
          />
        )}
      </Field>
      {message ? (
        <p className="notice notice--error" role="status">
          {message}
        </p>
      ) : null}
      <button type="submit" className="button button--primary" disabled={busy}>
        Create source
      </button>
    </form>
  );
}

function SourceItem(props: { source: SourceRecord; onChange(): void; onRotated(source: Revealed): void }) {
  const { source } = props;
  const [showLog, setShowLog] = useState(false);
  const [confirmRotate, setConfirmRotate] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const base = `/api/sources/${encodeURIComponent(source.id)}`;
  const act = (work: Promise<unknown>) =>
    work.then(() => setError(null)).catch((e: unknown) => setError(e instanceof Error ? e.message : String(e)));

  return (
    <li className="source" data-testid="source-item" data-name={source.name}>
      <div className="source__head">
        <strong>{source.name}</strong>
        <code>#{source.channel}</code>
        <span className={`badge ${source.enabled ? 'badge--buy' : 'status--cancelled'}`}>
          {source.enabled ? 'enabled' : 'disabled'}
        </span>
      </div>
      <p className="muted small">
        {source.label ? `labelled “${source.label}” · ` : ''}
        {source.market ? `${source.market} by default · ` : ''}
        {source.allowedIps ? `from ${source.allowedIps.join(', ')}` : 'from any address'} · {source.ratePerMinute}/min
        {source.rotatedAt ? ` · secret rotated ${formatDateTime(source.rotatedAt)}` : ''}
      </p>
      <div className="actions">
        <button
          type="button"
          className={`button button--small${source.enabled ? ' button--bad' : ''}`}
          onClick={() => void act(api('PATCH', base, { enabled: !source.enabled }).then(props.onChange))}
        >
          {source.enabled ? 'Disable' : 'Enable'}
        </button>
        {confirmRotate ? (
          <>
            <button
              type="button"
              className="button button--small button--bad"
              onClick={() =>
                void act(
                  post<Revealed>(`${base}/rotate`).then((rotated) => {
                    setConfirmRotate(false);
                    props.onRotated(rotated);
                  }),
                )
              }
            >
              Rotate: the old address stops working
            </button>
            <button
              type="button"
              className="button button--small button--ghost"
              onClick={() => setConfirmRotate(false)}
            >
              Keep it
            </button>
          </>
        ) : (
          <button type="button" className="button button--small" onClick={() => setConfirmRotate(true)}>
            Rotate secret
          </button>
        )}
        <button
          type="button"
          className="button button--small button--ghost"
          aria-expanded={showLog}
          onClick={() => setShowLog((shown) => !shown)}
        >
          {showLog ? 'Hide request log' : 'Request log'}
        </button>
      </div>
      {error ? (
        <p className="field__error" role="alert">
          {error}
        </p>
      ) : null}
      {showLog ? <RequestLog sourceId={source.id} /> : null}
    </li>
  );
}
