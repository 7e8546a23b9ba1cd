/**
 * API tokens for bots (admin): make one for chosen channels, copy it once with a `curl`
 * that uses it, see when each was last used, and revoke one (it stops working at once, on
 * every node). The form is checked with the server's own schema.
 */
import { useCallback, useEffect, useState, type FormEvent } from 'react';
import { apiTokenInputSchema } from '../../../shared/schemas.js';
import { api, get, post } from '../../api/client.js';
import type { ApiToken, Channel, CreatedApiToken } from '../../api/types.js';
import { Field } from '../../components/form.js';
import { formatDateTime } from '../../components/format.js';
import { useSchemaForm } from '../../components/use-schema-form.js';
import { useSingleFlight } from '../../components/use-single-flight.js';
import { useSignedIn } from '../../state/session.js';
import { ChannelChecks } from '../destinations/channel-checks.js';
import { TokenOnce } from './token-once.js';
import '../sources/sources.css';

export function TokensPage() {
  const { me } = useSignedIn();
  const [tokens, setTokens] = useState<ApiToken[] | null>(null);
  const [created, setCreated] = useState<CreatedApiToken | null>(null);
  const [error, setError] = useState<string | null>(null);
  const load = useCallback(() => {
    get<{ items: ApiToken[] }>('/api/tokens')
      .then((answer) => {
        setTokens(answer.items);
        setError(null);
      })
      .catch((e: unknown) => setError(e instanceof Error ? e.message : String(e)));
  }, []);
  useEffect(load, [load]);

  // Live tokens first, newest first; revoked ones after, for the record.
  const sorted = [...(tokens ?? [])].sort(
    (a, b) => Number(a.revokedAt !== null) - Number(b.revokedAt !== null) || b.createdAt.localeCompare(a.createdAt),
  );

  return (
    <div className="page">
      <header className="page__header">
        <div>
          <h1>API tokens</h1>
          <p className="muted">
            A bot publishes with <code>Authorization: Bearer sdt_…</code> on <code>POST /api/signals</code> and on
            updates of its signals, on the token&apos;s channels only. A token never signs in and never reads.
          </p>
        </div>
      </header>
      {error ? (
        <p className="notice notice--error" role="alert">
          {error}
        </p>
      ) : null}
      {created ? (
        <TokenOnce
          created={created}
          onDone={() => {
            setCreated(null);
          }}
        />
      ) : null}
      <div className="sidebar-layout">
        <TokenForm
          channels={me.channels}
          onCreated={(token) => {
            setCreated(token);
            load();
          }}
        />
        <section className="card" aria-labelledby="tokens-heading">
          <h2 id="tokens-heading">All tokens</h2>
          {tokens === null ? (
            <p className="muted" aria-busy="true">
              Loading…
            </p>
          ) : sorted.length === 0 ? (
            <p className="muted">None yet.</p>
          ) : (
            <ul className="plain-list">
              {sorted.map((token) => (
                <TokenItem key={token.id} token={token} onRevoked={load} />
              ))}
            </ul>
          )}
        </section>
      </div>
    </div>
  );
}

function TokenForm(props: { channels: Channel[]; onCreated(token: CreatedApiToken): void }) {
  const [name, setName] = useState('');
  const [channels, setChannels] = useState<string[]>([]);
  const { errors, busy, submit: send } = useSchemaForm(apiTokenInputSchema);
  const [refused, setRefused] = useState<string | null>(null);

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    setRefused(null);
    const outcome = await send({ name, channels }, async (data) => {
      props.onCreated(await post<CreatedApiToken>('/api/tokens', data));
      setName('');
      setChannels([]);
    });
    if (!outcome.ok && outcome.refused && Object.keys(outcome.refused.fields).length === 0)
      setRefused(outcome.refused.message);
  };

  return (
    <form className="card stack" onSubmit={(e) => void submit(e)} noValidate aria-label="Create an API token">
      <h2>New token</h2>
      <Field label="Name" error={errors.name} hint="Which bot or script uses it.">
        {(ids) => (
          <input {...ids} name="name" value={name} onChange={(e) => setName(e.target.value)} placeholder="Grid bot" />
        )}
      </Field>
      <ChannelChecks
        legend="May publish to"
        channels={props.channels}
        chosen={channels}
        error={errors.channels}
        onChange={setChannels}
      />
      {refused ? (
        <p className="notice notice--error" role="alert">
          {refused}
        </p>
      ) : null}
      <button type="submit" className="button button--primary" disabled={busy}>
        Create token
      </button>
    </form>
  );
}

function TokenItem(props: { token: ApiToken; onRevoked(): void }) {
  const { token } = props;
  const [confirming, setConfirming] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const { busy, run } = useSingleFlight();
  const revoked = token.revokedAt !== null;

  const revoke = () =>
    run(async () => {
      try {
        await api('DELETE', `/api/tokens/${encodeURIComponent(token.id)}`);
        setConfirming(false);
        props.onRevoked();
      } catch (e) {
        setError(e instanceof Error ? e.message : String(e));
      }
    });

  return (
    <li data-testid="token-item" data-name={token.name} data-state={revoked ? 'revoked' : 'active'}>
      <div className="destination__head">
        <strong className={revoked ? 'muted' : undefined}>{token.name}</strong>
        <span className={`badge state ${revoked ? 'state--disabled' : 'state--active'}`}>
          {revoked ? 'revoked' : 'active'}
        </span>
      </div>
      <div className="user__channels">
        {token.channels.map((slug) => (
          <span key={slug} className="chip chip--plain">
            #{slug}
          </span>
        ))}
      </div>
      <p className="muted small">
        created {formatDateTime(token.createdAt)} ·{' '}
        <span title="Recorded at most once a minute">
          {token.lastUsedAt ? `last used ${formatDateTime(token.lastUsedAt)}` : 'never used'}
        </span>
        {token.revokedAt ? ` · revoked ${formatDateTime(token.revokedAt)}` : ''}
      </p>
      {revoked ? null : confirming ? (
        <div className="confirm" role="group" aria-label={`Revoke ${token.name}`}>
          <p>
            Revoke “{token.name}”? Whatever uses it is refused (401) from its next request, on every node. This cannot
            be undone.
          </p>
          <div className="actions">
            <button
              type="button"
              className="button button--small button--bad"
              disabled={busy}
              onClick={() => void revoke()}
              autoFocus
            >
              Yes, revoke it
            </button>
            <button type="button" className="button button--small button--ghost" onClick={() => setConfirming(false)}>
              Keep it
            </button>
          </div>
        </div>
      ) : (
        <div className="actions">
          <button type="button" className="button button--small button--bad" onClick={() => setConfirming(true)}>
            Revoke
          </button>
        </div>
      )}
      {error ? (
        <p className="field__error" role="alert">
          {error}
        </p>
      ) : null}
    </li>
  );
}
