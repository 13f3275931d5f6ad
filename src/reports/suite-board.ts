/**
 * The suite leaderboard: one table per suite × protocol, one row per compressor (model, dtype,
 * runtime, coding step), a column per input, pooled over the inputs every row ran. Records of
 * another protocol or of no suite are never pooled in: the report lists them and says why.
 * Output holds no timestamps, so regenerating from the same records gives the same bytes.
 */
import type { ResultRecord, RunRecord } from '../records/run-record.js';
import { describeProtocol, type Suite } from '../suites/suite.js';
import { compressorLabel } from './results.js';
import { formatBpb, formatInt, formatSize } from './format.js';
import { markdownTable } from './markdown.js';
import type { Table } from './leaderboard.js';
import { escapeHtml, htmlPage, htmlTable } from './html.js';
import { CHART_HELPERS } from './html-charts.js';

export interface BoardRow {
  label: string;
  /** Per suite input (in suite order): the result, or undefined where the row has none. */
  cells: (ResultRecord | undefined)[];
  pooledBpb: number;
  pooledIn: number;
  pooledOut: number;
  decompressorBytes: number;
  seenShare: number | null;
  encodeBps: number | null;
  decodeBps: number | null;
}

export interface SuiteBoard {
  suite: string;
  protocolHash: string;
  protocol: string;
  description: string;
  inputs: string[];
  /** Indexes of the inputs every row ran: the pooled figures are over these. */
  common: number[];
  rows: BoardRow[];
  published: NonNullable<Suite['published']>;
}

export interface Excluded {
  what: string;
  why: string;
}

/** Identity of a row: compressor, dtype, runtime and coding step (what changes the bytes). */
function rowKey(r: ResultRecord): string {
  const m = r.model;
  const step = typeof r.codec?.codingStep === 'string' ? r.codec.codingStep : '';
  return m ? `${r.compressor}|${m.dtype}|${m.runtime ?? ''}|${step}` : r.compressor;
}

function rowLabel(r: ResultRecord): string {
  const step = typeof r.codec?.codingStep === 'string' ? ` · ${r.codec.codingStep}` : '';
  const rt = r.model?.runtime ? ` · ${r.model.runtime.split(' ').slice(0, 2).join(' ')}` : '';
  // A model named by its file (GGUF) shows the file's name: the board must not depend on where it sat.
  const name = compressorLabel(r).replace(/(?:\/[^\s/:]+)+\/([^\s/:]+)/g, '$1');
  return name + (r.model && r.model.dtype !== 'none' ? rt + step : '');
}

const valid = (r: ResultRecord | undefined): r is ResultRecord => !!r && !r.error && r.roundtrip && typeof r.bitsPerByte === 'number';

export function buildSuiteBoards(records: RunRecord[], suites: Suite[]): { boards: SuiteBoard[]; excluded: Excluded[] } {
  const excluded: Excluded[] = [];
  const groups = new Map<string, RunRecord[]>();
  for (const rec of records) {
    const what = `${rec.argv.join(' ')}`.trim() || '(no command line)';
    if (!rec.suite) {
      excluded.push({ what, why: 'not a suite run (ad-hoc inputs and settings): its figures are not comparable with a suite protocol' });
      continue;
    }
    if (!rec.complete) {
      excluded.push({ what, why: `incomplete (suite ${rec.suite.name}, shard or interrupted run): merge or resume it first` });
      continue;
    }
    const key = `${rec.suite.name}\u0000${rec.suite.protocolHash}`;
    groups.set(key, [...(groups.get(key) ?? []), rec]);
  }
  const boards: SuiteBoard[] = [];
  for (const recs of groups.values()) {
    const s = recs[0].suite!;
    const rows = new Map<string, BoardRow>();
    for (const rec of recs) {
      const index = new Map((rec.work?.inputs ?? []).map((i, n) => [`${i.name}\u0000${i.sliceSha256}`, n]));
      for (const r of rec.results) {
        const n = index.get(`${r.file}\u0000${r.input.sliceSha256}`);
        if (n === undefined) continue;
        const key = rowKey(r);
        let row = rows.get(key);
        if (!row) rows.set(key, (row = { label: rowLabel(r), cells: s.inputs.map(() => undefined), pooledBpb: NaN, pooledIn: 0, pooledOut: 0, decompressorBytes: 0, seenShare: null, encodeBps: null, decodeBps: null }));
        row.cells[n] = r;
      }
    }
    const list = [...rows.values()];
    const common = s.inputs.map((_, i) => i).filter((i) => list.every((row) => valid(row.cells[i])));
    for (const row of list) {
      const pooled = common.map((i) => row.cells[i]!);
      row.pooledIn = pooled.reduce((a, r) => a + r.inputBytes, 0);
      row.pooledOut = pooled.reduce((a, r) => a + r.outputBytes, 0);
      row.pooledBpb = row.pooledIn > 0 ? (8 * row.pooledOut) / row.pooledIn : NaN;
      row.decompressorBytes = Math.max(0, ...row.cells.filter(valid).map((r) => r.decompressor.bytes));
      const known = pooled.filter((r) => r.seen === true || r.seen === false);
      row.seenShare = known.length === pooled.length && pooled.length ? pooled.filter((r) => r.seen).reduce((a, r) => a + r.inputBytes, 0) / row.pooledIn : null;
      const enc = pooled.reduce((a, r) => a + r.encodeSeconds, 0);
      const dec = pooled.reduce((a, r) => a + r.decodeSeconds, 0);
      row.encodeBps = enc > 0 ? row.pooledIn / enc : null;
      row.decodeBps = dec > 0 ? row.pooledIn / dec : null;
    }
    list.sort((a, b) => (Number.isNaN(a.pooledBpb) ? 1 : 0) - (Number.isNaN(b.pooledBpb) ? 1 : 0) || a.pooledBpb - b.pooledBpb || (a.label < b.label ? -1 : 1));
    const def = suites.find((x) => x.name === s.name);
    boards.push({ suite: s.name, protocolHash: s.protocolHash, protocol: describeProtocol(s.protocol), description: def?.description ?? '', inputs: s.inputs, common, rows: list, published: def?.published ?? [] });
  }
  boards.sort((a, b) => (a.suite < b.suite ? -1 : a.suite > b.suite ? 1 : a.protocolHash < b.protocolHash ? -1 : 1));
  // Same suite, other protocol: say so, so nobody reads two tables as one.
  for (const b of boards) {
    const others = boards.filter((o) => o.suite === b.suite && o !== b);
    if (others.length) excluded.push({ what: `suite ${b.suite} under protocol ${b.protocolHash} (${b.protocol})`, why: `not pooled with ${others.map((o) => `protocol ${o.protocolHash} (${o.protocol})`).join(', ')}: a different protocol measures something else; each has its own table` });
  }
  return { boards, excluded };
}

/** Suites with published figures but no board: their figures still show, alone and labelled. */
function unmeasured(suites: Suite[], boards: SuiteBoard[]): Suite[] {
  return suites.filter((s) => s.published?.length && !boards.some((b) => b.suite === s.name)).sort((a, b) => (a.name < b.name ? -1 : 1));
}

const speed = (bps: number | null) => (bps === null ? '—' : `${formatSize(bps)}/s`);

export function boardTable(b: SuiteBoard): Table {
  const inputHeaders = b.inputs.map((n, i) => (b.common.includes(i) ? n : `${n} (not pooled)`));
  return {
    headers: ['#', 'compressor', 'bpb (pooled)', 'Hutter total bytes', 'decompressor bytes', 'seen share', 'encode', 'decode', ...inputHeaders],
    align: ['right', 'left', 'right', 'right', 'right', 'right', 'right', 'right', ...b.inputs.map(() => 'right' as const)],
    rows: b.rows.map((r, i) => [
      Number.isNaN(r.pooledBpb) ? '—' : String(i + 1),
      r.label,
      formatBpb(r.pooledBpb),
      r.pooledIn > 0 ? formatInt(r.pooledOut + r.decompressorBytes) : '—',
      formatInt(r.decompressorBytes),
      r.seenShare === null ? 'unknown' : `${Math.round(r.seenShare * 100)}%`,
      speed(r.encodeBps),
      speed(r.decodeBps),
      ...r.cells.map((c) => (valid(c) ? formatBpb(c.bitsPerByte) : c ? 'failed' : 'missing')),
    ]),
  };
}

function scopeNote(b: SuiteBoard): string {
  if (b.common.length === 0) return 'No input was run by every row, so there is no pooled ranking: compare the per-input columns.';
  return b.common.length === b.inputs.length
    ? `Ranked over all ${b.inputs.length} inputs, which every row ran. bpb (pooled) = 8 · Σ bytes out / Σ input bytes; the Hutter total adds the decompressor once.`
    : `Ranked over the ${b.common.length} of ${b.inputs.length} inputs every row ran; "missing" cells are not pooled.`;
}

function publishedTable(b: Pick<SuiteBoard, 'published'>): Table {
  return {
    headers: ['compressor', 'input', 'bytes', 'bpb', 'source', 'note'],
    align: ['left', 'left', 'right', 'right', 'left', 'left'],
    rows: b.published.map((p) => [p.compressor + (p.includesDecompressor ? ' (with decompressor)' : ''), p.input, p.bytes ? formatInt(p.bytes) : '—', p.bitsPerByte !== undefined ? p.bitsPerByte.toFixed(3) : '—', p.source, p.note ?? '']),
  };
}

export function suiteLeaderboardMarkdown(records: RunRecord[], suites: Suite[]): string {
  const { boards, excluded } = buildSuiteBoards(records, suites);
  const out = ['# compress-bench leaderboard', ''];
  if (!boards.length) out.push('No suite runs.', '');
  for (const b of boards) {
    out.push(`## ${b.suite} — protocol ${b.protocolHash}`, '', markdownTable(boardTable(b)), '', `_${scopeNote(b)}_`, '', `Protocol: ${b.protocol}.`, '', b.description, '');
    if (b.published.length) out.push('Published, not measured here:', '', markdownTable(publishedTable(b)), '');
  }
  for (const s of unmeasured(suites, boards)) out.push(`## ${s.name} — published, not measured here`, '', `${s.description} No run of this suite is in the records; these are the literature's figures, for where a model would sit.`, '', markdownTable(publishedTable({ published: s.published ?? [] })), '');
  if (excluded.length) out.push('## Not pooled', '', ...excluded.map((e) => `- ${e.what}: ${e.why}`), '');
  out.push('Seen share: the part of the pooled bytes the model\'s card calls training data. Speeds: pooled input bytes per second of encode and of decode, from the records (this machine, shared; compare only as ratios).', '');
  return out.join('\n');
}

/**
 * The leaderboard's two charts per board. The ladder: every row's pooled bpb against its
 * decompressor bytes, each point named (labels placed clear of each other and of the axes), and
 * the frontier as a line — the best bpb any row reaches at that size or smaller. The per-input
 * chart: one bar per row and input, under a legend that wraps (the plot starts below it).
 */
export const SUITE_CHART_SCRIPT = String.raw`
(function () {
  'use strict';
  var data = JSON.parse(document.getElementById('report-data').textContent);
${CHART_HELPERS}
  var charts = [];
  var TEXT = { fontFamily: 'system-ui, -apple-system, Segoe UI, Roboto, sans-serif' };
  var LEGEND = { type: 'plain', top: 2, left: 0, right: 0, padding: 0, itemGap: 12, itemWidth: 14, itemHeight: 10, textStyle: { fontSize: 11 } };
  function grid(top) { return { left: 8, right: 24, top: top, bottom: 8, outerBoundsMode: 'auto', outerBounds: { left: 8, right: 8, top: 0, bottom: 4 }, outerBoundsContain: 'all' }; }
  // An axis bound a tenth of a bit past the data (8% of its range at least), so no point sits on an
  // edge; the bound itself is off the tick grid, so its label is not drawn (it would crowd the next).
  function pad(side) { return function (v) { var d = Math.max(0.1, (v.max - v.min) * 0.08); return side < 0 ? Math.max(0, Math.floor((v.min - d) * 10) / 10) : Math.ceil((v.max + d) * 10) / 10; }; }
  function si(v) { var u = ['B', 'kB', 'MB', 'GB']; var i = 0; while (v >= 1000 && i < 3) { v /= 1000; i++; } return (i ? Number(v.toPrecision(3)) : Math.round(v)) + ' ' + u[i]; }
  // Enough distinct colours that no two rows of a board share one.
  var PALETTE = ['#5470c6', '#91cc75', '#fac858', '#ee6666', '#73c0de', '#3ba272', '#fc8452', '#9a60b4', '#ea7ccc', '#2f4554', '#c23531', '#7a6a00', '#1f9e89', '#b8860b', '#6e7079', '#d48265'];
  var KINDS = ['language models', 'classic and order-k', 'frontier: best bpb at this size or smaller'];
  data.boards.forEach(function (b, k) {
    var ladder = document.getElementById('ladder-' + k);
    if (ladder) {
      var pts = b.rows.filter(function (r) { return r.bpb !== null && r.decompressor > 0; })
        .sort(function (x, y) { return x.decompressor - y.decompressor || x.bpb - y.bpb; });
      var frontier = [], best = Infinity;
      pts.forEach(function (r) { if (r.bpb < best) { best = r.bpb; frontier.push([r.decompressor, r.bpb]); } });
      if (pts.length) frontier.push([pts[pts.length - 1].decompressor, best]);
      var point = function (r) { return { value: [r.decompressor, r.bpb], name: r.label, pointLabel: r.point, label: { show: true } }; };
      var scatter = function (name, model) {
        return { name: name, type: 'scatter', symbol: model ? 'diamond' : 'circle', symbolSize: model ? 13 : 10, z: 3, itemStyle: { color: model ? '#5470c6' : '#3ba272' },
          // A white ground, so a label that the frontier line runs under stays legible.
          label: { show: false, position: 'right', distance: GAP, fontSize: 10, lineHeight: LINE, color: '#3b4252', backgroundColor: 'rgba(255, 255, 255, 0.85)', formatter: function (it) { return it.data.pointLabel; } },
          data: pts.filter(function (r) { return r.model === model; }).map(point) };
      };
      var series = [
        { name: KINDS[2], type: 'line', step: 'end', data: frontier, symbol: 'none', silent: true, z: 1, lineStyle: { type: 'dashed', width: 1.5, color: '#8a93a3' }, itemStyle: { color: '#8a93a3' } },
        scatter(KINDS[0], true), scatter(KINDS[1], false)
      ];
      var chart = echarts.init(ladder, null, { renderer: 'svg' });
      chart.setOption({ animation: false, textStyle: TEXT, legend: LEGEND, grid: grid(legendRows(KINDS, ladder.clientWidth - 8) + 34),
        tooltip: { trigger: 'item', formatter: function (it) { return it.data.name + '<br/>' + it.data.value[1].toFixed(4) + ' bpb · ' + si(it.data.value[0]); } },
        xAxis: { type: 'log', name: 'decompressor bytes (incl. weights)', nameLocation: 'middle', nameGap: 28, axisLabel: { formatter: si } },
        // Not from zero: the rows sit within a few tenths of a bit, and their labels need the room.
        yAxis: { type: 'value', name: 'bpb (pooled)', nameTextStyle: { align: 'left' }, scale: true, min: pad(-1), max: pad(1), axisLabel: { showMinLabel: false, showMaxLabel: false } },
        series: series });
      placePointLabels(chart, ladder, series, true);
      charts.push({ chart: chart, el: ladder, names: KINDS, series: series });
    }
    var per = document.getElementById('inputs-' + k);
    if (per) {
      var names = b.rows.map(function (r) { return r.short; });
      var c2 = echarts.init(per, null, { renderer: 'svg' });
      c2.setOption({ animation: false, textStyle: TEXT, color: PALETTE, legend: LEGEND, grid: grid(legendRows(names, per.clientWidth - 8) + 34),
        tooltip: { trigger: 'axis', axisPointer: { type: 'shadow' }, valueFormatter: function (v) { return v === null || v === undefined ? 'missing' : v.toFixed(4) + ' bpb'; } },
        xAxis: { type: 'category', data: b.inputs.map(function (s) { return s.split('/').pop(); }), axisLabel: { interval: 0, rotate: b.inputs.length > 6 ? 30 : 0, fontSize: 11 } },
        yAxis: { type: 'value', name: 'bits per byte', nameTextStyle: { align: 'left' }, min: 0 },
        series: b.rows.map(function (r) { return { name: r.short, type: 'bar', barMaxWidth: 18, data: r.cells }; }) });
      charts.push({ chart: c2, el: per, names: names });
    }
  });
  window.addEventListener('resize', function () {
    charts.forEach(function (c) {
      c.chart.setOption({ grid: { top: legendRows(c.names, c.el.clientWidth - 8) + 34 } });
      c.chart.resize();
      if (c.series) placePointLabels(c.chart, c.el, c.series, true);
    });
  });
  window.__reportCharts = charts.length;
})();
`;

/** Each name shortened, except where two would then read the same: those keep their longer form. */
function unique(names: string[], shorten: (name: string) => string): string[] {
  const short = names.map(shorten);
  return short.map((s, i) => (short.indexOf(s) === short.lastIndexOf(s) ? s : names[i]));
}

/** Legend names: the row label up to its runtime. Point labels: that, less the dtype or order-k's note. */
function shortLabels(rows: BoardRow[]): { legend: string[]; point: string[] } {
  const legend = unique(rows.map((r) => r.label), (l) => l.split(' · ')[0]);
  return { legend, point: unique(legend, (l) => l.replace(/ \(.*\)$/, '')) };
}

export function suiteLeaderboardHtml(records: RunRecord[], suites: Suite[]): string {
  const { boards, excluded } = buildSuiteBoards(records, suites);
  const parts = ['<h1>compress-bench leaderboard</h1>', '<p>Suites under their protocols: only like is pooled with like. Coded bits per byte of real, verified streams; Hutter totals add the decompressor (weights included) once.</p>'];
  boards.forEach((b, k) => {
    parts.push(`<h2>${escapeHtml(b.suite)} — protocol ${escapeHtml(b.protocolHash)}</h2>`, `<p class="facts">${escapeHtml(b.protocol)}. ${escapeHtml(b.description)}</p>`, htmlTable(boardTable(b)), `<p class="notes">${escapeHtml(scopeNote(b))}</p>`);
    parts.push(`<section class="charts"><div class="card wide"><h3>Bits per byte vs decompressor size</h3><p>The ladder: pooled bpb against what the decompressor costs to ship (log scale); the dashed line is the frontier, the best bpb reached at that size or smaller.</p><div class="chart" id="ladder-${k}"></div></div><div class="card wide"><h3>Bits per byte by input</h3><p>Every row on every input of the suite.</p><div class="chart" id="inputs-${k}"></div></div></section>`);
    if (b.published.length) parts.push('<p><span class="label">published, not measured here</span></p>', htmlTable(publishedTable(b)));
  });
  for (const s of unmeasured(suites, boards)) {
    parts.push(`<h2>${escapeHtml(s.name)} <span class="label">published, not measured here</span></h2>`, `<p class="facts">${escapeHtml(s.description)} No run of this suite is in the records; these are the literature's figures, for where a model would sit.</p>`, htmlTable(publishedTable({ published: s.published ?? [] })));
  }
  if (excluded.length) parts.push('<h2>Not pooled</h2>', `<ul class="notes">${excluded.map((e) => `<li>${escapeHtml(e.what)}: ${escapeHtml(e.why)}</li>`).join('')}</ul>`);
  const data = {
    boards: boards.map((b) => {
      const short = shortLabels(b.rows);
      return {
        inputs: b.inputs,
        rows: b.rows.map((r, i) => ({
          label: r.label, short: short.legend[i], point: short.point[i], model: r.cells.some((c) => !!c?.model && c.model.dtype !== 'none'), bpb: Number.isNaN(r.pooledBpb) ? null : r.pooledBpb,
          decompressor: r.decompressorBytes, cells: r.cells.map((c) => (valid(c) ? c.bitsPerByte : null)),
        })),
      };
    }),
  };
  return htmlPage({ title: 'compress-bench leaderboard', style: SUITE_STYLE, body: parts.join('\n'), dataId: 'report-data', data, script: boards.length ? SUITE_CHART_SCRIPT : undefined });
}

const SUITE_STYLE = `
body { margin: 0; font: 14px/1.45 system-ui, sans-serif; color: #1d2330; background: #f7f8fa; }
main { max-width: 1280px; margin: 0 auto; padding: 24px 28px 48px; }
h2 { font-size: 18px; margin: 32px 0 6px; border-top: 1px solid #e3e6ec; padding-top: 8px; }
h3 { font-size: 15px; margin: 0 0 2px; }
p, li { color: #5b6474; }
.charts { display: grid; grid-template-columns: repeat(auto-fit, minmax(min(520px, 100%), 1fr)); gap: 16px; margin-top: 16px; }
.card { background: #fff; border: 1px solid #e3e6ec; border-radius: 8px; padding: 14px 16px 10px; }
.card.wide { grid-column: 1 / -1; }
.chart { width: 100%; height: 420px; }
.table-wrap { overflow-x: auto; background: #fff; border: 1px solid #e3e6ec; border-radius: 8px; }
table { border-collapse: collapse; width: 100%; font-size: 13px; font-variant-numeric: tabular-nums; }
th, td { padding: 6px 8px; border-bottom: 1px solid #e3e6ec; white-space: nowrap; text-align: left; }
td.right, th.right { text-align: right; }
.label { font-size: 11px; font-weight: 600; text-transform: uppercase; color: #8a5a00; background: #fff3d6; border-radius: 4px; padding: 1px 6px; }
`;
