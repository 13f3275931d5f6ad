/**
 * The leaderboard as ONE self-contained HTML page: echarts inlined from node_modules, the data
 * embedded as JSON, the same tables as the Markdown report. Opens from disk with no network.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import type { RunRecord } from '../records/run-record.js';
import { buildChartData } from './chart-data.js';
import { CHART_SCRIPT, CHARTS, SERIES_CHART } from './html-charts.js';
import { buildLeaderboard, type LeaderboardOptions, type Table } from './leaderboard.js';

let echartsSource: string | undefined;

/** The echarts UMD build, read once. `</script` is escaped so it cannot close our inline tag. */
function echartsInline(): string {
  echartsSource ??= readFileSync(createRequire(import.meta.url).resolve('echarts/dist/echarts.min.js'), 'utf8').replace(/<\/script/gi, '<\\/script');
  return echartsSource;
}

export function escapeHtml(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

/** JSON safe inside a <script> element: no `<` can start `</script>` or `<!--`. */
function scriptJson(value: unknown): string {
  return JSON.stringify(value).replace(/</g, '\\u003c').replace(/\u2028/g, '\\u2028').replace(/\u2029/g, '\\u2029');
}

export function htmlTable(table: Table): string {
  const cls = (i: number) => (table.align[i] === 'left' ? '' : ` class="${table.align[i]}"`);
  const head = table.headers.map((h, i) => `<th${cls(i)}>${escapeHtml(h)}</th>`).join('');
  const body = table.rows.map((row) => `<tr>${row.map((c, i) => `<td${cls(i)}>${escapeHtml(c)}</td>`).join('')}</tr>`).join('\n');
  return `<div class="table-wrap"><table>\n<thead><tr>${head}</tr></thead>\n<tbody>\n${body}\n</tbody></table></div>`;
}

const STYLE = `
:root { color-scheme: light; --fg: #1d2330; --muted: #5b6474; --line: #e3e6ec; --bg: #f7f8fa; --accent: #3a5ccc; }
* { box-sizing: border-box; }
body { margin: 0; font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: var(--fg); background: var(--bg); }
main { max-width: 1280px; margin: 0 auto; padding: 24px 28px 48px; }
h1 { font-size: 24px; margin: 0 0 4px; }
h2 { font-size: 18px; margin: 32px 0 6px; padding-top: 8px; border-top: 1px solid var(--line); }
h3 { font-size: 15px; margin: 0 0 2px; }
p, li { color: var(--muted); }
.facts { margin: 0 0 10px; font-size: 13px; }
.runs { font-size: 12px; margin: 4px 0 0; padding-left: 18px; }
.charts { display: grid; grid-template-columns: repeat(auto-fit, minmax(min(520px, 100%), 1fr)); gap: 16px; margin-top: 16px; }
.card { background: #fff; border: 1px solid var(--line); border-radius: 8px; padding: 14px 16px 10px; }
.card p { margin: 0 0 8px; font-size: 12px; }
.chart { width: 100%; height: 400px; }
.charts.series { grid-template-columns: 1fr; margin-bottom: 12px; }
.table-wrap { overflow-x: auto; background: #fff; border: 1px solid var(--line); border-radius: 8px; }
table { border-collapse: collapse; width: 100%; font-size: 13px; font-variant-numeric: tabular-nums; }
th, td { padding: 6px 8px; border-bottom: 1px solid var(--line); white-space: nowrap; text-align: left; }
th { white-space: normal; vertical-align: bottom; line-height: 1.25; }
th { background: #f0f2f6; font-weight: 600; position: sticky; top: 0; }
tbody tr:nth-child(even) td { background: #fafbfc; }
tbody tr:hover td { background: #eef2fb; }
td.right, th.right { text-align: right; }
td.center, th.center { text-align: center; }
.notes { font-size: 12px; margin: 8px 0 0; }
.crossover { font-size: 13px; margin: 8px 0 0; }
.crossover li { color: var(--fg); }
.label { display: inline-block; font-size: 11px; font-weight: 600; text-transform: uppercase; letter-spacing: .04em; color: #8a5a00; background: #fff3d6; border-radius: 4px; padding: 1px 6px; margin-right: 6px; }
`;

export function leaderboardHtml(records: RunRecord[], options: { title?: string } & LeaderboardOptions = {}): string {
  const title = options.title ?? 'compress-bench leaderboard';
  const board = buildLeaderboard(records, options);
  const g = board.generalization;
  const drawSeries = g !== undefined && g.series.axis !== null && g.series.points.length > 0;
  const data = { ...buildChartData(records), ...(drawSeries ? { series: g!.series } : {}) };
  const parts: string[] = [];
  parts.push(`<h1>${escapeHtml(title)}</h1>`);
  parts.push(`<p>${board.runs.length} run${board.runs.length === 1 ? '' : 's'}, ${board.inputs.length} input${board.inputs.length === 1 ? '' : 's'}. Figures are coded bits per byte of real streams; Hutter totals add the decompressor (weights included).</p>`);
  parts.push(`<ul class="runs">${board.runs.map((r) => `<li>${escapeHtml(r)}</li>`).join('')}</ul>`);
  if (board.inputs.length > 0) {
    parts.push(
      `<section class="charts">${CHARTS.map((c) => `<div class="card"><h3>${escapeHtml(c.title)}</h3><p>${escapeHtml(c.caption)}</p><div class="chart" id="${c.id}"></div></div>`).join('\n')}</section>`,
    );
    parts.push('<h2>Summary across inputs</h2>', htmlTable(board.summary), ...board.summaryNotes.map((n) => `<p class="notes">${escapeHtml(n)}</p>`));
    if (g) {
      parts.push(`<h2>${escapeHtml(g.title)}</h2>`);
      if (drawSeries) {
        const caption = SERIES_CHART.caption(g.series.axis!);
        parts.push(`<section class="charts series"><div class="card"><h3>${escapeHtml(SERIES_CHART.title)}</h3><p>${escapeHtml(caption)}</p><div class="chart" id="${SERIES_CHART.id}"></div></div></section>`);
      }
      parts.push(htmlTable(g.table), ...g.notes.map((n) => `<p class="notes">${escapeHtml(n)}</p>`));
    }
  } else {
    parts.push('<p>No results.</p>');
  }
  for (const s of board.inputs) {
    parts.push(`<h2>${escapeHtml(s.title)}</h2>`, `<p class="facts">${escapeHtml(s.facts)}</p>`, htmlTable(s.table));
    if (s.notes.length) parts.push(`<ol class="notes">${s.notes.map((n) => `<li>${escapeHtml(n)}</li>`).join('')}</ol>`);
    if (s.crossovers.length) {
      parts.push(
        `<p class="crossover"><span class="label">extrapolation</span>Hutter crossover, assuming bpb stays as measured while the input grows:</p>`,
        `<ul class="crossover">${s.crossovers.map((c) => `<li>${escapeHtml(c)}</li>`).join('')}</ul>`,
      );
    }
  }
  return htmlPage({
    title,
    style: STYLE,
    body: parts.join('\n'),
    dataId: 'report-data',
    data,
    script: board.inputs.length > 0 ? CHART_SCRIPT : undefined,
  });
}

/**
 * One self-contained page: inline style, the chart data as JSON, and echarts inlined (no
 * network), shared by the leaderboard and the joint report.
 */
export function htmlPage(p: { title: string; style: string; body: string; dataId: string; data: unknown; script?: string }): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(p.title)}</title>
<style>${p.style}</style>
</head>
<body>
<main>
${p.body}
</main>
<script type="application/json" id="${p.dataId}">${scriptJson(p.data)}</script>
${p.script ? `<script>${echartsInline()}</script>\n<script>${p.script}</script>` : ''}
</body>
</html>
`;
}
