// Users: list; create (user.create); roles and status (user.permission.update);
// password reset (user.password.reset).
import { useState, type FormEvent } from 'react';
import { createUser, listRoles, listUsers, resetPassword, updateUserPermissions } from '../api/endpoints';
import { messageOf } from '../api/errors';
import type { Role, User } from '../api/types';
import { useSession } from '../auth/session';
import { Empty, ErrorNote, Loading } from '../components/Status';
import { usePolling } from '../components/usePolling';
import { formatTime } from '../format';
import { perm } from '../routes';

const STATUS: Record<number, string> = { 1: 'Active', 2: 'Inactive', 3: 'Must change password' };

function RolePicker({ roles, value, onChange, idPrefix }: { roles: Role[]; value: string[]; onChange: (v: string[]) => void; idPrefix: string }) {
  return (
    <fieldset className="checks">
      <legend>Roles</legend>
      {roles.length === 0 && <span className="muted">No roles to choose from.</span>}
      {roles.map((r) => (
        <label key={r.id} htmlFor={`${idPrefix}-${r.name}`}>
          <input id={`${idPrefix}-${r.name}`} type="checkbox" checked={value.includes(r.name)}
            onChange={(e) => onChange(e.target.checked ? [...value, r.name] : value.filter((x) => x !== r.name))} />{' '}
          {r.name}
        </label>
      ))}
    </fieldset>
  );
}

function CreateUser({ roles, onDone }: { roles: Role[]; onDone: () => void }) {
  const [username, setUsername] = useState('');
  const [password, setPassword] = useState('');
  const [chosen, setChosen] = useState<string[]>([]);
  const [error, setError] = useState<string | null>(null);
  async function submit(e: FormEvent) {
    e.preventDefault();
    setError(null);
    try {
      await createUser(username, password, chosen);
      setUsername(''); setPassword(''); setChosen([]);
      onDone();
    } catch (err) {
      setError(messageOf(err));
    }
  }
  return (
    <form className="card" onSubmit={submit} aria-labelledby="new-user-title">
      <h2 id="new-user-title">New user</h2>
      <label htmlFor="nu-name">Username</label>
      <input id="nu-name" required value={username} onChange={(e) => setUsername(e.target.value)} autoComplete="off" />
      <label htmlFor="nu-password">Initial password</label>
      <input id="nu-password" type="password" required value={password} onChange={(e) => setPassword(e.target.value)}
        autoComplete="new-password" aria-describedby="nu-password-hint" />
      <span className="hint" id="nu-password-hint">They must change it when they first sign in.</span>
      <RolePicker roles={roles} value={chosen} onChange={setChosen} idPrefix="nu-role" />
      <ErrorNote message={error} />
      <button type="submit">Create user</button>
    </form>
  );
}

function UserRow({ u, roles, onDone }: { u: User; roles: Role[]; onDone: () => void }) {
  const { can } = useSession();
  const [editing, setEditing] = useState(false);
  const [chosen, setChosen] = useState<string[]>(u.roles ?? []);
  const [status, setStatus] = useState(u.status);
  const [newPassword, setNewPassword] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [notice, setNotice] = useState<string | null>(null);
  async function save() {
    setError(null);
    try {
      await updateUserPermissions(u.id, chosen, status);
      setEditing(false);
      onDone();
    } catch (e) {
      setError(messageOf(e));
    }
  }
  async function reset(e: FormEvent) {
    e.preventDefault();
    setError(null);
    try {
      await resetPassword(u.id, newPassword);
      setNewPassword('');
      setNotice('Password reset; they must change it at their next sign-in.');
      onDone();
    } catch (err) {
      setError(messageOf(err));
    }
  }
  return (
    <tr>
      <th scope="row">{u.username}</th>
      <td>{(u.roles ?? []).join(', ') || <span className="muted">none</span>}</td>
      <td>{STATUS[u.status] ?? u.status}</td>
      <td>{formatTime(u.createdTime)}</td>
      <td className="actions wrap">
        {can(perm.userPermissionUpdate) && !editing && (
          <button type="button" className="secondary small" onClick={() => setEditing(true)}>Edit roles</button>
        )}
        {editing && (
          <div className="inline-editor">
            <RolePicker roles={roles} value={chosen} onChange={setChosen} idPrefix={`role-${u.id}`} />
            <label htmlFor={`status-${u.id}`}>Status</label>
            <select id={`status-${u.id}`} value={status} onChange={(e) => setStatus(Number(e.target.value))}>
              {Object.entries(STATUS).map(([k, v]) => <option key={k} value={k}>{v}</option>)}
            </select>
            <div className="row">
              <button type="button" className="small" onClick={() => void save()}>Save</button>
              <button type="button" className="secondary small" onClick={() => setEditing(false)}>Cancel</button>
            </div>
          </div>
        )}
        {can(perm.userPasswordReset) && (
          <form className="inline" onSubmit={reset}>
            <label htmlFor={`reset-${u.id}`} className="sr-only">New password for {u.username}</label>
            <input id={`reset-${u.id}`} type="password" placeholder="New password" value={newPassword}
              onChange={(e) => setNewPassword(e.target.value)} autoComplete="new-password" required />
            <button type="submit" className="secondary small">Reset password</button>
          </form>
        )}
        <ErrorNote message={error} />
        {notice && <p className="notice" role="status">{notice}</p>}
      </td>
    </tr>
  );
}

export function UsersView() {
  const { can } = useSession();
  const polled = usePolling(async () => {
    const [users, roles] = await Promise.all([listUsers(), can(perm.roleRead) ? listRoles() : Promise.resolve([] as Role[])]);
    return { users, roles };
  }, 0);
  return (
    <section>
      <h1>Users</h1>
      <ErrorNote message={polled.error} />
      {polled.loading && !polled.data && <Loading what="users" />}
      <div className="split">
        <div>
          {polled.data && polled.data.users.length === 0 && <Empty>No users.</Empty>}
          {polled.data && polled.data.users.length > 0 && (
            <div className="table-wrap">
              <table>
                <thead><tr><th scope="col">User</th><th scope="col">Roles</th><th scope="col">Status</th><th scope="col">Created</th><th scope="col"><span className="sr-only">Actions</span></th></tr></thead>
                <tbody>
                  {polled.data.users.map((u) => <UserRow key={u.id} u={u} roles={polled.data!.roles} onDone={() => void polled.reload()} />)}
                </tbody>
              </table>
            </div>
          )}
        </div>
        {can(perm.userCreate) && polled.data && <CreateUser roles={polled.data.roles} onDone={() => void polled.reload()} />}
      </div>
    </section>
  );
}
