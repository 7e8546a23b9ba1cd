/**
 * "Paste a signal": a message as signal channels post it, read in the browser by the same
 * parser the server's text inlets use (`parseTextSignal`), filling the compose form for review.
 * It never publishes: the form's own Publish button does, after the admin has looked.
 */
import { useId, useState } from 'react';
import type { Market } from '../../../shared/schemas.js';
import { parseTextSignal, type ParsedTextSignal, type TextSignalResult } from '../../../shared/text-signal.js';
import './paste-signal.css';

export function PasteSignal(props: { market: Market; onFill(signal: ParsedTextSignal): void }) {
  const id = useId();
  const [text, setText] = useState('');
  const [result, setResult] = useState<TextSignalResult | null>(null);

  const fill = () => {
    const read = parseTextSignal(text, { market: props.market });
    setResult(read);
    if (read.ok) props.onFill(read.signal);
  };

  return (
    <details className="paste-signal">
      <summary>Paste a signal</summary>
      <div className="field">
        <label htmlFor={id}>Signal text</label>
        <textarea
          id={id}
          name="pasted"
          rows={6}
          value={text}
          placeholder={'BTC/USDT LONG\nEntry 64000\nSL 63000\nTP 65000 66000'}
          onChange={(e) => {
            setText(e.target.value);
            setResult(null);
          }}
        />
      </div>
      <button type="button" className="button button--small" disabled={!text.trim()} onClick={fill}>
        Fill the form
      </button>
      <PasteResult result={result} />
    </details>
  );
}

function PasteResult(props: { result: TextSignalResult | null }) {
  const { result } = props;
  if (!result) return null;
  if (!result.ok) {
    return (
      <div className="notice notice--error" role="status" data-testid="paste-result">
        Not filled in:
        <ul>
          {Object.entries(result.errors).map(([field, reason]) => (
            <li key={field}>{reason}</li>
          ))}
        </ul>
      </div>
    );
  }
  return (
    <div className="notice notice--success" role="status" data-testid="paste-result">
      The form is filled in: check it, then publish.
      {result.warnings.length ? (
        <ul>
          {result.warnings.map((warning) => (
            <li key={warning}>{warning}</li>
          ))}
        </ul>
      ) : null}
    </div>
  );
}
