/**
 * A channel's delayed mirror: "Receives #vip after 24 h", with edit and remove. Released
 * signals are new events of this channel's own chain naming the original, so the setting
 * only decides what is appended from now on; nothing already released changes.
 */
import { useState, type FormEvent } from 'react';
import { mirrorInputSchema } from '../../../shared/schemas.js';
import { api } from '../../api/client.js';
import type { Channel, Mirror } from '../../api/types.js';
import { Field, numberOf } from '../../components/form.js';
import { useSchemaForm } from '../../components/use-schema-form.js';
import { useSingleFlight } from '../../components/use-single-flight.js';

const UNITS = [
  { seconds: 86_400, label: 'days' },
  { seconds: 3_600, label: 'hours' },
  { seconds: 60, label: 'minutes' },
  { seconds: 1, label: 'seconds' },
] as const;

/** "24 h", "3 d", "90 min", "45 s": exact, in the largest unit that divides it (days from 2 on). */
export function formatDelay(seconds: number): string {
  if (seconds >= 2 * 86_400 && seconds % 86_400 === 0) return `${seconds / 86_400} d`;
  if (seconds % 3_600 === 0) return `${seconds / 3_600} h`;
  if (seconds % 60 === 0) return `${seconds / 60} min`;
  return `${seconds} s`;
}

/** The form's amount and unit for a delay: the largest unit that divides it. */
function split(seconds: number): { amount: string; unit: number } {
  const unit = UNITS.find((u) => seconds % u.seconds === 0) ?? UNITS[3];
  return { amount: String(seconds / unit.seconds), unit: unit.seconds };
}

type Mode = 'view' | 'edit' | 'remove';

export function ChannelMirror(props: {
  channel: Channel;
  channels: Channel[];
  mirror: Mirror | undefined;
  onChanged(): void;
}) {
  const { channel, mirror } = props;
  const [mode, setMode] = useState<Mode>('view');
  const [error, setError] = useState<string | null>(null);
  const remove = useSingleFlight();
  const others = props.channels.filter((c) => c.slug !== channel.slug);
  const path = `/api/channels/${encodeURIComponent(channel.slug)}/mirror`;

  const confirmRemove = () =>
    remove.run(async () => {
      try {
        await api('DELETE', path);
        setMode('view');
        setError(null);
        props.onChanged();
      } catch (e) {
        setError(e instanceof Error ? e.message : String(e));
      }
    });

  if (mode === 'edit') {
    return (
      <MirrorForm
        channel={channel}
        others={others}
        mirror={mirror}
        path={path}
        onDone={(saved) => {
          setMode('view');
          if (saved) props.onChanged();
        }}
      />
    );
  }
  return (
    <div
      className="mirror"
      data-testid="mirror"
      data-origin={mirror?.origin ?? ''}
      data-delay={mirror?.delaySeconds ?? ''}
    >
      {mirror ? (
        <p className="mirror__summary">
          Receives <strong>#{mirror.origin}</strong> after <strong>{formatDelay(mirror.delaySeconds)}</strong>
        </p>
      ) : null}
      {mode === 'remove' && mirror ? (
        <div className="confirm" role="group" aria-label={`Stop mirroring into #${channel.slug}`}>
          <p>
            Stop releasing #{mirror.origin} into #{channel.slug}? Signals not yet released are not released; those
            already released stay.
          </p>
          <div className="actions">
            <button
              type="button"
              className="button button--small button--bad"
              disabled={remove.busy}
              onClick={() => void confirmRemove()}
              autoFocus
            >
              Yes, stop it
            </button>
            <button type="button" className="button button--small button--ghost" onClick={() => setMode('view')}>
              Keep it
            </button>
          </div>
        </div>
      ) : others.length > 0 ? (
        <div className="actions">
          <button type="button" className="button button--small" onClick={() => setMode('edit')}>
            {mirror ? 'Edit mirror' : 'Receive another channel after a delay'}
          </button>
          {mirror ? (
            <button type="button" className="button button--small button--ghost" onClick={() => setMode('remove')}>
              Remove mirror
            </button>
          ) : null}
        </div>
      ) : null}
      {error ? (
        <p className="field__error" role="alert">
          {error}
        </p>
      ) : null}
    </div>
  );
}

function MirrorForm(props: {
  channel: Channel;
  others: Channel[];
  mirror: Mirror | undefined;
  path: string;
  onDone(saved: boolean): void;
}) {
  const initial = split(props.mirror?.delaySeconds ?? 86_400);
  const [origin, setOrigin] = useState(props.mirror?.origin ?? props.others[0]?.slug ?? '');
  const [amount, setAmount] = useState(initial.amount);
  const [unit, setUnit] = useState<number>(initial.unit);
  const { errors, busy, submit: send } = useSchemaForm(mirrorInputSchema);
  const [refused, setRefused] = useState<string | null>(null);

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    setRefused(null);
    const count = numberOf(amount);
    // An empty or non-numeric amount stays NaN, which the schema refuses with its own words.
    const delaySeconds = count === undefined ? Number.NaN : Math.round(count * unit);
    const outcome = await send({ origin, delaySeconds }, async (data) => {
      await api('PUT', props.path, data);
      props.onDone(true);
    });
    if (!outcome.ok && outcome.refused && Object.keys(outcome.refused.fields).length === 0)
      setRefused(outcome.refused.message);
  };

  return (
    <form
      className="panel stack"
      onSubmit={(e) => void submit(e)}
      noValidate
      aria-label={`Mirror into #${props.channel.slug}`}
    >
      <Field label="Receives the signals of" error={errors.origin}>
        {(ids) => (
          <select {...ids} name="origin" value={origin} onChange={(e) => setOrigin(e.target.value)}>
            {props.others.map((c) => (
              <option key={c.slug} value={c.slug}>
                {c.name} (#{c.slug})
              </option>
            ))}
          </select>
        )}
      </Field>
      <div className="mirror__delay">
        <Field label="After" error={errors.delaySeconds}>
          {(ids) => (
            <input
              {...ids}
              name="delay"
              inputMode="numeric"
              value={amount}
              onChange={(e) => setAmount(e.target.value)}
            />
          )}
        </Field>
        <Field label="Unit">
          {(ids) => (
            <select {...ids} name="unit" value={unit} onChange={(e) => setUnit(Number(e.target.value))}>
              {UNITS.map((u) => (
                <option key={u.seconds} value={u.seconds}>
                  {u.label}
                </option>
              ))}
            </select>
          )}
        </Field>
      </div>
      <p className="muted small">
        {props.mirror?.origin === origin
          ? 'The new delay applies to everything not yet released.'
          : `From now on: what #${origin || '…'} published before is not released.`}{' '}
        At most 30 days.
      </p>
      {refused ? (
        <p className="notice notice--error small" role="alert">
          {refused}
        </p>
      ) : null}
      <div className="actions">
        <button type="submit" className="button button--small button--primary" disabled={busy}>
          Save mirror
        </button>
        <button type="button" className="button button--small button--ghost" onClick={() => props.onDone(false)}>
          Cancel
        </button>
      </div>
    </form>
  );
}
