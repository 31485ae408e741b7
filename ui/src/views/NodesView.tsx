// Every node: reachability, the scheduler's state there (and why it is off or
// degraded, and its last exit), acknowledged vs desired generation, intents by state.
// Fields the coordinator does not report yet show as "—".
import { Link } from 'react-router-dom';
import { listNodes } from '../api/endpoints';
import type { NodeInfo, NodeScheduler } from '../api/types';
import { Empty, ErrorNote, Loading } from '../components/Status';
import { usePolling } from '../components/usePolling';
import { formatTime } from '../format';
import { paths } from '../routes';

function lastExitText(e: NodeScheduler['lastExit']): string {
  if (!e) return '';
  if (typeof e === 'string') return e;
  return [e.kind, e.reason, e.message, e.time ? formatTime(e.time) : ''].filter(Boolean).join(' · ');
}

function SchedulerCell({ n }: { n: NodeInfo }) {
  const s = n.scheduler;
  if (!s) return <span className="muted">—</span>;
  const state = s.state ?? (s.enabled === undefined ? 'unknown' : s.enabled ? 'enabled' : 'disabled');
  const cls = s.enabled === false ? 'state-failed' : /degraded/i.test(state) ? 'state-waiting' : 'state-applied';
  const exit = lastExitText(s.lastExit);
  return (
    <div>
      <span className={`badge ${cls}`}>{state}</span>
      {s.reason && <div className="reason">{s.reason}</div>}
      {exit && <div className="muted">Last exit: {exit}</div>}
    </div>
  );
}

function statusClass(status?: string): string {
  switch (status) {
    case 'Ready': return 'state-applied';
    case 'Degraded': return 'state-waiting';
    case 'Unreachable': return 'state-failed';
    default: return 'state-unknown';
  }
}

export function NodesView() {
  const polled = usePolling(listNodes, 5000);
  const nodes = polled.data ?? [];
  return (
    <section>
      <h1>Nodes</h1>
      <ErrorNote message={polled.error} />
      {polled.loading && !polled.data && <Loading what="nodes" />}
      {polled.data && nodes.length === 0 && <Empty>No nodes known yet.</Empty>}
      {nodes.length > 0 && (
        <div className="table-wrap">
          <table>
            <thead>
              <tr>
                <th scope="col">Node</th>
                <th scope="col">Status</th>
                <th scope="col">Scheduler</th>
                <th scope="col">Generation (acked / desired)</th>
                <th scope="col">Intents</th>
                <th scope="col">Last contact</th>
              </tr>
            </thead>
            <tbody>
              {nodes.map((n) => {
                const behind = n.ackedGeneration !== undefined && n.desiredGeneration !== undefined && n.ackedGeneration < n.desiredGeneration;
                const counts = n.intents ?? {};
                return (
                  <tr key={n.name} data-node={n.name}>
                    <th scope="row"><Link to={`${paths.intents}?by=node&node=${encodeURIComponent(n.name)}`}>{n.name}</Link></th>
                    <td>
                      <span className={`badge ${statusClass(n.status)}`}>{n.status ?? 'Unknown'}</span>
                      {n.reason && <div className="reason">{n.reason}</div>}
                    </td>
                    <td><SchedulerCell n={n} /></td>
                    <td>
                      {n.ackedGeneration ?? '—'} / {n.desiredGeneration ?? '—'}
                      {behind && <div className="reason">behind by {n.desiredGeneration! - n.ackedGeneration!}</div>}
                    </td>
                    <td>
                      {n.intents ? (
                        <span className="counts">
                          {(['failed', 'waiting', 'sent', 'initialized', 'applied'] as const)
                            .filter((k) => counts[k])
                            .map((k) => <span key={k} className={`badge state-${k}`}>{counts[k]} {k}</span>)}
                          {Object.values(counts).every((v) => !v) && <span className="muted">none</span>}
                        </span>
                      ) : <span className="muted">—</span>}
                    </td>
                    <td>{formatTime(n.lastContact)}</td>
                  </tr>
                );
              })}
            </tbody>
          </table>
        </div>
      )}
    </section>
  );
}
