import { SideBadge } from '../../components/badges.js';
import { formatPrice } from '../../components/format.js';

interface PreviewInput {
  channel: string;
  symbol: string;
  market: string;
  side: 'buy' | 'sell';
  entry: number | undefined;
  stopLoss: number | undefined;
  takeProfits: Array<number | undefined>;
  timeframe?: string | undefined;
  leverage?: number | undefined;
  source?: string | undefined;
  notes?: string | undefined;
}

const price = (n: number | undefined) => (n === undefined || !Number.isFinite(n) ? '—' : formatPrice(n));

/** What subscribers will see, as it will read — before anything is sent. */
export function SignalPreview(props: { input: PreviewInput; valid: boolean }) {
  const { input } = props;
  return (
    <aside className="card preview" aria-label="Preview" data-testid="preview">
      <h2>Preview</h2>
      <div className={`preview__card preview__card--${input.side}`}>
        <div className="preview__head">
          <SideBadge side={input.side} />
          <strong className="preview__symbol">{input.symbol || 'SYMBOL'}</strong>
          <span className="muted">
            {input.market} · #{input.channel || 'channel'}
            {input.timeframe ? ` · ${input.timeframe}` : ''}
            {input.leverage ? ` · ${input.leverage}×` : ''}
          </span>
        </div>
        <dl className="preview__prices">
          <div>
            <dt>Entry</dt>
            <dd>{price(input.entry)}</dd>
          </div>
          <div>
            <dt>Stop loss</dt>
            <dd className="price--stop">{price(input.stopLoss)}</dd>
          </div>
          {input.takeProfits.map((tp, i) => (
            <div key={i}>
              <dt>TP{i + 1}</dt>
              <dd className="price--target">{price(tp)}</dd>
            </div>
          ))}
        </dl>
        {input.source ? <p className="muted">Source: {input.source}</p> : null}
        {/* Notes are plain text: React escapes them, nothing is parsed as HTML. */}
        {input.notes ? <p className="notes">{input.notes}</p> : null}
      </div>
      <p className={`preview__state ${props.valid ? 'ok' : 'muted'}`}>
        {props.valid ? 'Ready to publish.' : 'Complete the form to publish.'}
      </p>
    </aside>
  );
}
