// The caller's intents, per strategy or per node, refreshed every few seconds.
import { useSearchParams } from 'react-router-dom';
import { listIntents, listStrategies } from '../api/endpoints';
import type { Strategy } from '../api/types';
import { useSession } from '../auth/session';
import { IntentTable, type Grouping } from '../components/IntentStates';
import { ErrorNote, Loading } from '../components/Status';
import { usePolling } from '../components/usePolling';
import { formatClock } from '../format';
import { perm } from '../routes';

export const INTENTS_REFRESH_MS = 3000;

function describe(s: Strategy): string {
  const l = s.labelSelectors.map((x) => (x.value ? `${x.key}=${x.value}` : x.key)).join(', ');
  return l || s.k8sNamespace.join(', ') || s.id;
}

export function IntentsView() {
  const { can } = useSession();
  const [params, setParams] = useSearchParams();
  const groupBy: Grouping = params.get('by') === 'node' ? 'node' : 'strategy';
  const strategyId = params.get('strategy') ?? '';
  const nodeId = params.get('node') ?? '';
  const polled = usePolling(
    async () => {
      const [intents, strategies] = await Promise.all([
        listIntents({ strategyId: strategyId || undefined, nodeId: nodeId || undefined }),
        can(perm.strategyRead) ? listStrategies() : Promise.resolve([] as Strategy[]),
      ]);
      return { intents, strategies };
    },
    INTENTS_REFRESH_MS,
    [strategyId, nodeId],
  );
  const names = new Map((polled.data?.strategies ?? []).map((s) => [s.id, describe(s)]));
  const nodes = [...new Set((polled.data?.intents ?? []).map((i) => i.nodeID).filter(Boolean))].sort();
  const update = (k: string, v: string) => {
    const next = new URLSearchParams(params);
    if (v) next.set(k, v);
    else next.delete(k);
    setParams(next, { replace: true });
  };

  return (
    <section>
      <div className="heading">
        <h1>Intents</h1>
        <span className="muted" aria-live="polite">
          {polled.updatedAt ? `Updated ${formatClock(polled.updatedAt.toISOString())}, every ${INTENTS_REFRESH_MS / 1000} s` : ''}
        </span>
      </div>
      <div className="filters" role="group" aria-label="Show intents">
        <fieldset className="segmented">
          <legend>Group</legend>
          <label><input type="radio" name="by" checked={groupBy === 'strategy'} onChange={() => update('by', '')} /> By strategy</label>
          <label><input type="radio" name="by" checked={groupBy === 'node'} onChange={() => update('by', 'node')} /> By node</label>
        </fieldset>
        <div className="field">
          <label htmlFor="filter-strategy">Strategy</label>
          <select id="filter-strategy" value={strategyId} onChange={(e) => update('strategy', e.target.value)}>
            <option value="">All</option>
            {(polled.data?.strategies ?? []).map((s) => <option key={s.id} value={s.id}>{describe(s)}</option>)}
            {strategyId && !names.has(strategyId) && <option value={strategyId}>{strategyId}</option>}
          </select>
        </div>
        <div className="field">
          <label htmlFor="filter-node">Node</label>
          <select id="filter-node" value={nodeId} onChange={(e) => update('node', e.target.value)}>
            <option value="">All</option>
            {nodes.map((n) => <option key={n} value={n}>{n}</option>)}
            {nodeId && !nodes.includes(nodeId) && <option value={nodeId}>{nodeId}</option>}
          </select>
        </div>
      </div>
      <ErrorNote message={polled.error} />
      {polled.loading && !polled.data ? (
        <Loading what="intents" />
      ) : (
        polled.data && <IntentTable intents={polled.data.intents} groupBy={groupBy} strategyLabel={(id) => names.get(id) ?? id}
          podLinks={can(perm.nodesRead)} />
      )}
    </section>
  );
}
