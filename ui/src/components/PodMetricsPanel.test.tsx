// The pod detail figures: summary in words, p50/p99 lines with gaps where an interval
// had no runs, CPU use, the histogram with its open last bucket, the simulated-node
// note, and failures explained with the server's message.
import { afterEach, describe, expect, it } from 'vitest';
import { cleanup, render, screen } from '@testing-library/react';
import { ApiError } from '../api/errors';
import type { PodMetrics } from '../api/types';
import { segments } from './Charts';
import { PodMetricsPanel, metricsErrorText } from './PodMetricsPanel';

afterEach(cleanup);

const metrics: PodMetrics = {
  podId: '0a0a0a0a-0000-0000-0000-000000000001', podName: 'prometheus-0', namespace: 'default',
  node: 'node-a', source: 'simulated', sampledAt: '2026-12-02T13:00:03.000Z',
  cpuTimeNs: 2_500_000_000, runs: 1200, waitTimeNs: 90_000_000,
  waitHistogram: { boundsNs: [1024, 2048, 4096], counts: [10, 700, 480, 10] },
  samples: [
    { time: '2026-12-02T13:00:00.000Z', cpuTimeNs: 1_000_000_000, cpuUse: null, runs: 400, waitP50Ns: 60_000, waitP99Ns: 400_000 },
    { time: '2026-12-02T13:00:01.000Z', cpuTimeNs: 1_250_000_000, cpuUse: 0.25, runs: 0, waitP50Ns: null, waitP99Ns: null },
    { time: '2026-12-02T13:00:02.000Z', cpuTimeNs: 2_000_000_000, cpuUse: 0.75, runs: 400, waitP50Ns: 50_000, waitP99Ns: 300_000 },
    { time: '2026-12-02T13:00:03.000Z', cpuTimeNs: 2_500_000_000, cpuUse: 0.5, runs: 400, waitP50Ns: 40_000, waitP99Ns: 200_000 },
  ],
};

describe('pod metrics panel', () => {
  it('summarises the latest figures in words', () => {
    const { container } = render(<PodMetricsPanel metrics={metrics} />);
    const stats = Object.fromEntries([...container.querySelectorAll('dl.stats > div')].map(
      (row) => [row.querySelector('dt')!.textContent, row.querySelector('dd')!.textContent]));
    expect(stats).toMatchObject({
      Node: 'node-a', Namespace: 'default', 'CPU time': '2.5 s', Runs: '1,200',
      'Wait p50 (latest)': '40 µs', 'Wait p99 (latest)': '200 µs',
    });
    expect(screen.getByRole('note').textContent).toContain('Simulated node');
  });

  it('draws p50 and p99 over time with a gap for the interval without runs, and CPU use', () => {
    const { container } = render(<PodMetricsPanel metrics={metrics} />);
    const wait = screen.getByRole('img', { name: 'Runqueue wait over time' });
    // Per series: a dot for the lone first sample, a line for the last two.
    expect(wait.querySelectorAll('circle.s-p50').length).toBe(1);
    expect(wait.querySelectorAll('polyline.s-p50').length).toBe(1);
    expect(wait.querySelector('polyline.s-p99')!.getAttribute('points')!.split(' ').length).toBe(2);
    const cpu = screen.getByRole('img', { name: 'CPU use over time' });
    expect(cpu.querySelector('polyline.s-cpu')!.getAttribute('points')!.split(' ').length).toBe(3);
    expect(container.textContent).toContain('CPU use 0.5 CPU');  // legend: the latest value
    expect(container.textContent).toContain('p99 200 µs');
  });

  it('draws the histogram with one bar per bucket and the open last bucket', () => {
    render(<PodMetricsPanel metrics={metrics} />);
    const hist = screen.getByRole('img', { name: 'Runqueue wait histogram (runs per bucket)' });
    expect(hist.querySelectorAll('rect.bar').length).toBe(4);
    expect(hist.textContent).toContain('∞');
    expect(hist.textContent).toContain('≤1.02 µs');
  });

  it('says when there are no samples and hides the simulated note for a real node', () => {
    render(<PodMetricsPanel metrics={{ ...metrics, source: 'scheduler', samples: [] }} />);
    expect(screen.getByText('No samples yet.')).toBeTruthy();
    expect(screen.queryByRole('note')).toBeNull();
  });

  it('splits a series into runs of values', () => {
    expect(segments([1, 2, null, 3, null, null])).toEqual([[{ i: 0, v: 1 }, { i: 1, v: 2 }], [{ i: 3, v: 3 }]]);
    expect(segments([null])).toEqual([]);
  });

  it('explains failures with the server message', () => {
    expect(metricsErrorText(new ApiError(404, "pod x has no policy on node node-b")))
      .toBe("No metrics for this pod: pod x has no policy on node node-b");
    expect(metricsErrorText(new ApiError(502, 'the agent of node node-b is unreachable: refused')))
      .toBe("The pod's node did not answer: the agent of node node-b is unreachable: refused");
    expect(metricsErrorText(new ApiError(503, 'no agent is known for node node-c')))
      .toContain('unavailable right now: no agent is known for node node-c');
    expect(metricsErrorText(new ApiError(403, 'permission denied'))).toBe('Refused by the server: permission denied');
  });
});
