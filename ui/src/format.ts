// Times in the viewer's locale and time zone; durations in readable units.

export function formatTime(iso: string | undefined | null): string {
  if (!iso) return '—';
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso;
  return new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'medium' }).format(d);
}

export function formatClock(iso: string): string {
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso;
  return new Intl.DateTimeFormat(undefined, { timeStyle: 'medium' }).format(d);
}

export function formatNs(ns: number | undefined | null): string {
  if (ns === undefined || ns === null || Number.isNaN(ns)) return '—';
  const abs = Math.abs(ns);
  const nf = (v: number, unit: string) =>
    `${new Intl.NumberFormat(undefined, { maximumFractionDigits: v < 10 ? 2 : v < 100 ? 1 : 0 }).format(v)} ${unit}`;
  if (abs >= 1e9) return nf(ns / 1e9, 's');
  if (abs >= 1e6) return nf(ns / 1e6, 'ms');
  if (abs >= 1e3) return nf(ns / 1e3, 'µs');
  return nf(ns, 'ns');
}

export function formatCount(n: number | undefined | null): string {
  if (n === undefined || n === null) return '—';
  return new Intl.NumberFormat().format(n);
}

export function executionTimeLabel(ns: number): string {
  return ns === 0 ? 'scheduler default' : formatNs(ns);
}
