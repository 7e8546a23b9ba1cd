/**
 * The lifecycle buttons of one signal. What is offered comes from the shared rules
 * (`rejectUpdate`), the same ones the server enforces; each click is one event with its
 * own idempotency key, so a double click appends it once. Close and Cancel open a small
 * form for the price it ended at: optional to close, and required to cancel once the
 * signal is older than `LIMITS.cancelGraceMs`, since the statistics then count the cancel
 * at that price.
 */
import { useEffect, useReducer, useState } from 'react';
import type { SignalView, UpdateData } from '../../../shared/events.js';
import { fieldErrors } from '../../../shared/field-errors.js';
import { LIMITS } from '../../../shared/limits.js';
import { signalUpdateInputSchema } from '../../../shared/schemas.js';
import { rejectUpdate } from '../../../shared/signal-state.js';
import { ApiError, post } from '../../api/client.js';
import { Field, numberOf } from '../../components/form.js';
import { useSingleFlight } from '../../components/use-single-flight.js';

type Ending = 'closed' | 'cancelled';
type Panel = Ending | 'note' | null;

interface Action {
  label: string;
  update: UpdateData;
  tone?: 'good' | 'bad';
}

/** One-click updates; they carry no price (the level's own price is the one that counts). */
function actionsFor(view: SignalView): Action[] {
  const actions: Action[] = view.takeProfits.map((_, i) => ({
    label: `TP${i + 1} hit`,
    update: { type: 'tp_hit', level: i + 1 },
    tone: 'good',
  }));
  actions.push(
    { label: 'SL hit', update: { type: 'sl_hit' }, tone: 'bad' },
    { label: 'Breakeven', update: { type: 'breakeven' } },
  );
  return actions.filter((action) => rejectUpdate(view, action.update) === null);
}

/** Whether `type` may end the signal at some price (a missing price is asked for in the form). */
function offered(view: SignalView, type: Ending): boolean {
  const rejection = rejectUpdate(view, { type });
  return rejection === null || rejection.field === 'price';
}

/** Whether cancelling `view` at `now` needs a price: the same rule the server applies. */
function cancelNeedsPrice(view: SignalView, now: number): boolean {
  return rejectUpdate(view, { type: 'cancelled' }, now)?.field === 'price';
}

const GRACE_MINUTES = LIMITS.cancelGraceMs / 60_000;
const ENDINGS: Record<Ending, { button: string; label: string; submit: string }> = {
  closed: { button: 'Close', label: 'Exit price', submit: 'Close signal' },
  cancelled: { button: 'Cancel', label: 'Mark price', submit: 'Cancel signal' },
};

export function LifecycleActions(props: { view: SignalView }) {
  const { view } = props;
  const [panel, setPanel] = useState<Panel>(null);
  const [note, setNote] = useState('');
  const [price, setPrice] = useState('');
  const [priceError, setPriceError] = useState<string | undefined>(undefined);
  const [error, setError] = useState<string | null>(null);
  const { busy, run } = useSingleFlight();

  const toggle = (next: Panel) => {
    setPanel((current) => (current === next ? null : next));
    setPrice('');
    setPriceError(undefined);
    setError(null);
  };

  /** Sends `update` with a new idempotency key; false (with the reason shown) when it was refused. */
  const send = async (update: UpdateData): Promise<boolean> => {
    const body = { ...update, idempotencyKey: `web-${crypto.randomUUID()}` };
    const parsed = signalUpdateInputSchema.safeParse(body);
    if (!parsed.success) {
      const fields = fieldErrors(parsed.error);
      setPriceError(fields.price);
      if (fields.price === undefined) setError(parsed.error.issues[0]?.message ?? 'invalid update');
      return false;
    }
    // Checked at the moment of the click: the signal may have aged past the grace period since the form opened.
    const rejection = rejectUpdate(view, parsed.data, Date.now());
    if (rejection) {
      if (rejection.field === 'price') setPriceError(rejection.message);
      else setError(rejection.message);
      return false;
    }
    const sent = await run(async () => {
      try {
        await post(`/api/signals/${encodeURIComponent(view.id)}/updates`, parsed.data);
        setError(null);
        setPriceError(undefined);
        return true;
      } catch (e) {
        if (e instanceof ApiError && e.fields.price !== undefined) setPriceError(e.fields.price);
        else setError(e instanceof ApiError ? e.message : String(e));
        return false;
      }
    });
    return sent ?? false;
  };

  const end = async (type: Ending) => {
    const amount = numberOf(price);
    if (await send(amount === undefined ? { type } : { type, price: amount })) {
      setPanel(null);
      setPrice('');
    }
  };

  const addNote = async () => {
    if (await send({ type: 'note', notes: note })) {
      setNote('');
      setPanel(null);
    }
  };

  const endings = (['closed', 'cancelled'] as const).filter((type) => offered(view, type));
  const ending = panel === 'closed' || panel === 'cancelled' ? panel : null;

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
      {endings.map((type) => (
        <button
          key={type}
          type="button"
          className="button button--small"
          aria-expanded={panel === type}
          onClick={() => toggle(type)}
        >
          {ENDINGS[type].button}
        </button>
      ))}
      <button
        type="button"
        className="button button--small button--ghost"
        aria-expanded={panel === 'note'}
        onClick={() => toggle('note')}
      >
        Note
      </button>
      {ending && endings.includes(ending) ? (
        <EndForm
          view={view}
          type={ending}
          price={price}
          error={priceError}
          busy={busy}
          onPrice={(text) => {
            setPrice(text);
            setPriceError(undefined);
          }}
          onSubmit={() => void end(ending)}
          onBack={() => toggle(null)}
        />
      ) : null}
      {panel === 'note' ? (
        <form
          className="actions__note"
          onSubmit={(e) => {
            e.preventDefault();
            void addNote();
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

function EndForm(props: {
  view: SignalView;
  type: Ending;
  price: string;
  error: string | undefined;
  busy: boolean;
  onPrice(text: string): void;
  onSubmit(): void;
  onBack(): void;
}) {
  const { view, type } = props;
  const text = ENDINGS[type];
  const required = type === 'cancelled' && cancelNeedsPrice(view, Date.now());
  useRerenderAt(type === 'cancelled' && !required ? Date.parse(view.createdAt) + LIMITS.cancelGraceMs + 1 : null);
  const hint =
    type === 'closed'
      ? 'Optional: the price the position was closed at, shown as the exit.'
      : required
        ? `Required: published more than ${GRACE_MINUTES} min ago, so the statistics count the cancel at this price.`
        : `Optional now; required ${GRACE_MINUTES} min after publishing (the statistics then count the cancel at this price).`;

  return (
    <form
      className="actions__end"
      aria-label={`${text.button} ${view.symbol}`}
      noValidate
      onSubmit={(e) => {
        e.preventDefault();
        props.onSubmit();
      }}
    >
      <Field label={text.label} error={props.error} hint={hint}>
        {(ids) => (
          <input
            {...ids}
            name="price"
            inputMode="decimal"
            autoComplete="off"
            aria-required={required}
            placeholder={required ? 'required' : 'optional'}
            value={props.price}
            onChange={(e) => props.onPrice(e.target.value)}
            autoFocus
          />
        )}
      </Field>
      <div className="actions">
        <button
          type="submit"
          className={`button button--small${type === 'cancelled' ? ' button--bad' : ' button--primary'}`}
          disabled={props.busy}
        >
          {text.submit}
        </button>
        <button type="button" className="button button--small button--ghost" onClick={props.onBack}>
          Back
        </button>
      </div>
    </form>
  );
}

/** Renders again at `at` (epoch ms), so a rule that depends on the time shows its new answer. */
function useRerenderAt(at: number | null): void {
  const [, rerender] = useReducer((n: number) => n + 1, 0);
  useEffect(() => {
    if (at === null) return;
    const timer = setTimeout(rerender, Math.max(0, at - Date.now()));
    return () => clearTimeout(timer);
  }, [at]);
}
