import { useState, type FormEvent } from 'react';
import { loginInputSchema } from '../../../shared/schemas.js';
import { post } from '../../api/client.js';
import type { SessionStart } from '../../api/types.js';
import { Field, PasswordField } from '../../components/form.js';
import { useSchemaForm } from '../../components/use-schema-form.js';
import { noticeFor, useSession, type Notice } from '../../state/session.js';
import { AuthLayout } from './auth-layout.js';

export function LoginPage(props: { notice: Notice | null }) {
  const { signIn } = useSession();
  const [email, setEmail] = useState('');
  const [password, setPassword] = useState('');
  const [notice, setNotice] = useState<Notice | null>(props.notice);
  const form = useSchemaForm(loginInputSchema);
  const { errors, busy } = form;

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    const outcome = await form.submit({ email, password }, async (data) =>
      signIn(await post<SessionStart>('/api/auth/login', data)),
    );
    if (!outcome.ok && outcome.refused)
      setNotice(noticeFor(outcome.refused) ?? { tone: 'error', text: outcome.refused.message });
  };

  return (
    <AuthLayout title="Sign in" intro="Signals, live, from your provider." notice={notice}>
      <form onSubmit={(event) => void submit(event)} noValidate className="stack">
        <Field label="Email" error={errors.email}>
          {(ids) => (
            <input
              {...ids}
              type="email"
              name="email"
              autoComplete="username"
              value={email}
              onChange={(e) => setEmail(e.target.value)}
              autoFocus
            />
          )}
        </Field>
        <PasswordField
          label="Password"
          error={errors.password}
          name="password"
          autoComplete="current-password"
          value={password}
          onChange={(e) => setPassword(e.target.value)}
        />
        <button type="submit" className="button button--primary" disabled={busy}>
          {busy ? 'Signing in…' : 'Sign in'}
        </button>
      </form>
    </AuthLayout>
  );
}
