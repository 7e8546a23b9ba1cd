/**
 * A new API token, which the server shows once (it keeps only a hash): the token with a copy
 * button and a `curl` that publishes a signal with it, ready to paste into a terminal.
 */
import type { CreatedApiToken } from '../../api/types.js';
import { CopyField } from '../sources/copy-field.js';

/** A `curl` publishing a buy on `channel` with `token`: the request a bot makes. */
export function curlExample(origin: string, token: string, channel: string): string {
  const body = JSON.stringify({
    channel,
    symbol: 'BTCUSDT',
    market: 'crypto',
    side: 'buy',
    entry: 65000,
    stopLoss: 63500,
    takeProfits: [66500, 68000],
  });
  return [
    `curl -X POST ${origin}/api/signals \\`,
    `  -H 'Authorization: Bearer ${token}' \\`,
    `  -H 'Content-Type: application/json' \\`,
    `  -d '${body}'`,
  ].join('\n');
}

export function TokenOnce(props: { created: CreatedApiToken; onDone(): void }) {
  const { created } = props;
  const channel = created.channels[0] ?? 'your-channel';
  return (
    <section className="card stack secret-panel" aria-labelledby="token-once-heading" data-testid="token-once">
      <h2 id="token-once-heading">“{created.name}”: its token, shown this once</h2>
      <p className="notice notice--warning">
        Copy the token now. The server keeps only a hash of it: a lost token cannot be shown again; revoke it and make
        another.
      </p>
      <CopyField label="API token" value={created.token} testId="token-value" />
      <CopyField
        label={`Publish a signal to #${channel} with it`}
        value={curlExample(window.location.origin, created.token, channel)}
        multiline
        testId="token-curl"
      />
      <p className="muted small">
        The same header works for <code>POST /api/signals/&lt;id&gt;/updates</code>, on{' '}
        {created.channels.map((c) => `#${c}`).join(', ')} only. Add an <code>idempotencyKey</code> (8 to 128 characters)
        to the body so that a request sent again after a timeout publishes once.
      </p>
      <div>
        <button type="button" className="button button--primary" onClick={props.onDone}>
          Done: I copied the token
        </button>
      </div>
    </section>
  );
}
