/**
 * The address and secret of a source, shown once after it is created or rotated (the server
 * keeps only a hash), with the alert message to paste into TradingView for a strategy or an
 * indicator, and what each part of it does.
 */
import { useState } from 'react';
import { TRADINGVIEW_TEMPLATES, type SourceSecret } from '../../../shared/sources.js';
import type { SourceRecord } from '../../../server/store/integrations.js';
import { CopyField } from './copy-field.js';

type Kind = keyof typeof TRADINGVIEW_TEMPLATES;

export function SourceSecretPanel(props: { source: SourceRecord & SourceSecret; onDone(): void }) {
  const { source } = props;
  const [kind, setKind] = useState<Kind>('strategy');
  const address = source.absoluteUrl ?? new URL(source.url, window.location.origin).href;

  return (
    <section className="card stack secret-panel" aria-labelledby="secret-heading" data-testid="source-secret">
      <h2 id="secret-heading">“{source.name}”: its webhook address, shown this once</h2>
      <p className="notice notice--warning">
        Copy the address now. The server keeps only a hash of its secret: to see an address again, rotate the secret
        (the old address stops working at once).
      </p>
      <CopyField label="Webhook URL" value={address} testId="source-url" />
      <CopyField label="Secret" value={source.secret} testId="source-secret-value" />

      <div className="segmented" role="group" aria-label="Alert of a">
        {(['strategy', 'indicator'] as const).map((k) => (
          <button
            key={k}
            type="button"
            className="button button--small"
            aria-pressed={kind === k}
            onClick={() => setKind(k)}
          >
            {k === 'strategy' ? 'Strategy alert' : 'Indicator alert'}
          </button>
        ))}
      </div>
      <CopyField
        label={`Alert message (${kind})`}
        value={TRADINGVIEW_TEMPLATES[kind]}
        multiline
        testId="source-template"
      />
      <TemplateNotes kind={kind} />
      <button type="button" className="button button--primary" onClick={props.onDone}>
        Done: I copied the address
      </button>
    </section>
  );
}

function TemplateNotes(props: { kind: Kind }) {
  return (
    <ol className="small secret-panel__steps">
      <li>
        In TradingView, open <strong>Create alert</strong>. Under <strong>Notifications</strong>, tick{' '}
        <strong>Webhook URL</strong> and paste the address (TradingView asks for two-factor authentication on the
        account, and posts only to ports 80 and 443: serve signal-desk over HTTPS).
      </li>
      {props.kind === 'strategy' ? (
        <li>
          Pick the strategy as the condition and paste the message. A strategy alert fires on every order:{' '}
          <code>{'{{strategy.order.action}}'}</code> gives buy or sell, and an order after which{' '}
          <code>{'{{strategy.market_position}}'}</code> is flat closes the open signal instead of opening one.
        </li>
      ) : (
        <li>
          An indicator has no orders: create one alert per condition (long, short) and write the side into its message —{' '}
          <code>"action":"buy"</code> or <code>"action":"sell"</code> — and into the end of its <code>id</code>.
        </li>
      )}
      <li>
        TradingView knows no stop or target of its own: <code>sl</code> and <code>tp</code> must come from your script —
        plots titled “Stop”, “Target 1”, “Target 2” (<code>{'{{plot("Stop")}}'}</code>, or <code>{'{{plot_0}}'}</code>{' '}
        by number) — or be written as fixed prices. Rename them to your plots’ titles.
      </li>
      <li>
        Every value is in quotes: a plot with no value renders as NaN, and the request log then names the key instead of
        refusing the whole message as broken JSON.
      </li>
      <li>
        The <code>id</code> makes a resent alert a duplicate rather than a second signal: keep it unique per alert.
        Without one, an identical body within 10 minutes counts as the same alert.
      </li>
    </ol>
  );
}
