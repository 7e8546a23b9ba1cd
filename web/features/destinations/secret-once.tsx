/**
 * A webhook's signing secret, which the server shows once (on creation and on rotation): a
 * copy button, and how receivers check deliveries with it, since nobody can look it up later.
 */
import { useState, type ReactNode } from 'react';
import { CopyIcon } from '../../components/icons.js';

export function SecretOnce(props: { title: string; secret: string; children?: ReactNode; onDone(): void }) {
  const [copied, setCopied] = useState<'yes' | 'failed' | null>(null);

  const copy = () => {
    navigator.clipboard
      .writeText(props.secret)
      .then(() => setCopied('yes'))
      // Clipboard refused (an old browser, no permission): the text can still be selected by hand.
      .catch(() => setCopied('failed'));
  };

  return (
    <div className="secret stack" role="region" aria-label={props.title}>
      <h3 className="subheading">{props.title}</h3>
      <p className="small">Copy it now: it is shown only this once.</p>
      <div className="secret__value">
        <code data-testid="webhook-secret">{props.secret}</code>
        <button type="button" className="button button--small" onClick={copy}>
          <CopyIcon />
          {copied === 'yes' ? 'Copied' : 'Copy'}
        </button>
      </div>
      {copied === 'failed' ? (
        <p className="field__error" role="alert">
          The browser did not allow copying; select the secret and copy it by hand.
        </p>
      ) : null}
      {props.children}
      <p className="muted small">
        Receivers verify each delivery as the Standard Webhooks spec says: <code>webhook-signature</code> holds{' '}
        <code>v1,</code> and the base64 HMAC-SHA256 of <code>webhook-id.webhook-timestamp.body</code>, keyed with the
        base64-decoded part of the secret after <code>whsec_</code>. The <code>standardwebhooks</code> libraries do it
        in one call. Refuse old timestamps, and use <code>webhook-id</code> (the event id) to drop repeats. More in
        docs/INTEGRATIONS.md.
      </p>
      <div>
        <button type="button" className="button button--small" onClick={props.onDone}>
          Done, it is saved
        </button>
      </div>
    </div>
  );
}
