/** Users: create, disable or re-enable, grant or revoke channels, reset passwords, end sessions. */
import { useCallback, useEffect, useState, type FormEvent } from 'react';
import type { PublicUser } from '../../../shared/events.js';
import { ROLES, userInputSchema, type Role } from '../../../shared/schemas.js';
import { api, get, post } from '../../api/client.js';
import type { Channel } from '../../api/types.js';
import { Field, NewPasswordField, optionalText } from '../../components/form.js';
import { useSchemaForm } from '../../components/use-schema-form.js';
import { Link } from '../../router.js';
import { useSignedIn } from '../../state/session.js';
import { UserAccountActions } from './user-account-actions.js';

interface UserDraft {
  email: string;
  password: string;
  name: string;
  role: Role;
  channels: string[];
}

const emptyDraft: UserDraft = { email: '', password: '', name: '', role: 'subscriber', channels: [] };

export function UsersPage() {
  const { me } = useSignedIn();
  const [users, setUsers] = useState<PublicUser[]>([]);
  const [error, setError] = useState<string | null>(null);
  const load = useCallback(() => {
    get<{ items: PublicUser[] }>('/api/users')
      .then((answer) => setUsers(answer.items))
      .catch((e: unknown) => setError(e instanceof Error ? e.message : String(e)));
  }, []);
  useEffect(load, [load]);

  return (
    <div className="page">
      <header className="page__header">
        <div>
          <h1>Users</h1>
          <p className="muted">Create accounts, grant channels, disable access at once.</p>
        </div>
      </header>
      {error ? (
        <p className="notice notice--error" role="alert">
          {error}
        </p>
      ) : null}
      <div className="two-col">
        <CreateUserForm channels={me.channels} onCreated={load} />
        <section className="card" aria-labelledby="users-heading">
          <h2 id="users-heading">All users</h2>
          <ul className="plain-list">
            {users.map((user) => (
              <UserItem
                key={user.id}
                user={user}
                channels={me.channels}
                self={user.id === me.user.id}
                onChange={load}
              />
            ))}
          </ul>
        </section>
      </div>
    </div>
  );
}

function CreateUserForm(props: { channels: Channel[]; onCreated(): void }) {
  const [draft, setDraft] = useState<UserDraft>(emptyDraft);
  const { errors, busy, submit: send } = useSchemaForm(userInputSchema);
  const [message, setMessage] = useState<{ tone: 'error' | 'success'; text: string } | null>(null);

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    const outcome = await send({ ...draft, name: optionalText(draft.name) }, async (data) => {
      await post('/api/users', data);
      setMessage({ tone: 'success', text: `${data.email} can now sign in.` });
      setDraft(emptyDraft);
      props.onCreated();
    });
    if (!outcome.ok && outcome.refused) setMessage({ tone: 'error', text: outcome.refused.message });
  };
  const set = (key: 'email' | 'password' | 'name') => (e: { target: { value: string } }) =>
    setDraft((d) => ({ ...d, [key]: e.target.value }));
  const toggle = (slug: string) =>
    setDraft((d) => ({
      ...d,
      channels: d.channels.includes(slug) ? d.channels.filter((c) => c !== slug) : [...d.channels, slug],
    }));

  return (
    <form className="card stack" onSubmit={(e) => void submit(e)} noValidate aria-label="Create a user">
      <h2>New user</h2>
      <Field label="Email" error={errors.email}>
        {(ids) => <input {...ids} type="email" name="email" value={draft.email} onChange={set('email')} />}
      </Field>
      <Field label="Name" error={errors.name}>
        {(ids) => <input {...ids} name="name" value={draft.name} onChange={set('name')} />}
      </Field>
      <NewPasswordField
        label="Password"
        error={errors.password}
        name="password"
        value={draft.password}
        onChange={set('password')}
      />
      <Field label="Role" error={errors.role}>
        {(ids) => (
          <select
            {...ids}
            name="role"
            value={draft.role}
            onChange={(e) => setDraft((d) => ({ ...d, role: e.target.value as Role }))}
          >
            {ROLES.map((role) => (
              <option key={role} value={role}>
                {role === 'admin' ? 'Admin' : 'Subscriber'}
              </option>
            ))}
          </select>
        )}
      </Field>
      <fieldset className="field">
        <legend>Channels</legend>
        {props.channels.length === 0 ? <p className="muted small">No channels yet.</p> : null}
        <div className="checks">
          {props.channels.map((c) => (
            <label key={c.slug} className="check">
              <input type="checkbox" checked={draft.channels.includes(c.slug)} onChange={() => toggle(c.slug)} />
              {c.name}
            </label>
          ))}
        </div>
      </fieldset>
      {message ? (
        <p className={`notice notice--${message.tone}`} role="status">
          {message.text}
        </p>
      ) : null}
      <button type="submit" className="button button--primary" disabled={busy}>
        Create user
      </button>
    </form>
  );
}

function UserItem(props: { user: PublicUser; channels: Channel[]; self: boolean; onChange(): void }) {
  const { user } = props;
  const [grant, setGrant] = useState('');
  const [error, setError] = useState<string | null>(null);
  const ungranted = props.channels.filter((c) => !user.channels.includes(c.slug));
  const run = (method: string, path: string, body?: unknown) =>
    api(method, path, body)
      .then(() => {
        setError(null);
        props.onChange();
      })
      .catch((e: unknown) => setError(e instanceof Error ? e.message : String(e)));
  const base = `/api/users/${encodeURIComponent(user.id)}`;

  return (
    <li className={`user${user.disabled ? ' user--disabled' : ''}`} data-testid="user-item" data-email={user.email}>
      <div className="user__head">
        <div>
          <strong>{user.name ?? user.email}</strong>
          {user.name ? <span className="muted small"> {user.email}</span> : null}
        </div>
        <span className={`badge badge--role-${user.role}`}>{user.role}</span>
        {user.disabled ? <span className="badge status status--cancelled">disabled</span> : null}
        {props.self ? null : (
          <button
            type="button"
            className={`button button--small${user.disabled ? '' : ' button--bad'}`}
            onClick={() => void run('PATCH', base, { disabled: !user.disabled })}
          >
            {user.disabled ? 'Enable' : 'Disable'}
          </button>
        )}
      </div>
      {user.role === 'subscriber' ? (
        <div className="user__channels">
          {user.channels.length === 0 ? <span className="muted small">no channels</span> : null}
          {user.channels.map((slug) => (
            <span key={slug} className="chip">
              #{slug}
              <button
                type="button"
                className="chip__remove"
                aria-label={`Revoke #${slug} from ${user.email}`}
                onClick={() => void run('DELETE', `${base}/channels/${encodeURIComponent(slug)}`)}
              >
                ✕
              </button>
            </span>
          ))}
          {ungranted.length > 0 ? (
            <form
              className="inline-form"
              onSubmit={(e) => {
                e.preventDefault();
                if (grant) void run('PUT', `${base}/channels/${encodeURIComponent(grant)}`).then(() => setGrant(''));
              }}
            >
              <label className="sr-only" htmlFor={`grant-${user.id}`}>
                Grant a channel to {user.email}
              </label>
              <select id={`grant-${user.id}`} value={grant} onChange={(e) => setGrant(e.target.value)}>
                <option value="">Grant channel…</option>
                {ungranted.map((c) => (
                  <option key={c.slug} value={c.slug}>
                    {c.name}
                  </option>
                ))}
              </select>
              <button type="submit" className="button button--small" disabled={!grant}>
                Grant
              </button>
            </form>
          ) : null}
        </div>
      ) : (
        <p className="muted small">Admins see every channel.</p>
      )}
      {/* Done here, these would end the admin's own session; the account page changes one's own password. */}
      {props.self ? (
        <p className="small">
          <Link to="/account">Your password and sessions</Link>
        </p>
      ) : (
        <UserAccountActions user={user} />
      )}
      {error ? (
        <p className="field__error" role="alert">
          {error}
        </p>
      ) : null}
    </li>
  );
}
