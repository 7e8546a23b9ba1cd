import { useState, type FormEvent } from 'react';
import { setupInputSchema } from '../../../shared/schemas.js';
import { post } from '../../api/client.js';
import type { SessionStart } from '../../api/types.js';
import { Field, NewPasswordField, optionalText } from '../../components/form.js';
import { useSchemaForm } from '../../components/use-schema-form.js';
import { useSession, type Notice } from '../../state/session.js';
import { AuthLayout } from './auth-layout.js';

/**
 * First run only: the server accepts this while no admin exists, and only with the one-time
 * code it printed in its log, so whoever reaches the port first cannot claim it.
 */
export function SetupPage() {
  const { signIn } = useSession();
  const [form, setForm] = useState({ setupCode: '', name: '', email: '', password: '' });
  const [notice, setNotice] = useState<Notice | null>(null);
  const schemaForm = useSchemaForm(setupInputSchema);
  const { errors, busy } = schemaForm;
  const set = (key: keyof typeof form) => (e: { target: { value: string } }) =>
    setForm((f) => ({ ...f, [key]: e.target.value }));

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    const outcome = await schemaForm.submit({ ...form, name: optionalText(form.name) }, async (data) =>
      signIn(await post<SessionStart>('/api/setup', data)),
    );
    if (!outcome.ok && outcome.refused) setNotice({ tone: 'error', text: outcome.refused.message });
  };

  return (
    <AuthLayout
      title="Set up signal-desk"
      intro="Create the first admin account. This page is only available until an admin exists."
      notice={notice}
    >
      <form onSubmit={(event) => void submit(event)} noValidate className="stack">
        <Field
          label="Setup code"
          error={errors.setupCode}
          hint="Paste the code from the server's log: the line that says “first run: … enter the setup code”."
        >
          {(ids) => (
            <input
              {...ids}
              name="setupCode"
              autoComplete="one-time-code"
              spellCheck={false}
              placeholder="XXXX-XXXX-XXXX-XXXX"
              value={form.setupCode}
              onChange={set('setupCode')}
            />
          )}
        </Field>
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
        <NewPasswordField
          label="Password"
          error={errors.password}
          name="password"
          value={form.password}
          onChange={set('password')}
        />
        <button type="submit" className="button button--primary" disabled={busy}>
          {busy ? 'Creating…' : 'Create admin and sign in'}
        </button>
      </form>
    </AuthLayout>
  );
}
