import { listPermissions } from '../api/endpoints';
import { Empty, ErrorNote, Loading } from '../components/Status';
import { usePolling } from '../components/usePolling';

export function PermissionsView() {
  const polled = usePolling(listPermissions, 0);
  return (
    <section>
      <h1>Permissions</h1>
      <p className="muted">The keys a role can grant. Each view and action of this UI needs one.</p>
      <ErrorNote message={polled.error} />
      {polled.loading && !polled.data && <Loading what="permissions" />}
      {polled.data && polled.data.length === 0 && <Empty>No permissions.</Empty>}
      {polled.data && polled.data.length > 0 && (
        <div className="table-wrap">
          <table>
            <thead><tr><th scope="col">Key</th><th scope="col">Resource</th><th scope="col">Action</th><th scope="col">Description</th></tr></thead>
            <tbody>
              {polled.data.map((p) => (
                <tr key={p.key}><th scope="row"><code>{p.key}</code></th><td>{p.resource}</td><td>{p.action}</td><td>{p.description}</td></tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </section>
  );
}
