/** The terminal output of `joint`: per compressor, its inputs, every ordered pair, and two matrices. */
import type { CompressorJoint, JointReport } from './report.js';

const int = (n: number) => Math.round(n).toLocaleString('en-US');
const signed = (n: number) => (n > 0 ? '+' : '') + int(n);
const pct = (n: number) => `${n.toFixed(1)}%`;
const fixed = (n: number | null, d = 3) => (n === null ? '–' : n.toFixed(d));

function grid(head: string[], rows: string[][]): string {
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (cells: string[]) => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ').trimEnd();
  return [line(head), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)].join('\n');
}

function matrix(title: string, names: string[], m: (number | null)[][], cell: (v: number) => string): string {
  return `${title}\n${grid(['A \\ B', ...names], names.map((n, i) => [n, ...m[i].map((v) => (v === null ? '·' : cell(v)))]))}`;
}

export function compressorTable(c: CompressorJoint, mark: (name: string) => string = (n) => n): string {
  const unit = c.reach.unit === 'tokens' ? 'tok' : 'B';
  const window = c.reach.window === null ? 'unbounded' : `${int(c.reach.window)} ${c.reach.unit}`;
  const out: string[] = [
    `== ${c.compressor}: reach ${window} (${c.reach.note}); container h ≈ ${c.overheadBytes} B; ${c.codings} verified round trips, ${c.seconds.toFixed(1)} s`,
  ];
  out.push(
    grid(
      ['input', 'C(X)', `size (${unit})`, 'visible to the next input', 'C(tail)'],
      c.inputs.map((x) => [
        mark(x.input),
        int(x.codedBytes),
        int(x.size),
        `${pct(100 * x.visibleFraction)} (${int(x.visible)} ${unit})`,
        x.tail ? `${int(x.tail.codedBytes)} (${int(x.tail.bytes)} B)` : '',
      ]),
    ),
  );
  const direct = c.pairs.some((p) => p.direct);
  const head = ['A → B', 'C(A)', 'C(B)', 'C(A‖B)', 'C(B‖A)', 'gain B', 'gain %', 'net gain %', 'C(B|A)', 'NCD', 'net NCD', 'A seen', 'within', 'beyond'];
  if (direct) head.push('C(B) pay', 'C(B|Aₜ) direct pay');
  out.push(
    grid(
      head,
      c.pairs.map((p) => {
        const row = [
          `${mark(p.a)} → ${mark(p.b)}`,
          int(p.cA), int(p.cB), int(p.cAB), int(p.cBA),
          int(p.gainBytes), pct(p.gainPercent), pct(p.netGainPercent),
          int(p.conditionalBytes), fixed(p.ncd), fixed(p.netNcd),
          pct(100 * p.reach.visibleFraction),
          p.reach.gainWithinReach === null ? '–' : int(p.reach.gainWithinReach),
          p.reach.gainBeyondReach === null ? '–' : int(p.reach.gainBeyondReach),
        ];
        if (direct) row.push(p.direct ? int(p.direct.bPayloadBytes) : '', p.direct ? `${int(p.direct.payloadBytes)} (${signed(p.direct.gainBytes)}, ${int(p.direct.primerTokens)} tok)` : '');
        return row;
      }),
    ),
  );
  const names = c.inputs.map((x) => mark(x.input));
  out.push(matrix('net NCD (row A coded first, column B):', names, c.matrices.netNcd, (v) => v.toFixed(3)));
  out.push(matrix('net joint gain % (row A, column B):', names, c.matrices.netGainPercent, (v) => v.toFixed(1)));
  return out.join('\n\n');
}

export const LEGEND = `Sizes are bytes of verified archives. gain = C(A)+C(B)−C(A‖B); C(B|A) = C(A‖B)−C(A);
NCD = (C(A‖B)−min(C(A),C(B)))/max(C(A),C(B)). "net" subtracts the container h from every size
(h = C(one byte)−1), leaving shared structure only. "A seen": the most of A inside the window
when B starts. within/beyond: net gain from A's last window alone (C(A_tail)+C(B)−C(A_tail‖B)−h)
and from the rest of A. "pay" = LM coded stream without header; C(B|Aₜ) direct = B coded after
an uncharged primer of A's last tokens (gain vs C(B) pay, primer length).`;

export function jointText(report: JointReport): string {
  const seen = new Set(report.inputs.filter((x) => x.trainingData).map((x) => x.name));
  const mark = (name: string) => (seen.has(name) ? `${name}*` : name);
  const parts = report.compressors.map((c) => compressorTable(c, mark));
  const notes = [LEGEND];
  for (const x of report.inputs.filter((i) => i.trainingData)) notes.push(`* ${x.name}: ${x.trainingData}.`);
  for (const s of report.skipped) notes.push(`skipped ${s.name}: ${s.reason}`);
  const limit = report.options.limit === null ? 'whole inputs' : `first ${int(report.options.limit)} bytes of each input`;
  return [`joint compression, ${limit}: ${report.inputs.map((x) => `${mark(x.name)} (${int(x.bytes)} B)`).join(', ')}`, ...parts, notes.join('\n')].join('\n\n') + '\n';
}
