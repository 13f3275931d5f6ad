/** Number formatting shared by the Markdown and HTML reports, so both show identical figures. */

/** `12,345,678` */
export function formatInt(n: number): string {
  return Number.isFinite(n) ? Math.round(n).toLocaleString('en-US') : '—';
}

/** Bits per byte, 4 decimals: enough to see a 0.1% change at ~1 bpb. */
export function formatBpb(bpb: number | null | undefined): string {
  return bpb === null || bpb === undefined || !Number.isFinite(bpb) ? '—' : bpb.toFixed(4);
}

/** Seconds with 3 significant digits (0.0123, 1.23, 123). */
export function formatSeconds(s: number): string {
  if (!Number.isFinite(s)) return '—';
  if (s === 0) return '0';
  return s >= 100 ? s.toFixed(0) : s.toPrecision(3);
}

/** Decimal (SI) size, as compression results are usually quoted: `1.23 GB`. */
export function formatSize(bytes: number): string {
  if (!Number.isFinite(bytes)) return '—';
  const units = ['B', 'kB', 'MB', 'GB', 'TB', 'PB'];
  let value = bytes;
  let unit = 0;
  while (Math.abs(value) >= 1000 && unit < units.length - 1) {
    value /= 1000;
    unit++;
  }
  return unit === 0 ? `${Math.round(value)} B` : `${value.toPrecision(3)} ${units[unit]}`;
}

/** Signed percentage with 2 decimals: `+1.25%`. */
export function formatPercent(fraction: number | null): string {
  if (fraction === null || !Number.isFinite(fraction)) return '—';
  const pct = fraction * 100;
  return `${pct > 0 ? '+' : ''}${pct.toFixed(2)}%`;
}
