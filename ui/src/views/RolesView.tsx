// Roles and their permission keys: list; create (role.create); edit (role.update);
// delete (role.delete; the server refuses while users hold the role).
import { useState, type FormEvent } from 'react';
import { createRole, deleteRole, listPermissions, listRoles, updateRole } from '../api/endpoints';
import { messageOf } from '../api/errors';
import type { Permission, Role, RolePolicy } from '../api/types';
import { useSession } from '../auth/session';
import { Empty, ErrorNote, Loading } from '../components/Status';
import { usePolling } from '../components/usePolling';
import { perm } from '../routes';

function PolicyEditor({ catalogue, value, onChange, idPrefix }: {
  catalogue: Permission[]; value: RolePolicy[]; onChange: (v: RolePolicy[]) => void; idPrefix: string;
}) {
  const byKey = new Map(value.map((p) => [p.permissionKey, p]));
  const toggle = (key: string, on: boolean) =>
    onChange(on ? [...value, { permissionKey: key, self: false }] : value.filter((p) => p.permissionKey !== key));
  const setSelf = (key: string, self: boolean) => onChange(value.map((p) => (p.permissionKey === key ? { ...p, self } : p)));
  return (
    <fieldset className="checks policies">
      <legend>Permissions</legend>
      {catalogue.map((p) => {
        const id = `${idPrefix}-${p.key.replace(/\W/g, '-')}`;
        const granted = byKey.get(p.key);
        return (
          <div key={p.key} className="policy">
            <label htmlFor={id}>
              <input id={id} type="checkbox" checked={!!granted} onChange={(e) => toggle(p.key, e.target.checked)} />{' '}
              <code>{p.key}</code>
            </label>
            {granted && (
              <label htmlFor={`${id}-self`} className="muted">
                <input id={`${id}-self`} type="checkbox" checked={granted.self} onChange={(e) => setSelf(p.key, e.target.checked)} /> own only
              </label>
            )}
          </div>
        );
      })}
    </fieldset>
  );
}

function RoleEditor({ role, catalogue, onDone, onCancel }: { role?: Role; catalogue: Permission[]; onDone: () => void; onCancel?: () => void }) {
  const [name, setName] = useState(role?.name ?? '');
  const [description, setDescription] = useState(role?.description ?? '');
  const [policies, setPolicies] = useState<RolePolicy[]>(role?.rolePolicies ?? []);
  const [error, setError] = useState<string | null>(null);
  async function submit(e: FormEvent) {
    e.preventDefault();
    setError(null);
    try {
      if (role) await updateRole(role.id, description, policies);
      else await createRole(name, description, policies);
      if (!role) { setName(''); setDescription(''); setPolicies([]); }
      onDone();
    } catch (err) {
      setError(messageOf(err));
    }
  }
  const p = role ? `edit-${role.id}` : 'new-role';
  return (
    <form className="card" onSubmit={submit} aria-label={role ? `Edit role ${role.name}` : 'New role'}>
      {!role && <h2>New role</h2>}
      {!role && (<><label htmlFor={`${p}-name`}>Name</label>
        <input id={`${p}-name`} required value={name} onChange={(e) => setName(e.target.value)} /></>)}
      <label htmlFor={`${p}-desc`}>Description</label>
      <input id={`${p}-desc`} value={description} onChange={(e) => setDescription(e.target.value)} />
      <PolicyEditor catalogue={catalogue} value={policies} onChange={setPolicies} idPrefix={p} />
      <ErrorNote message={error} />
      <div className="row">
        <button type="submit">{role ? 'Save role' : 'Create role'}</button>
        {onCancel && <button type="button" className="secondary" onClick={onCancel}>Cancel</button>}
      </div>
    </form>
  );
}

export function RolesView() {
  const { can } = useSession();
  const [editing, setEditing] = useState<string | null>(null);
  const [actionError, setActionError] = useState<{ id: string; message: string } | null>(null);
  const polled = usePolling(async () => {
    const [roles, catalogue] = await Promise.all([listRoles(), can(perm.permissionRead) ? listPermissions() : Promise.resolve([] as Permission[])]);
    return { roles, catalogue };
  }, 0);
  async function remove(id: string) {
    setActionError(null);
    try {
      await deleteRole(id);
      await polled.reload();
    } catch (e) {
      setActionError({ id, message: messageOf(e) });
    }
  }
  return (
    <section>
      <h1>Roles</h1>
      <ErrorNote message={polled.error} />
      {polled.loading && !polled.data && <Loading what="roles" />}
      <div className="split">
        <div>
          {polled.data && polled.data.roles.length === 0 && <Empty>No roles.</Empty>}
          {polled.data?.roles.map((r) => (
            <article key={r.id} className="card role">
              <h2>{r.name}</h2>
              {r.description && <p>{r.description}</p>}
              {editing === r.id ? (
                <RoleEditor role={r} catalogue={polled.data!.catalogue} onDone={() => { setEditing(null); void polled.reload(); }} onCancel={() => setEditing(null)} />
              ) : (
                <>
                  <ul className="chips" aria-label={`Permissions of ${r.name}`}>
                    {r.rolePolicies.map((p) => <li key={p.permissionKey}><code>{p.permissionKey}</code>{p.self && <span className="muted"> (own)</span>}</li>)}
                    {r.rolePolicies.length === 0 && <li className="muted">no permissions</li>}
                  </ul>
                  <div className="row">
                    {can(perm.roleUpdate) && can(perm.permissionRead) && <button type="button" className="secondary small" onClick={() => setEditing(r.id)}>Edit</button>}
                    {can(perm.roleDelete) && <button type="button" className="danger small" onClick={() => void remove(r.id)}>Delete</button>}
                  </div>
                  {actionError?.id === r.id && <ErrorNote message={actionError.message} />}
                </>
              )}
            </article>
          ))}
        </div>
        {can(perm.roleCreate) && can(perm.permissionRead) && polled.data && (
          <RoleEditor catalogue={polled.data.catalogue} onDone={() => void polled.reload()} />
        )}
      </div>
    </section>
  );
}
