/**
 * One destination: where it stands against the log (its cursor, what is pending, how far
 * behind), its last trouble and next try, the node working it, and what an admin can do —
 * send a test, retry or resume, disable or enable, rotate a webhook's secret, rename or
 * change channels, read the delivery log.
 */
import { useState, type FormEvent } from 'react';
import { destinationPatchSchema } from '../../../shared/schemas.js';
import { api, post } from '../../api/client.js';
import type { Channel, Destination, TestSendResult } from '../../api/types.js';
import { Field } from '../../components/form.js';
import { formatDateTime, formatTime } from '../../components/format.js';
import { useSchemaForm } from '../../components/use-schema-form.js';
import { useSingleFlight } from '../../components/use-single-flight.js';
import { ChannelChecks } from './channel-checks.js';
import { DeliveryLog } from './delivery-log.js';
import { KIND_LABELS, lagText, nextTryText, positionText } from './destination-text.js';
import { SecretOnce } from './secret-once.js';

type Message = { tone: 'error' | 'success' | 'info'; text: string };
type Panel = 'edit' | 'rotate' | null;

export function DestinationItem(props: {
  destination: Destination;
  channels: Channel[];
  /** Changes on every refresh of the list; the open delivery log re-reads its newest page. */
  tick: number;
  onChanged(): void;
}) {
  const d = props.destination;
  const [panel, setPanel] = useState<Panel>(null);
  const [logOpen, setLogOpen] = useState(false);
  const [message, setMessage] = useState<Message | null>(null);
  const [secret, setSecret] = useState<{ value: string; previousUntil: string } | null>(null);
  const { busy, run } = useSingleFlight();
  const base = `/api/destinations/${encodeURIComponent(d.id)}`;
  const now = Date.now();
  const names = new Map(props.channels.map((c) => [c.slug, c.name]));

  /** Runs one action; its answer (or failure) is said under the buttons. */
  const act = (work: () => Promise<Message | null>) =>
    run(async () => {
      setMessage(null);
      try {
        setMessage(await work());
        props.onChanged();
      } catch (error) {
        setMessage({ tone: 'error', text: error instanceof Error ? error.message : String(error) });
      }
    });

  const testSend = () =>
    act(async () => {
      const result = await post<TestSendResult>(`${base}/test`);
      return result.ok
        ? { tone: 'success', text: `Test delivered: the far side answered ${result.status ?? 'OK'}.` }
        : {
            tone: 'error',
            text: `Test failed${result.status ? ` (${result.status})` : ''}: ${result.error ?? 'no answer'}`,
          };
    });
  const setEnabled = (enabled: boolean) =>
    act(async () => {
      await api('PATCH', base, { enabled });
      return enabled
        ? { tone: 'info', text: 'Enabled: it carries on from where it stopped.' }
        : { tone: 'info', text: 'Disabled: nothing more is sent; its place in the log is kept.' };
    });
  const resume = (what: 'resume' | 'retry') =>
    act(async () => {
      await post(`${base}/resume`);
      return { tone: 'info', text: what === 'resume' ? 'Resumed from the event it stopped at.' : 'Trying again now.' };
    });

  return (
    <li
      className={`destination destination--${d.state}`}
      data-testid="destination"
      data-name={d.name}
      data-state={d.state}
      data-delivered-seq={d.deliveredSeq}
      data-head-seq={d.headSeq}
      data-pending={d.pending}
    >
      <div className="destination__head">
        <strong className="destination__name">{d.name}</strong>
        <span className="badge">{KIND_LABELS[d.kind].short}</span>
        <span className={`badge state state--${d.state}`} data-testid="state">
          {d.state}
        </span>
      </div>
      <p className="destination__target">
        <code>{d.target}</code>
      </p>
      <div className="user__channels">
        {d.channels.length === 0 ? <span className="muted small">no channels: receives nothing</span> : null}
        {d.channels.map((slug) => (
          <span key={slug} className="chip chip--plain" title={names.get(slug) ?? slug}>
            #{slug}
          </span>
        ))}
      </div>
      <dl className="facts">
        <div>
          <dt>Position</dt>
          <dd data-testid="position">{positionText(d)}</dd>
        </div>
        <div>
          <dt>Lag</dt>
          <dd data-testid="lag">{lagText(d, now)}</dd>
        </div>
        <div>
          <dt>Last delivered</dt>
          <dd>{d.lastSuccessAt ? formatTime(d.lastSuccessAt) : 'not yet'}</dd>
        </div>
        {d.nextAttemptAt && d.state === 'retrying' ? (
          <div>
            <dt>Next try</dt>
            <dd data-testid="next-try">{nextTryText(d.nextAttemptAt, now)}</dd>
          </div>
        ) : null}
        <div>
          <dt>Worked by</dt>
          <dd data-testid="worker">
            {d.worker ?? (d.state === 'disabled' || d.state === 'paused' ? 'no node (stopped)' : 'waiting for a node')}
          </dd>
        </div>
      </dl>
      {d.lastError ? (
        <p className="notice notice--error small" data-testid="last-error">
          {d.state === 'active' ? 'Last error' : `Failing, ${d.attempts} ${d.attempts === 1 ? 'attempt' : 'attempts'}`}
          {/* The status, unless the error already says it. */}
          {d.lastStatus && !d.lastError.includes(String(d.lastStatus)) ? ` (${d.lastStatus})` : ''}: {d.lastError}
        </p>
      ) : null}
      {d.state === 'paused' ? (
        <p className="notice notice--warning small">
          Paused after failing for a day. Nothing was skipped: resuming carries on from seq {d.deliveredSeq + 1}.
        </p>
      ) : null}
      {d.secretRotating && d.previousSecretUntil ? (
        <p className="muted small">The previous secret also signs until {formatDateTime(d.previousSecretUntil)}.</p>
      ) : null}
      <div className="actions">
        <button type="button" className="button button--small" disabled={busy} onClick={() => void testSend()}>
          Send test
        </button>
        {d.state === 'retrying' ? (
          <button
            type="button"
            className="button button--small"
            disabled={busy}
            title="Try the waiting event now instead of at the scheduled time"
            onClick={() => void resume('retry')}
          >
            Retry now
          </button>
        ) : null}
        {d.state === 'paused' ? (
          <button
            type="button"
            className="button button--small button--good"
            disabled={busy}
            onClick={() => void resume('resume')}
          >
            Resume
          </button>
        ) : null}
        <button
          type="button"
          className={`button button--small${d.enabled ? ' button--bad' : ' button--good'}`}
          disabled={busy}
          onClick={() => void setEnabled(!d.enabled)}
        >
          {d.enabled ? 'Disable' : 'Enable'}
        </button>
        {d.kind === 'webhook' ? (
          <button
            type="button"
            className="button button--small"
            aria-expanded={panel === 'rotate'}
            onClick={() => setPanel(panel === 'rotate' ? null : 'rotate')}
          >
            Rotate secret
          </button>
        ) : null}
        <button
          type="button"
          className="button button--small"
          aria-expanded={panel === 'edit'}
          onClick={() => setPanel(panel === 'edit' ? null : 'edit')}
        >
          Edit
        </button>
        <button
          type="button"
          className="button button--small button--ghost"
          aria-expanded={logOpen}
          onClick={() => setLogOpen((open) => !open)}
        >
          {logOpen ? 'Hide delivery log' : 'Delivery log'}
        </button>
      </div>
      {message ? (
        <p
          className={`notice notice--${message.tone} small`}
          role={message.tone === 'error' ? 'alert' : 'status'}
          data-testid="action-result"
        >
          {message.text}
        </p>
      ) : null}
      {panel === 'edit' ? (
        <EditForm
          destination={d}
          channels={props.channels}
          onDone={(saved) => {
            setPanel(null);
            if (saved) {
              setMessage({ tone: 'success', text: 'Saved.' });
              props.onChanged();
            }
          }}
        />
      ) : null}
      {panel === 'rotate' ? (
        <RotateSecret
          base={base}
          name={d.name}
          onRotated={(value, previousUntil) => {
            setPanel(null);
            setSecret({ value, previousUntil });
            props.onChanged();
          }}
          onCancel={() => setPanel(null)}
        />
      ) : null}
      {secret ? (
        <SecretOnce title={`New signing secret of ${d.name}`} secret={secret.value} onDone={() => setSecret(null)}>
          <p className="small">
            {Date.parse(secret.previousUntil) > now
              ? `Until ${formatDateTime(secret.previousUntil)} each delivery is signed with both secrets, so receivers can switch to the new one in their own time.`
              : 'The old secret no longer signs: receivers need the new one now.'}
          </p>
        </SecretOnce>
      ) : null}
      {logOpen ? <DeliveryLog destinationId={d.id} name={d.name} tick={props.tick} /> : null}
    </li>
  );
}

function EditForm(props: { destination: Destination; channels: Channel[]; onDone(saved: boolean): void }) {
  const [name, setName] = useState(props.destination.name);
  const [channels, setChannels] = useState(props.destination.channels);
  const { errors, busy, submit: send } = useSchemaForm(destinationPatchSchema);
  const [refused, setRefused] = useState<string | null>(null);

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    const outcome = await send({ name, channels }, async (data) => {
      await api('PATCH', `/api/destinations/${encodeURIComponent(props.destination.id)}`, data);
      props.onDone(true);
    });
    if (!outcome.ok && outcome.refused) setRefused(outcome.refused.message);
  };

  return (
    <form
      className="panel stack"
      onSubmit={(e) => void submit(e)}
      noValidate
      aria-label={`Edit ${props.destination.name}`}
    >
      <Field label="Name" error={errors.name}>
        {(ids) => <input {...ids} name="name" value={name} onChange={(e) => setName(e.target.value)} />}
      </Field>
      <ChannelChecks
        legend="Channels"
        channels={props.channels}
        chosen={channels}
        error={errors.channels}
        onChange={setChannels}
      />
      <p className="muted small">
        A channel added now is delivered from this destination&apos;s current place in the log on; its earlier events
        are not sent.
      </p>
      {refused ? (
        <p className="notice notice--error small" role="alert">
          {refused}
        </p>
      ) : null}
      <div className="actions">
        <button type="submit" className="button button--small button--primary" disabled={busy}>
          Save
        </button>
        <button type="button" className="button button--small button--ghost" onClick={() => props.onDone(false)}>
          Cancel
        </button>
      </div>
    </form>
  );
}

const OVERLAPS = [
  { hours: 0, label: 'none: the old secret stops at once' },
  { hours: 1, label: '1 hour' },
  { hours: 24, label: '24 hours' },
  { hours: 168, label: '7 days' },
];

function RotateSecret(props: {
  base: string;
  name: string;
  onRotated(secret: string, previousUntil: string): void;
  onCancel(): void;
}) {
  const [overlapHours, setOverlapHours] = useState(24);
  const [error, setError] = useState<string | null>(null);
  const { busy, run } = useSingleFlight();

  const rotate = () =>
    run(async () => {
      try {
        const answer = await post<{ secret: string; previousSecretValidUntil: string }>(`${props.base}/rotate-secret`, {
          overlapHours,
        });
        props.onRotated(answer.secret, answer.previousSecretValidUntil);
      } catch (e) {
        setError(e instanceof Error ? e.message : String(e));
      }
    });

  return (
    <div className="panel stack" role="group" aria-label={`Rotate the secret of ${props.name}`}>
      <p className="small">
        A new secret signs every delivery from now on. During the overlap the old one signs too, so receivers keep
        verifying while they switch.
      </p>
      <Field label="Overlap">
        {(ids) => (
          <select {...ids} value={overlapHours} onChange={(e) => setOverlapHours(Number(e.target.value))}>
            {OVERLAPS.map((o) => (
              <option key={o.hours} value={o.hours}>
                {o.label}
              </option>
            ))}
          </select>
        )}
      </Field>
      {error ? (
        <p className="notice notice--error small" role="alert">
          {error}
        </p>
      ) : null}
      <div className="actions">
        <button
          type="button"
          className="button button--small button--primary"
          disabled={busy}
          onClick={() => void rotate()}
        >
          {busy ? 'Rotating…' : 'Rotate now'}
        </button>
        <button type="button" className="button button--small button--ghost" onClick={props.onCancel}>
          Cancel
        </button>
      </div>
    </div>
  );
}
