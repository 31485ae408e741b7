// The caller's strategies: what each selects and does, how many intents it has in
// each state, and the actions the caller's roles allow.
import { useState } from 'react';
import { Link, useLocation, useNavigate } from 'react-router-dom';
import { deleteStrategy, listIntents, listStrategies } from '../api/endpoints';
import { messageOf } from '../api/errors';
import type { Intent, Strategy } from '../api/types';
import { useSession } from '../auth/session';
import { StateCounts } from '../components/IntentStates';
import { Empty, ErrorNote, Loading } from '../components/Status';
import { usePolling } from '../components/usePolling';
import { executionTimeLabel, formatTime } from '../format';
import { paths, perm } from '../routes';

function selects(s: Strategy): string {
  const labels = s.labelSelectors.map((l) => (l.value ? `${l.key}=${l.value}` : `${l.key} (exists)`));
  const ns = s.k8sNamespace.length ? `in ${s.k8sNamespace.join(', ')}` : 'in every namespace';
  return [labels.join(', '), ns].filter(Boolean).join(' ');
}

export function StrategiesView() {
  const { can } = useSession();
  const navigate = useNavigate();
  const location = useLocation();
  const saved = (location.state as { saved?: string; intentCount?: number } | null) ?? null;
  const [actionError, setActionError] = useState<{ id: string; message: string } | null>(null);
  const [confirming, setConfirming] = useState<string | null>(null);
  const polled = usePolling(async () => {
    const [strategies, intents] = await Promise.all([
      listStrategies(),
      can(perm.intentRead) ? listIntents() : Promise.resolve([] as Intent[]),
    ]);
    return { strategies, intents };
  }, 5000);

  async function remove(id: string) {
    setActionError(null);
    try {
      await deleteStrategy(id);
      setConfirming(null);
      await polled.reload();
    } catch (e) {
      setActionError({ id, message: messageOf(e) });
    }
  }

  return (
    <section>
      <div className="heading">
        <h1>Strategies</h1>
        {can(perm.strategyCreate) && (
          <button type="button" onClick={() => navigate(paths.newStrategy)}>New strategy</button>
        )}
      </div>
      {saved?.saved && (
        <p className="notice" role="status">Saved. {saved.intentCount ?? 0} intent(s) planned for matching pods.</p>
      )}
      <ErrorNote message={polled.error} />
      {polled.loading && !polled.data && <Loading what="strategies" />}
      {polled.data && polled.data.strategies.length === 0 && (
        <Empty>No strategies yet.{can(perm.strategyCreate) ? ' Create one to give matching pods a priority or time slice.' : ''}</Empty>
      )}
      {polled.data && polled.data.strategies.length > 0 && (
        <div className="table-wrap">
          <table className="stack">
            <thead>
              <tr>
                <th scope="col">Selects</th>
                <th scope="col">Command</th>
                <th scope="col">Priority</th>
                <th scope="col">Time slice</th>
                <th scope="col">Intents</th>
                <th scope="col">Updated</th>
                <th scope="col"><span className="sr-only">Actions</span></th>
              </tr>
            </thead>
            <tbody>
              {polled.data.strategies.map((s) => {
                const intents = polled.data!.intents.filter((i) => i.strategyID === s.id);
                return (
                  <tr key={s.id} data-strategy-id={s.id}>
                    <td data-label="Selects">{selects(s)}{s.strategyNamespace && <div className="muted">{s.strategyNamespace}</div>}</td>
                    <td data-label="Command"><code>{s.commandRegex || 'every process'}</code></td>
                    <td data-label="Priority">{s.priority}</td>
                    <td data-label="Time slice">{executionTimeLabel(s.executionTime)}</td>
                    <td data-label="Intents">
                      {can(perm.intentRead) ? (
                        <Link to={`${paths.intents}?strategy=${encodeURIComponent(s.id)}`} aria-label={`Intents of this strategy (${intents.length})`}>
                          <StateCounts intents={intents} />
                        </Link>
                      ) : '—'}
                    </td>
                    <td data-label="Updated">{formatTime(s.updatedTime)}</td>
                    <td className="actions">
                      {can(perm.strategyUpdate) && <Link to={paths.editStrategy(s.id)} className="button secondary small">Edit</Link>}
                      {can(perm.strategyDelete) && confirming !== s.id && (
                        <button type="button" className="danger small" onClick={() => setConfirming(s.id)}>Delete</button>
                      )}
                      {confirming === s.id && (
                        <span className="confirm">
                          <button type="button" className="danger small" onClick={() => void remove(s.id)}>Confirm delete</button>
                          <button type="button" className="secondary small" onClick={() => setConfirming(null)}>Keep</button>
                        </span>
                      )}
                      {actionError?.id === s.id && <ErrorNote message={actionError.message} />}
                    </td>
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
