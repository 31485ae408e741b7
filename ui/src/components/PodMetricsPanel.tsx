// The pod detail view's figures: summary, runqueue wait p50/p99 and CPU use over time,
// and the wait histogram; a note when they come from a simulated node.
import { ApiError, messageOf } from '../api/errors';
import type { PodMetrics } from '../api/types';
import { formatCount, formatNs, formatTime } from '../format';
import { Histogram, LineChart } from './Charts';

export function metricsErrorText(e: unknown): string {
  if (!(e instanceof ApiError)) return messageOf(e);
  const prefix: Record<number, string> = {
    404: 'No metrics for this pod',
    502: 'The pod\'s node did not answer',
    503: 'Pod metrics are unavailable right now',
  };
  return prefix[e.status] ? `${prefix[e.status]}: ${e.message}` : messageOf(e);
}

// CPUs used, e.g. "0.25 CPU".
export function formatCpu(v: number): string {
  return `${new Intl.NumberFormat(undefined, { maximumFractionDigits: 2 }).format(v)} CPU`;
}

export function PodMetricsPanel({ metrics: m }: { metrics: PodMetrics }) {
  const samples = m.samples ?? [];
  const times = samples.map((s) => s.time);
  return (
    <>
      {m.source === 'simulated' && (
        <p className="notice" role="note">Simulated node: these figures come from the agent&apos;s model (agent.simulate), not from a kernel.</p>
      )}
      <dl className="stats">
        <div><dt>Node</dt><dd>{m.node || '—'}</dd></div>
        {m.namespace && <div><dt>Namespace</dt><dd>{m.namespace}</dd></div>}
        <div><dt>CPU time</dt><dd>{formatNs(m.cpuTimeNs)}</dd></div>
        <div><dt>Runs</dt><dd>{formatCount(m.runs)}</dd></div>
        <div><dt>Wait p50 (latest)</dt><dd>{formatNs(samples.at(-1)?.waitP50Ns)}</dd></div>
        <div><dt>Wait p99 (latest)</dt><dd>{formatNs(samples.at(-1)?.waitP99Ns)}</dd></div>
        <div><dt>Sampled</dt><dd>{formatTime(m.sampledAt)}</dd></div>
      </dl>
      {samples.length > 0 ? (
        <div className="charts">
          <LineChart title="Runqueue wait over time" times={times}
            series={[
              { name: 'p50', className: 's-p50', values: samples.map((s) => s.waitP50Ns) },
              { name: 'p99', className: 's-p99', values: samples.map((s) => s.waitP99Ns) },
            ]} />
          <LineChart title="CPU use over time" times={times} format={formatCpu}
            series={[{ name: 'CPU use', className: 's-cpu', values: samples.map((s) => s.cpuUse) }]} />
          {m.waitHistogram && m.waitHistogram.counts.length > 0 && (
            <Histogram title="Runqueue wait histogram (runs per bucket)" boundsNs={m.waitHistogram.boundsNs} counts={m.waitHistogram.counts} />
          )}
        </div>
      ) : <p className="muted">No samples yet.</p>}
    </>
  );
}
