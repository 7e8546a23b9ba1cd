/**
 * Compose a signal. The form is checked on every change with the very schema the server
 * uses (`signalInputSchema`), each error shown under its field; nothing is sent while any
 * remains. One idempotency key belongs to one composition, so a double click — or a retry
 * after a lost response — can only ever create one signal.
 */
import { useState, type FormEvent } from 'react';
import type { SignalView } from '../../../shared/events.js';
import { LIMITS } from '../../../shared/limits.js';
import { MARKETS, signalInputSchema, type Market, type Side } from '../../../shared/schemas.js';
import { ApiError, post } from '../../api/client.js';
import type { Channel } from '../../api/types.js';
import { fieldErrors } from '../../../shared/field-errors.js';
import { Field, numberOf, optionalText } from '../../components/form.js';
import { useSingleFlight } from '../../components/use-single-flight.js';
import type { ParsedTextSignal } from '../../../shared/text-signal.js';
import { PasteSignal } from './paste-signal.js';
import { SignalPreview } from './signal-preview.js';

interface Draft {
  channel: string;
  symbol: string;
  market: Market;
  side: Side;
  entry: string;
  stopLoss: string;
  takeProfits: string[];
  timeframe: string;
  leverage: string;
  source: string;
  notes: string;
}

const newKey = () => `web-${crypto.randomUUID()}`;

function blank(channel: string, market: Market = 'crypto'): Draft {
  return {
    channel,
    symbol: '',
    market,
    side: 'buy',
    entry: '',
    stopLoss: '',
    takeProfits: [''],
    timeframe: '',
    leverage: '',
    source: '',
    notes: '',
  };
}

function toInput(draft: Draft, idempotencyKey: string) {
  return {
    channel: draft.channel,
    symbol: draft.symbol.trim().toUpperCase(),
    market: draft.market,
    side: draft.side,
    entry: numberOf(draft.entry),
    stopLoss: numberOf(draft.stopLoss),
    takeProfits: draft.takeProfits.map(numberOf),
    timeframe: optionalText(draft.timeframe),
    leverage: numberOf(draft.leverage),
    source: optionalText(draft.source),
    notes: optionalText(draft.notes),
    idempotencyKey,
  };
}

export function ComposeForm(props: { channels: Channel[] }) {
  const [draft, setDraft] = useState<Draft>(() => blank(props.channels[0]?.slug ?? ''));
  const [key, setKey] = useState(newKey);
  const [touched, setTouched] = useState<Set<string>>(new Set());
  const [attempted, setAttempted] = useState(false);
  const [serverErrors, setServerErrors] = useState<Record<string, string>>({});
  const [status, setStatus] = useState<{ tone: 'error' | 'success'; text: string } | null>(null);
  const { busy, run } = useSingleFlight();

  const channel = draft.channel || props.channels[0]?.slug || '';
  const input = toInput({ ...draft, channel }, key);
  const parsed = signalInputSchema.safeParse(input);
  const errors = { ...fieldErrors(parsed.error), ...serverErrors };
  const show = (field: string) => (attempted || touched.has(field) ? errors[field] : undefined);

  const update = (patch: Partial<Draft>, field: string) => {
    setDraft((d) => ({ ...d, ...patch }));
    setTouched((t) => new Set(t).add(field));
    setServerErrors({});
    setStatus(null);
  };
  // A pasted signal fills every field it carries, shown as touched so its errors show at once.
  const fill = (signal: ParsedTextSignal) => {
    const fields = { ...signal, takeProfits: signal.takeProfits.map(String) };
    setDraft((d) => ({
      ...d,
      ...fields,
      entry: String(signal.entry),
      stopLoss: String(signal.stopLoss),
      timeframe: signal.timeframe ?? '',
      leverage: signal.leverage === undefined ? '' : String(signal.leverage),
      notes: signal.notes ?? '',
    }));
    setTouched(new Set(Object.keys(fields)));
    setServerErrors({});
    setStatus(null);
  };
  const setTp = (index: number, value: string) =>
    update({ takeProfits: draft.takeProfits.map((tp, i) => (i === index ? value : tp)) }, `takeProfits.${index}`);

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    setAttempted(true);
    if (!parsed.success) return;
    await run(async () => {
      try {
        const signal = await post<SignalView>('/api/signals', parsed.data);
        setStatus({ tone: 'success', text: `Published ${signal.side} ${signal.symbol} (#${signal.seq}).` });
        setDraft(blank(channel, draft.market));
        setKey(newKey());
        setTouched(new Set());
        setAttempted(false);
      } catch (error) {
        if (!(error instanceof ApiError)) throw error;
        setServerErrors(error.fields);
        setStatus({ tone: 'error', text: error.message });
      }
    });
  };

  const tpError = show('takeProfits');
  return (
    <div className="compose">
      <form className="card compose__form" onSubmit={(e) => void submit(e)} noValidate aria-label="Compose a signal">
        <h2>New signal</h2>
        <PasteSignal market={draft.market} onFill={fill} />
        <div className="grid grid--2">
          <Field label="Channel" error={show('channel')}>
            {(ids) => (
              <select
                {...ids}
                name="channel"
                value={channel}
                onChange={(e) => update({ channel: e.target.value }, 'channel')}
              >
                {props.channels.length === 0 ? <option value="">Create a channel first</option> : null}
                {props.channels.map((c) => (
                  <option key={c.slug} value={c.slug}>
                    {c.name}
                  </option>
                ))}
              </select>
            )}
          </Field>
          <Field label="Market" error={show('market')}>
            {(ids) => (
              <select
                {...ids}
                name="market"
                value={draft.market}
                onChange={(e) => update({ market: e.target.value as Market }, 'market')}
              >
                {MARKETS.map((m) => (
                  <option key={m} value={m}>
                    {m[0]?.toUpperCase() + m.slice(1)}
                  </option>
                ))}
              </select>
            )}
          </Field>
        </div>
        <div className="grid grid--2">
          <Field label="Symbol" error={show('symbol')}>
            {(ids) => (
              <input
                {...ids}
                name="symbol"
                placeholder="BTCUSDT"
                autoCapitalize="characters"
                value={draft.symbol}
                onChange={(e) => update({ symbol: e.target.value }, 'symbol')}
              />
            )}
          </Field>
          <fieldset className="field side-picker">
            <legend>Side</legend>
            {(['buy', 'sell'] as const).map((side) => (
              <label key={side} className={`side-picker__option side-picker__option--${side}`}>
                <input
                  type="radio"
                  name="side"
                  value={side}
                  checked={draft.side === side}
                  onChange={() => update({ side }, 'side')}
                />
                {side === 'buy' ? 'Buy' : 'Sell'}
              </label>
            ))}
          </fieldset>
        </div>
        <div className="grid grid--2">
          <Field label="Entry" error={show('entry')}>
            {(ids) => (
              <input
                {...ids}
                name="entry"
                inputMode="decimal"
                value={draft.entry}
                onChange={(e) => update({ entry: e.target.value }, 'entry')}
              />
            )}
          </Field>
          <Field label="Stop loss" error={show('stopLoss')}>
            {(ids) => (
              <input
                {...ids}
                name="stopLoss"
                inputMode="decimal"
                value={draft.stopLoss}
                onChange={(e) => update({ stopLoss: e.target.value }, 'stopLoss')}
              />
            )}
          </Field>
        </div>
        <div className="take-profits">
          {draft.takeProfits.map((tp, i) => (
            <Field key={i} label={`Take-profit ${i + 1}`} error={show(`takeProfits.${i}`)}>
              {(ids) => (
                <div className="input-with-action">
                  <input
                    {...ids}
                    name={`takeProfits.${i}`}
                    inputMode="decimal"
                    value={tp}
                    onChange={(e) => setTp(i, e.target.value)}
                  />
                  {draft.takeProfits.length > 1 ? (
                    <button
                      type="button"
                      className="button button--ghost button--small"
                      aria-label={`Remove take-profit ${i + 1}`}
                      onClick={() =>
                        update({ takeProfits: draft.takeProfits.filter((_, j) => j !== i) }, 'takeProfits')
                      }
                    >
                      ✕
                    </button>
                  ) : null}
                </div>
              )}
            </Field>
          ))}
          {tpError ? (
            <p className="field__error" role="alert">
              {tpError}
            </p>
          ) : null}
          {draft.takeProfits.length < LIMITS.takeProfitsMax ? (
            <button
              type="button"
              className="button button--ghost button--small"
              onClick={() => update({ takeProfits: [...draft.takeProfits, ''] }, 'takeProfits')}
            >
              + Add take-profit
            </button>
          ) : null}
        </div>
        <div className="grid grid--3">
          <Field label="Timeframe" error={show('timeframe')}>
            {(ids) => (
              <input
                {...ids}
                name="timeframe"
                placeholder="4h"
                value={draft.timeframe}
                onChange={(e) => update({ timeframe: e.target.value }, 'timeframe')}
              />
            )}
          </Field>
          <Field label="Leverage" error={show('leverage')}>
            {(ids) => (
              <input
                {...ids}
                name="leverage"
                inputMode="decimal"
                placeholder="optional"
                value={draft.leverage}
                onChange={(e) => update({ leverage: e.target.value }, 'leverage')}
              />
            )}
          </Field>
          <Field label="Source" error={show('source')}>
            {(ids) => (
              <input
                {...ids}
                name="source"
                placeholder="analyst or strategy"
                value={draft.source}
                onChange={(e) => update({ source: e.target.value }, 'source')}
              />
            )}
          </Field>
        </div>
        <Field label="Notes" error={show('notes')} hint={`${draft.notes.length} / ${LIMITS.notesMaxChars}`}>
          {(ids) => (
            <textarea
              {...ids}
              name="notes"
              rows={3}
              value={draft.notes}
              onChange={(e) => update({ notes: e.target.value }, 'notes')}
            />
          )}
        </Field>
        {status ? (
          <p className={`notice notice--${status.tone}`} role="status" data-testid="compose-status">
            {status.text}
          </p>
        ) : null}
        <button type="submit" className="button button--primary" disabled={busy}>
          {busy ? 'Publishing…' : 'Publish signal'}
        </button>
      </form>
      <SignalPreview input={input} valid={parsed.success} />
    </div>
  );
}
