/**
 * The lifecycle buttons of one signal. What is offered comes from the shared rules
 * (`rejectUpdate`), the same ones the server enforces; each click is one event with its
 * own idempotency key, so a double click appends it once.
 */
import { useState } from 'react';
import type { SignalView, UpdateData } from '../../../shared/events.js';
import { signalUpdateInputSchema } from '../../../shared/schemas.js';
import { rejectUpdate } from '../../../shared/signal-state.js';
import { ApiError, post } from '../../api/client.js';
import { useSingleFlight } from '../../components/use-single-flight.js';

interface Action {
  label: string;
  update: UpdateData;
  tone?: 'good' | 'bad';
}

function actionsFor(view: SignalView): Action[] {
  const actions: Action[] = view.takeProfits.map((_, i) => ({
    label: `TP${i + 1} hit`,
    update: { type: 'tp_hit', level: i + 1 },
    tone: 'good',
  }));
  actions.push(
    { label: 'SL hit', update: { type: 'sl_hit' }, tone: 'bad' },
    { label: 'Breakeven', update: { type: 'breakeven' } },
    { label: 'Close', update: { type: 'closed' } },
    { label: 'Cancel', update: { type: 'cancelled' } },
  );
  return actions.filter((action) => rejectUpdate(view, action.update) === null);
}

export function LifecycleActions(props: { view: SignalView }) {
  const { view } = props;
  const [note, setNote] = useState('');
  const [noting, setNoting] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const { busy, run } = useSingleFlight();

  const send = async (update: UpdateData) => {
    const body = { ...update, idempotencyKey: `web-${crypto.randomUUID()}` };
    const parsed = signalUpdateInputSchema.safeParse(body);
    if (!parsed.success) return setError(parsed.error.issues[0]?.message ?? 'invalid update');
    await run(async () => {
      try {
        await post(`/api/signals/${encodeURIComponent(view.id)}/updates`, parsed.data);
        setError(null);
        if (update.type === 'note') {
          setNote('');
          setNoting(false);
        }
      } catch (e) {
        setError(e instanceof ApiError ? e.message : String(e));
      }
    });
  };

  return (
    <div className="actions" aria-label={`Update ${view.symbol}`} role="group">
      {actionsFor(view).map((action) => (
        <button
          key={action.label}
          type="button"
          className={`button button--small${action.tone ? ` button--${action.tone}` : ''}`}
          disabled={busy}
          onClick={() => void send(action.update)}
        >
          {action.label}
        </button>
      ))}
      <button type="button" className="button button--small button--ghost" onClick={() => setNoting((n) => !n)}>
        Note
      </button>
      {noting ? (
        <form
          className="actions__note"
          onSubmit={(e) => {
            e.preventDefault();
            void send({ type: 'note', notes: note });
          }}
        >
          <label className="sr-only" htmlFor={`note-${view.id}`}>
            Note for {view.symbol}
          </label>
          <input
            id={`note-${view.id}`}
            value={note}
            onChange={(e) => setNote(e.target.value)}
            placeholder="Add a note for subscribers"
            autoFocus
          />
          <button type="submit" className="button button--small button--primary" disabled={busy}>
            Add note
          </button>
        </form>
      ) : null}
      {error ? (
        <p className="field__error" role="alert">
          {error}
        </p>
      ) : null}
    </div>
  );
}
