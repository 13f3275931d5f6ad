/** The leaderboard as Markdown: a table per input, a summary across inputs, notes and Hutter crossovers. */
import type { RunRecord } from '../records/run-record.js';
import { buildLeaderboard, type LeaderboardOptions, type Table } from './leaderboard.js';

/** A GitHub-flavoured Markdown table; `|` and newlines in cells are escaped so rows stay intact. */
export function markdownTable(table: Table): string {
  const cell = (s: string) => s.replace(/\\/g, '\\\\').replace(/\|/g, '\\|').replace(/\r?\n/g, ' ');
  const rule = table.align.map((a) => (a === 'right' ? '---:' : a === 'center' ? ':---:' : ':---'));
  return [table.headers, rule, ...table.rows].map((row, i) => `| ${(i === 1 ? row : row.map(cell)).join(' | ')} |`).join('\n');
}

export function leaderboardMarkdown(records: RunRecord[], options: LeaderboardOptions = {}): string {
  const board = buildLeaderboard(records, options);
  const out: string[] = ['# compress-bench leaderboard', ''];
  if (board.inputs.length === 0) return out.concat('No results.', '').join('\n');
  out.push(`Runs (${board.runs.length}):`, '', ...board.runs.map((r) => `- ${r}`), '');
  out.push('## Summary across inputs', '', markdownTable(board.summary), '', ...board.summaryNotes.map((n) => `_${n}_`), '');
  if (board.generalization) {
    const g = board.generalization;
    out.push(`## ${g.title}`, '', markdownTable(g.table), '', ...g.notes.map((n) => `_${n}_`), '');
  }
  for (const section of board.inputs) {
    out.push(`## ${section.title}`, '', section.facts, '', markdownTable(section.table), '');
    if (section.notes.length) out.push('Notes:', '', ...section.notes.map((n, i) => `${i + 1}. ${n}`), '');
    if (section.crossovers.length) {
      out.push('Hutter crossover (extrapolation: assumes bpb stays as measured while the input grows):', '', ...section.crossovers.map((c) => `- ${c}`), '');
    }
  }
  return out.join('\n');
}
