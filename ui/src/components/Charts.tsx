// Small SVG charts without a library (and without inline styles: the CSP forbids them;
// colours come from classes in styles.css). Each has a text equivalent for screen
// readers.
import { formatClock, formatNs } from '../format';

interface Series {
  name: string;
  className: string;
  values: (number | null)[]; // null: no value at that time (a gap in the line)
}

// Runs of consecutive non-null values, each drawn as its own line.
export function segments(values: (number | null)[]): { i: number; v: number }[][] {
  const out: { i: number; v: number }[][] = [];
  let run: { i: number; v: number }[] = [];
  values.forEach((v, i) => {
    if (v === null || Number.isNaN(v)) {
      if (run.length) out.push(run);
      run = [];
    } else {
      run.push({ i, v });
    }
  });
  if (run.length) out.push(run);
  return out;
}

export function LineChart({ times, series, title, format = formatNs }: {
  times: string[]; series: Series[]; title: string; format?: (v: number) => string;
}) {
  const w = 640, h = 200, pad = { l: 64, r: 12, t: 12, b: 28 };
  const all = series.flatMap((s) => s.values).filter((v): v is number => v !== null);
  const max = Math.max(1, ...all);
  const n = Math.max(1, times.length - 1);
  const x = (i: number) => pad.l + (i / n) * (w - pad.l - pad.r);
  const y = (v: number) => h - pad.b - (v / max) * (h - pad.t - pad.b);
  const ticks = [0, max / 2, max];
  return (
    <figure className="chart">
      <svg viewBox={`0 0 ${w} ${h}`} role="img" aria-label={title}>
        {ticks.map((t) => (
          <g key={t}>
            <line className="grid" x1={pad.l} x2={w - pad.r} y1={y(t)} y2={y(t)} />
            <text className="axis" x={pad.l - 6} y={y(t) + 4} textAnchor="end">{format(t)}</text>
          </g>
        ))}
        {times.length > 0 && (
          <>
            <text className="axis" x={pad.l} y={h - 8}>{formatClock(times[0])}</text>
            <text className="axis" x={w - pad.r} y={h - 8} textAnchor="end">{formatClock(times[times.length - 1])}</text>
          </>
        )}
        {series.map((s) => segments(s.values).map((run) => (
          run.length === 1
            ? <circle key={`${s.name}-${run[0].i}`} className={`dot ${s.className}`} cx={x(run[0].i)} cy={y(run[0].v)} r={3} />
            : <polyline key={`${s.name}-${run[0].i}`} className={`line ${s.className}`} fill="none"
                points={run.map(({ i, v }) => `${x(i)},${y(v)}`).join(' ')} />
        )))}
      </svg>
      <figcaption>
        {title}:{' '}
        {series.map((s) => {
          const last = [...s.values].reverse().find((v) => v !== null);
          return (
            <span key={s.name} className={`legend ${s.className}`}>
              {s.name} {last === undefined || last === null ? '—' : format(last)}
            </span>
          );
        })}
      </figcaption>
    </figure>
  );
}

export function Histogram({ boundsNs, counts, title }: { boundsNs: number[]; counts: number[]; title: string }) {
  const w = 640, h = 200, pad = { l: 48, r: 12, t: 12, b: 28 };
  const max = Math.max(1, ...counts);
  const bw = (w - pad.l - pad.r) / Math.max(1, counts.length);
  // Labels need about 44 px each: label every bucket, every 2nd or every 4th.
  const labelEvery = counts.length <= 12 ? 1 : counts.length <= 16 ? 2 : 4;
  return (
    <figure className="chart">
      <svg viewBox={`0 0 ${w} ${h}`} role="img" aria-label={title}>
        <line className="grid" x1={pad.l} x2={w - pad.r} y1={h - pad.b} y2={h - pad.b} />
        <text className="axis" x={pad.l - 6} y={pad.t + 8} textAnchor="end">{max}</text>
        {counts.map((c, i) => {
          const bh = (c / max) * (h - pad.t - pad.b);
          return (
            <g key={i}>
              <rect className="bar" x={pad.l + i * bw + 1} y={h - pad.b - bh} width={Math.max(1, bw - 2)} height={bh}>
                <title>{`≤ ${formatNs(boundsNs[i])}: ${c}`}</title>
              </rect>
              {i % labelEvery === 0 && (
                <text className="axis" x={pad.l + i * bw + bw / 2} y={h - pad.b + 14} textAnchor="middle">
                  {boundsNs[i] === undefined ? '∞' : `≤${formatNs(boundsNs[i])}`}
                </text>
              )}
            </g>
          );
        })}
      </svg>
      <figcaption>{title}</figcaption>
    </figure>
  );
}
