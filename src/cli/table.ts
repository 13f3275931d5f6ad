/** The terminal table of the main job: one block per input, one row per compressor. */
import type { ResultRecord } from '../records/run-record.js';
import { seenLabel } from '../records/generalization.js';

/** null: an empty input has no bits/byte, shown as n/a rather than as a score. */
const fmt = (n: number | null, digits = 3) => (n === null ? 'n/a' : Number.isFinite(n) ? n.toFixed(digits) : '–');
const int = (n: number) => n.toLocaleString('en-US');

export function resultsTable(results: ResultRecord[]): string {
  const byInput = new Map<string, ResultRecord[]>();
  for (const r of results) byInput.set(r.input.name, [...(byInput.get(r.input.name) ?? []), r]);
  const blocks: string[] = [];
  for (const [name, rows] of byInput) {
    const head = ['compressor', 'in bytes', 'out bytes', 'ratio', 'bits/byte', 'ideal b/B', 'tokens', 'tok/s', 'bytes/s', 'enc s', 'dec s', 'round trip', 'seen', 'LM/zlib'];
    const body = rows.map((r) => {
      const secs = r.encodeSeconds;
      return [
        r.compressor,
        int(r.inputBytes),
        int(r.outputBytes),
        r.outputBytes && r.inputBytes ? fmt(r.inputBytes / r.outputBytes, 2) : 'n/a',
        fmt(r.bitsPerByte),
        r.idealBitsPerByte !== undefined ? fmt(r.idealBitsPerByte) : '',
        r.tokens !== undefined ? int(r.tokens) : '',
        r.tokens !== undefined && secs > 0 ? int(Math.round(r.tokens / secs)) : '',
        secs > 0 ? int(Math.round(r.inputBytes / secs)) : '',
        fmt(secs, 2),
        fmt(r.decodeSeconds, 2),
        r.roundtrip ? '✓' : '✗ FAILED',
        seenLabel(r.seen),
        r.lmZlibRatio !== undefined ? fmt(r.lmZlibRatio) : '',
      ];
    });
    const widths = head.map((h, i) => Math.max(h.length, ...body.map((row) => row[i].length)));
    const line = (cells: string[]) => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ');
    const slice = rows[0].input.offset || rows[0].input.limit !== null ? ` (bytes ${rows[0].input.offset}..${rows[0].input.offset + rows[0].inputBytes} of ${int(rows[0].input.fileBytes)})` : '';
    // A failed round trip says where, one line each under its block.
    const failures = rows.filter((r) => !r.roundtrip).map((r) => `✗ ${r.compressor}: round trip failed: ${r.roundtripFailure ?? 'the decoded bytes differ'}`);
    blocks.push([`${name}${slice}`, line(head), line(widths.map((w) => '-'.repeat(w))), ...body.map(line), ...failures].join('\n'));
  }
  return blocks.join('\n\n');
}
