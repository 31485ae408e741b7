// One pod: its CPU time, runs and runqueue wait (p50/p99 over time, and the
// histogram), from GET /api/v1/pods/metrics (the coordinator asks the pod's node's
// agent and keeps the series), with the pod's intents. A failure says why in the
// server's words (pod unknown, no policy on its node, agent unreachable...).
import { useParams } from 'react-router-dom';
import { getPodMetrics, listIntents, listStrategies } from '../api/endpoints';
import type { Intent, PodMetrics } from '../api/types';
import { useSession } from '../auth/session';
import { PodMetricsPanel, metricsErrorText } from '../components/PodMetricsPanel';
import { IntentTable } from '../components/IntentStates';
import { ErrorNote, Loading } from '../components/Status';
import { usePolling } from '../components/usePolling';
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
        metricsError = metricsErrorText(e);
      }
      const intents = can(perm.intentRead) ? (await listIntents()).filter((i) => i.podID === uid) : ([] as Intent[]);
      const strategies = can(perm.strategyRead) ? await listStrategies() : [];
      return { metrics, metricsError, intents, strategies };
    },
    3000,
    [uid],
  );
  const d = polled.data;
  const m = d?.metrics;
  const podName = d?.metrics?.podName ?? d?.intents[0]?.podName;
  return (
    <section>
      <h1>Pod {podName ?? <span className="mono">{uid}</span>}</h1>
      {podName && <p className="muted mono">{uid}</p>}
      <ErrorNote message={polled.error} />
      {polled.loading && !d && <Loading what="pod metrics" />}
      {d?.metricsError && <p className="notice" role="alert">{d.metricsError}</p>}
      {m && <PodMetricsPanel metrics={m} />}
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
