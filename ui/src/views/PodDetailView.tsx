// One pod: its CPU time, runs and runqueue wait (p50/p99 over time, and the
// histogram), from GET /api/v1/pods/metrics, with the pod's intents.
import { useParams } from 'react-router-dom';
import { getPodMetrics, listIntents, listStrategies } from '../api/endpoints';
import { ApiError, messageOf } from '../api/errors';
import type { Intent, PodMetrics } from '../api/types';
import { useSession } from '../auth/session';
import { Histogram, LineChart } from '../components/Charts';
import { IntentTable } from '../components/IntentStates';
import { ErrorNote, Loading } from '../components/Status';
import { usePolling } from '../components/usePolling';
import { formatCount, formatNs } from '../format';
import { perm } from '../routes';

export function PodDetailView() {
  const { uid = '' } = useParams();
  const { can } = useSession();
  const polled = usePolling(
    async () => {
      let metrics: PodMetrics | null = null;
      let metricsError: string | null = null;
      try {
        metrics = await getPodMetrics(uid);
      } catch (e) {
        metricsError = e instanceof ApiError && e.status === 503
          ? 'Pod metrics are not available from this coordinator yet (the agents have not reported).'
          : messageOf(e);
      }
      const intents = can(perm.intentRead) ? (await listIntents()).filter((i) => i.podID === uid) : ([] as Intent[]);
      const strategies = can(perm.strategyRead) ? await listStrategies() : [];
      return { metrics, metricsError, intents, strategies };
    },
    5000,
    [uid],
  );
  const d = polled.data;
  const m = d?.metrics;
  const podName = d?.intents[0]?.podName;
  const samples = m?.samples ?? [];
  return (
    <section>
      <h1>Pod {podName ?? <span className="mono">{uid}</span>}</h1>
      {podName && <p className="muted mono">{uid}</p>}
      <ErrorNote message={polled.error} />
      {polled.loading && !d && <Loading what="pod metrics" />}
      {d?.metricsError && <p className="notice" role="status">{d.metricsError}</p>}
      {m && (
        <>
          <dl className="stats">
            <div><dt>Node</dt><dd>{m.node || '—'}</dd></div>
            <div><dt>CPU time</dt><dd>{formatNs(m.cpuTimeNs)}</dd></div>
            <div><dt>Runs</dt><dd>{formatCount(m.runs)}</dd></div>
            <div><dt>Wait p50 (latest)</dt><dd>{formatNs(samples.at(-1)?.waitP50Ns)}</dd></div>
            <div><dt>Wait p99 (latest)</dt><dd>{formatNs(samples.at(-1)?.waitP99Ns)}</dd></div>
          </dl>
          {samples.length > 0 ? (
            <div className="charts">
              <LineChart title="Runqueue wait over time" times={samples.map((s) => s.time)}
                series={[
                  { name: 'p50', className: 's-p50', values: samples.map((s) => s.waitP50Ns) },
                  { name: 'p99', className: 's-p99', values: samples.map((s) => s.waitP99Ns) },
                ]} />
              <LineChart title="CPU time over time" times={samples.map((s) => s.time)}
                series={[{ name: 'CPU time', className: 's-cpu', values: samples.map((s) => s.cpuTimeNs) }]} />
              {m.waitHistogram && m.waitHistogram.counts.length > 0 && (
                <Histogram title="Runqueue wait histogram (runs per bucket)" boundsNs={m.waitHistogram.boundsNs} counts={m.waitHistogram.counts} />
              )}
            </div>
          ) : <p className="muted">No samples yet.</p>}
        </>
      )}
      {d && can(perm.intentRead) && (
        <>
          <h2>Intents for this pod</h2>
          <IntentTable intents={d.intents} groupBy="strategy" podLinks={false}
            strategyLabel={(id) => {
              const s = d.strategies.find((x) => x.id === id);
              return s ? s.labelSelectors.map((l) => (l.value ? `${l.key}=${l.value}` : l.key)).join(', ') || s.k8sNamespace.join(', ') : id;
            }} />
        </>
      )}
    </section>
  );
}
