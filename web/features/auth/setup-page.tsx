import { useState, type FormEvent } from 'react';
import { setupInputSchema } from '../../../shared/schemas.js';
import { ApiError, post } from '../../api/client.js';
import type { SessionStart } from '../../api/types.js';
import { Field, fieldErrors, optionalText, type FieldErrors } from '../../components/form.js';
import { useSession, type Notice } from '../../state/session.js';
import { AuthLayout } from './auth-layout.js';

/** First run only: the server accepts this while no admin exists. */
export function SetupPage() {
  const { signIn } = useSession();
  const [form, setForm] = useState({ name: '', email: '', password: '' });
  const [errors, setErrors] = useState<FieldErrors>({});
  const [notice, setNotice] = useState<Notice | null>(null);
  const [busy, setBusy] = useState(false);
  const set = (key: keyof typeof form) => (e: { target: { value: string } }) =>
    setForm((f) => ({ ...f, [key]: e.target.value }));

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    const parsed = setupInputSchema.safeParse({ ...form, name: optionalText(form.name) });
    setErrors(fieldErrors(parsed.error));
    if (!parsed.success) return;
    setBusy(true);
    try {
      await signIn(await post<SessionStart>('/api/setup', parsed.data));
    } catch (error) {
      if (!(error instanceof ApiError)) throw error;
      setErrors(error.fields);
      setNotice({ tone: 'error', text: error.message });
      setBusy(false);
    }
  };

  return (
    <AuthLayout
      title="Set up signal-desk"
      intro="Create the first admin account. This page is only available until an admin exists."
      notice={notice}
    >
      <form onSubmit={(event) => void submit(event)} noValidate className="stack">
        <Field label="Name" error={errors.name}>
          {(ids) => <input {...ids} name="name" autoComplete="name" value={form.name} onChange={set('name')} />}
        </Field>
        <Field label="Email" error={errors.email}>
          {(ids) => (
            <input
              {...ids}
              type="email"
              name="email"
              autoComplete="username"
              value={form.email}
              onChange={set('email')}
            />
          )}
        </Field>
        <Field label="Password" error={errors.password} hint="At least 10 characters.">
          {(ids) => (
            <input
              {...ids}
              type="password"
              name="password"
              autoComplete="new-password"
              value={form.password}
              onChange={set('password')}
            />
          )}
        </Field>
        <button type="submit" className="button button--primary" disabled={busy}>
          {busy ? 'Creating…' : 'Create admin and sign in'}
        </button>
      </form>
    </AuthLayout>
  );
}
