/**
 * The signed-in user's own account: push notifications per device, change the password (the
 * server then ends every other session of the account), or sign out on every device, this
 * one included.
 */
import { useState, type FormEvent } from 'react';
import { z } from 'zod';
import { passwordChangeSchema } from '../../../shared/schemas.js';
import { ApiError, post } from '../../api/client.js';
import { NewPasswordField, PasswordField } from '../../components/form.js';
import { useSchemaForm } from '../../components/use-schema-form.js';
import { useSingleFlight } from '../../components/use-single-flight.js';
import { navigate } from '../../router.js';
import { useSession, useSignedIn } from '../../state/session.js';
import { NotificationsSection } from './notifications-section.js';

/**
 * The server's schema plus the confirmation, which only the form has: a mistyped new password
 * would otherwise lock the user out of their own account.
 */
const passwordFormSchema = passwordChangeSchema
  .extend({ confirmPassword: z.string({ error: 'must be a string' }) })
  .refine((form) => form.confirmPassword === form.newPassword, {
    path: ['confirmPassword'],
    message: 'does not match the new password',
  });

type Message = { tone: 'error' | 'success'; text: string };

export function AccountPage() {
  const { me } = useSignedIn();
  return (
    <div className="page">
      <header className="page__header">
        <div>
          <h1>Account</h1>
          <p className="muted">
            Signed in as <strong>{me.user.email}</strong> ({me.user.role}).
          </p>
        </div>
      </header>
      <NotificationsSection />
      <div className="two-col">
        <ChangePasswordForm email={me.user.email} />
        <SignOutEverywhere />
      </div>
    </div>
  );
}

const blank = { currentPassword: '', newPassword: '', confirmPassword: '' };

function ChangePasswordForm(props: { email: string }) {
  const [form, setForm] = useState(blank);
  const { errors, busy, submit: send } = useSchemaForm(passwordFormSchema);
  const [message, setMessage] = useState<Message | null>(null);

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    setMessage(null);
    const outcome = await send(form, async ({ currentPassword, newPassword }) => {
      await post('/api/me/password', { currentPassword, newPassword });
      setForm(blank);
      setMessage({ tone: 'success', text: 'Password changed; your other sessions were signed out.' });
    });
    // A refusal with per-field messages is shown under the fields; others (rate limits) here.
    if (!outcome.ok && outcome.refused && Object.keys(outcome.refused.fields).length === 0)
      setMessage({ tone: 'error', text: outcome.refused.message });
  };
  const set = (key: keyof typeof blank) => (e: { target: { value: string } }) =>
    setForm((f) => ({ ...f, [key]: e.target.value }));

  return (
    <form className="card stack" onSubmit={(e) => void submit(e)} noValidate aria-label="Change password">
      <h2>Change password</h2>
      {/* For password managers: which account this new password belongs to. */}
      <input type="text" name="username" autoComplete="username" value={props.email} readOnly hidden />
      <PasswordField
        label="Current password"
        error={errors.currentPassword}
        name="currentPassword"
        autoComplete="current-password"
        value={form.currentPassword}
        onChange={set('currentPassword')}
      />
      <NewPasswordField
        label="New password"
        error={errors.newPassword}
        name="newPassword"
        value={form.newPassword}
        onChange={set('newPassword')}
      />
      <PasswordField
        label="Confirm new password"
        error={errors.confirmPassword}
        name="confirmPassword"
        autoComplete="new-password"
        value={form.confirmPassword}
        onChange={set('confirmPassword')}
      />
      <p className="muted small">Your other devices and browsers are signed out; this one stays signed in.</p>
      {message ? (
        <p className={`notice notice--${message.tone}`} role="status">
          {message.text}
        </p>
      ) : null}
      <button type="submit" className="button button--primary" disabled={busy}>
        {busy ? 'Changing…' : 'Change password'}
      </button>
    </form>
  );
}

function SignOutEverywhere() {
  const { signOutEverywhere } = useSession();
  const [confirming, setConfirming] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const { busy, run } = useSingleFlight();

  const confirm = () =>
    run(async () => {
      try {
        await signOutEverywhere();
        // Signing in again starts from the feed, not from this page.
        navigate('/', { replace: true });
      } catch (e) {
        setError(e instanceof ApiError ? e.message : String(e));
      }
    });

  return (
    <section className="card stack" aria-labelledby="sessions-heading">
      <h2 id="sessions-heading">Sessions</h2>
      <p className="muted">
        Lost a phone, or signed in on a shared computer? Signing out everywhere ends every session of this account and
        closes their live connections — including this one.
      </p>
      {confirming ? (
        <div className="confirm" role="group" aria-label="Confirm signing out everywhere">
          <p>You will be signed out here too, and need your password to sign in again.</p>
          <div className="actions">
            <button
              type="button"
              className="button button--bad"
              disabled={busy}
              onClick={() => void confirm()}
              autoFocus
            >
              {busy ? 'Signing out…' : 'Yes, sign out everywhere'}
            </button>
            <button type="button" className="button button--ghost" onClick={() => setConfirming(false)}>
              Stay signed in
            </button>
          </div>
        </div>
      ) : (
        <button
          type="button"
          className="button button--bad"
          onClick={() => {
            setError(null);
            setConfirming(true);
          }}
        >
          Sign out everywhere
        </button>
      )}
      {error ? (
        <p className="notice notice--error" role="alert">
          {error}
        </p>
      ) : null}
    </section>
  );
}
