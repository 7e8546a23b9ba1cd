/**
 * An admin's hold on someone else's account: set a new password, or sign them out on every
 * device. Both end every session of that user at once (their open pages return to sign-in),
 * so each takes a second step before anything is sent.
 */
import { useState, type FormEvent } from 'react';
import type { PublicUser } from '../../../shared/events.js';
import { passwordResetSchema } from '../../../shared/schemas.js';
import { ApiError, post } from '../../api/client.js';
import { NewPasswordField } from '../../components/form.js';
import { useSchemaForm } from '../../components/use-schema-form.js';
import { useSingleFlight } from '../../components/use-single-flight.js';

type Step = 'idle' | 'reset' | 'sign-out';
type Message = { tone: 'error' | 'success'; text: string };

export function UserAccountActions(props: { user: PublicUser }) {
  const { user } = props;
  const base = `/api/users/${encodeURIComponent(user.id)}`;
  const [step, setStep] = useState<Step>('idle');
  const [password, setPassword] = useState('');
  const [message, setMessage] = useState<Message | null>(null);
  const reset = useSchemaForm(passwordResetSchema);
  const signOut = useSingleFlight();

  const go = (next: Step) => {
    setStep(next);
    setPassword('');
    setMessage(null);
  };

  const submitReset = async (event: FormEvent) => {
    event.preventDefault();
    const outcome = await reset.submit({ password }, async (data) => {
      await post(`${base}/password`, data);
      go('idle');
      setMessage({ tone: 'success', text: `New password set for ${user.email}; their sessions were signed out.` });
    });
    if (!outcome.ok && outcome.refused && Object.keys(outcome.refused.fields).length === 0)
      setMessage({ tone: 'error', text: outcome.refused.message });
  };

  const confirmSignOut = () =>
    signOut.run(async () => {
      try {
        await post(`${base}/sessions/revoke`);
        go('idle');
        setMessage({ tone: 'success', text: `${user.email} is signed out everywhere.` });
      } catch (e) {
        setMessage({ tone: 'error', text: e instanceof ApiError ? e.message : String(e) });
      }
    });

  return (
    <div className="user__account">
      {step === 'idle' ? (
        <div className="actions">
          <button type="button" className="button button--small" onClick={() => go('reset')}>
            Reset password
          </button>
          {/* A disabled account has no sessions left to end. */}
          {user.disabled ? null : (
            <button type="button" className="button button--small" onClick={() => go('sign-out')}>
              Sign out everywhere
            </button>
          )}
        </div>
      ) : null}
      {step === 'reset' ? (
        <form
          className="user__form"
          onSubmit={(e) => void submitReset(e)}
          noValidate
          aria-label={`Reset the password of ${user.email}`}
        >
          <NewPasswordField
            label="New password"
            error={reset.errors.password}
            name="password"
            value={password}
            onChange={(e) => setPassword(e.target.value)}
            autoFocus
          />
          <p className="muted small">Every session of {user.email} ends; they sign in again with this password.</p>
          <div className="actions">
            <button type="submit" className="button button--small button--primary" disabled={reset.busy}>
              Set password
            </button>
            <button type="button" className="button button--small button--ghost" onClick={() => go('idle')}>
              Back
            </button>
          </div>
        </form>
      ) : null}
      {step === 'sign-out' ? (
        <div className="confirm" role="group" aria-label={`Sign ${user.email} out everywhere`}>
          <p>Sign {user.email} out on every device? Their open pages return to sign-in at once.</p>
          <div className="actions">
            <button
              type="button"
              className="button button--small button--bad"
              disabled={signOut.busy}
              onClick={() => void confirmSignOut()}
              autoFocus
            >
              Yes, sign out
            </button>
            <button type="button" className="button button--small button--ghost" onClick={() => go('idle')}>
              Back
            </button>
          </div>
        </div>
      ) : null}
      {message ? (
        <p className={`notice notice--${message.tone} small`} role="status">
          {message.text}
        </p>
      ) : null}
    </div>
  );
}
