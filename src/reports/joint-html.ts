/**
 * The joint report as ONE self-contained HTML page: per compressor a heatmap of net NCD, one of
 * net joint gain %, a dendrogram (average linkage on NCD) and the pair table. echarts is inlined
 * from node_modules and the data embedded as JSON, so the page opens from disk with no network.
 */
import { dendrogram, type Dendrogram } from '../joint/cluster.js';
import type { CompressorJoint, JointReport } from '../joint/report.js';
import { LEGEND } from '../joint/text-table.js';
import { escapeHtml, htmlPage, htmlTable } from './html.js';
import type { Table } from './leaderboard.js';

/** What the browser draws, per compressor. */
export interface JointChartData {
  id: string;
  compressor: string;
  names: string[];
  netNcd: (number | null)[][];
  netGainPercent: (number | null)[][];
  dendrogram: Dendrogram;
}

/** Training-data inputs carry a `*` wherever they are named (charts, tables). */
function marker(report: JointReport): (name: string) => string {
  const seen = new Set(report.inputs.filter((x) => x.trainingData).map((x) => x.name));
  return (name) => (seen.has(name) ? `${name}*` : name);
}

export function jointChartData(report: JointReport): JointChartData[] {
  const mark = marker(report);
  return report.compressors.map((c, k) => {
    const tree = dendrogram(c.dendrogram);
    return {
      id: `c${k}`,
      compressor: c.compressor,
      names: c.inputs.map((x) => mark(x.input)),
      netNcd: c.matrices.netNcd,
      netGainPercent: c.matrices.netGainPercent,
      dendrogram: { ...tree, leaves: tree.leaves.map(mark) },
    };
  });
}

const int = (n: number) => Math.round(n).toLocaleString('en-US');
const pct = (n: number) => `${n.toFixed(1)}%`;

function pairTable(c: CompressorJoint, mark: (name: string) => string): Table {
  const direct = c.pairs.some((p) => p.direct);
  const headers = ['A → B', 'C(A)', 'C(B)', 'C(A‖B)', 'C(B‖A)', 'gain B', 'gain %', 'net gain %', 'C(B|A)', 'NCD', 'net NCD', 'A seen', 'within reach', 'beyond reach'];
  if (direct) headers.push('C(B) payload', 'C(B|A tail) direct payload');
  const rows = c.pairs.map((p) => {
    const row = [
      `${mark(p.a)} → ${mark(p.b)}`, int(p.cA), int(p.cB), int(p.cAB), int(p.cBA), int(p.gainBytes), pct(p.gainPercent), pct(p.netGainPercent),
      int(p.conditionalBytes), p.ncd.toFixed(3), p.netNcd.toFixed(3), pct(100 * p.reach.visibleFraction),
      p.reach.gainWithinReach === null ? '–' : int(p.reach.gainWithinReach),
      p.reach.gainBeyondReach === null ? '–' : int(p.reach.gainBeyondReach),
    ];
    if (direct) row.push(p.direct ? int(p.direct.bPayloadBytes) : '', p.direct ? `${int(p.direct.payloadBytes)} (primer ${int(p.direct.primerTokens)} tok)` : '');
    return row;
  });
  return { headers, rows, align: headers.map((_, i) => (i === 0 ? 'left' : 'right')) as Table['align'] };
}

function inputsTable(report: JointReport): string {
  const mark = marker(report);
  const rows = report.inputs
    .map((x) => {
      const label = x.trainingData ? `<span class="label">memorisation</span>${escapeHtml(x.trainingData)}` : '';
      return `<tr><td>${escapeHtml(mark(x.name))}</td><td>${escapeHtml(x.source)}</td><td class="right">${int(x.bytes)}</td><td class="right">${int(x.fileBytes)}</td><td class="wrap">${escapeHtml(x.provenance ?? x.path)}</td><td class="wrap">${label}</td></tr>`;
    })
    .join('\n');
  return `<div class="table-wrap"><table><thead><tr><th>input</th><th>source</th><th class="right">bytes used</th><th class="right">file bytes</th><th>from</th><th>note</th></tr></thead><tbody>${rows}</tbody></table></div>`;
}

function compressorSection(c: CompressorJoint, chart: JointChartData, mark: (name: string) => string): string {
  const window = c.reach.window === null ? 'unbounded' : `${int(c.reach.window)} ${c.reach.unit}`;
  const cards = [
    ['ncd', 'Net NCD', 'Row A coded first, column B. 0 = B is a copy of A, 1 = nothing shared. Sizes net of the container h.'],
    ['gain', 'Net joint gain %', '(C(A)+C(B)−C(A‖B)−h) / (C(A)+C(B)−2h): shared structure found, in % of coding both apart.'],
    ['tree', 'Clustering (average linkage)', 'On the symmetrised net NCD, (d(A,B)+d(B,A))/2; merge height = average distance.'],
  ];
  return [
    `<h2>${escapeHtml(c.compressor)}</h2>`,
    `<p class="facts">Reach ${escapeHtml(window)}: ${escapeHtml(c.reach.note)}. Container h ≈ ${c.overheadBytes} B. ${c.codings} verified round trips in ${c.seconds.toFixed(1)} s.</p>`,
    `<section class="charts">${cards.map(([kind, title, caption]) => `<div class="card"><h3>${escapeHtml(title)}</h3><p>${escapeHtml(caption)}</p><div class="chart" id="${chart.id}-${kind}"></div></div>`).join('\n')}</section>`,
    htmlTable(pairTable(c, mark)),
  ].join('\n');
}

const STYLE = `
:root { color-scheme: light; --fg: #1d2330; --muted: #5b6474; --line: #e3e6ec; --bg: #f7f8fa; }
* { box-sizing: border-box; }
body { margin: 0; font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: var(--fg); background: var(--bg); }
main { max-width: 1400px; margin: 0 auto; padding: 24px 28px 48px; }
h1 { font-size: 24px; margin: 0 0 4px; }
h2 { font-size: 18px; margin: 32px 0 6px; padding-top: 8px; border-top: 1px solid var(--line); }
h3 { font-size: 15px; margin: 0 0 2px; }
p { color: var(--muted); }
.facts { margin: 0 0 10px; font-size: 13px; }
pre.legend { white-space: pre-wrap; font-size: 12px; color: var(--muted); }
.charts { display: grid; grid-template-columns: repeat(auto-fit, minmax(min(400px, 100%), 1fr)); gap: 16px; margin: 12px 0 16px; }
.card { background: #fff; border: 1px solid var(--line); border-radius: 8px; padding: 14px 16px 10px; }
.card p { margin: 0 0 8px; font-size: 12px; }
.chart { width: 100%; height: 380px; }
.table-wrap { overflow-x: auto; background: #fff; border: 1px solid var(--line); border-radius: 8px; }
table { border-collapse: collapse; width: 100%; font-size: 13px; font-variant-numeric: tabular-nums; }
th, td { padding: 6px 8px; border-bottom: 1px solid var(--line); white-space: nowrap; text-align: left; }
th { background: #f0f2f6; font-weight: 600; }
td.right, th.right { text-align: right; }
td.wrap { white-space: normal; min-width: 240px; }
.label { display: inline-block; font-size: 11px; font-weight: 600; text-transform: uppercase; color: #8a5a00; background: #fff3d6; border-radius: 4px; padding: 1px 6px; margin-right: 6px; }
`;

export function jointHtml(report: JointReport, options: { title?: string } = {}): string {
  const title = options.title ?? 'compress-bench joint compression';
  const charts = jointChartData(report);
  const mark = marker(report);
  const limit = report.options.limit === null ? 'whole inputs' : `the first ${int(report.options.limit)} bytes of each input`;
  const body = [
    `<h1>${escapeHtml(title)}</h1>`,
    `<p>${report.compressors.length} compressor${report.compressors.length === 1 ? '' : 's'} × ${report.inputs.length} inputs, ${escapeHtml(limit)}; ${escapeHtml(report.createdAt)}.</p>`,
    inputsTable(report),
    ...(report.inputs.some((x) => x.trainingData) ? ['<p class="facts"><span class="label">memorisation</span>* marks training data of the models named in the note: LM figures on those inputs measure memorisation, not generalisation.</p>'] : []),
    `<pre class="legend">${escapeHtml(LEGEND)}</pre>`,
    ...report.skipped.map((s) => `<p>Skipped ${escapeHtml(s.name)}: ${escapeHtml(s.reason)}</p>`),
    ...report.compressors.map((c, k) => compressorSection(c, charts[k], mark)),
  ];
  return htmlPage({ title, style: STYLE, body: body.join('\n'), dataId: 'joint-data', data: charts, script: JOINT_CHART_SCRIPT });
}

/** Browser side: plain ES2017, reads #joint-data and draws three charts per compressor. */
const JOINT_CHART_SCRIPT = String.raw`
(function () {
  'use strict';
  var data = JSON.parse(document.getElementById('joint-data').textContent);
  var charts = [];
  var FONT = { fontFamily: 'system-ui, -apple-system, Segoe UI, Roboto, sans-serif' };
  function mount(id, option) {
    var el = document.getElementById(id);
    if (!el) return;
    var chart = echarts.init(el, null, { renderer: 'canvas' });
    option.animation = false;
    option.textStyle = FONT;
    chart.setOption(option);
    charts.push(chart);
  }
  function cells(m) {
    var out = [];
    m.forEach(function (row, i) { row.forEach(function (v, j) { if (v !== null) out.push([j, i, v]); }); });
    return out;
  }
  function extent(m) {
    var lo = Infinity, hi = -Infinity;
    m.forEach(function (row) { row.forEach(function (v) { if (v !== null) { lo = Math.min(lo, v); hi = Math.max(hi, v); } }); });
    return isFinite(lo) ? [lo, hi] : [0, 1];
  }
  // Dark = shared structure in both maps: low NCD, high gain.
  function heatmap(c, m, min, max, colors, digits, unit) {
    return {
      tooltip: { formatter: function (p) { return c.names[p.value[1]] + ' → ' + c.names[p.value[0]] + ': ' + p.value[2].toFixed(digits) + unit; } },
      grid: { left: 16, right: 24, top: 24, bottom: 48, containLabel: true },
      xAxis: { type: 'category', data: c.names, name: 'B', nameGap: 8, splitArea: { show: true }, axisLabel: { interval: 0, rotate: c.names.length > 3 ? 30 : 0, fontSize: 11 } },
      yAxis: { type: 'category', data: c.names, name: 'A', nameLocation: 'start', inverse: true, splitArea: { show: true }, axisLabel: { interval: 0, fontSize: 11 } },
      visualMap: { min: min, max: max, calculable: false, orient: 'horizontal', left: 'center', bottom: 0, itemHeight: 120, textStyle: { fontSize: 11 }, inRange: { color: colors } },
      series: [{ type: 'heatmap', data: cells(m), label: { show: true, fontSize: 11, color: '#111',
        formatter: function (p) { return p.value[2].toFixed(digits); } } }]
    };
  }
  // Leaf labels are drawn by the scatter (axis ticks would fall between leaves), to the right of
  // the leaves; the plot keeps room for the widest one.
  var measure = document.createElement('canvas').getContext('2d');
  measure.font = '11px system-ui, -apple-system, Segoe UI, Roboto, sans-serif';
  function tree(c) {
    var d = c.dendrogram, n = d.leaves.length;
    var labelWidth = Math.max.apply(null, d.leaves.map(function (l) { return measure.measureText(l).width; })) + 16;
    return {
      tooltip: { show: false },
      grid: { left: 16, right: labelWidth, top: 12, bottom: 36 },
      xAxis: { type: 'value', inverse: true, min: 0, max: Math.max(0.05, Number((d.maxHeight * 1.1).toPrecision(2))), name: 'net NCD (merge height)',
        nameLocation: 'middle', nameGap: 24, axisLine: { onZero: false } },
      yAxis: { type: 'value', min: -0.5, max: n - 0.5, inverse: true, show: false },
      series: [
        { type: 'lines', coordinateSystem: 'cartesian2d', polyline: true, silent: true, lineStyle: { color: '#3a5ccc', width: 2, opacity: 1 },
          data: d.links.map(function (l) { return { coords: l }; }) },
        { type: 'scatter', symbolSize: 7, itemStyle: { color: '#3a5ccc' },
          label: { show: true, position: 'right', distance: 6, fontSize: 11, color: '#1d2330', formatter: function (p) { return d.leaves[p.dataIndex]; } },
          data: d.leaves.map(function (_, i) { return [0, i]; }) }
      ]
    };
  }
  data.forEach(function (c) {
    var ncd = extent(c.netNcd), gain = extent(c.netGainPercent);
    mount(c.id + '-ncd', heatmap(c, c.netNcd, Math.min(0, ncd[0]), Math.max(1, ncd[1]), ['#7f9cf5', '#dfe6fb', '#ffffff'], 3, ''));
    // Gain % cannot exceed ~50 (C(A‖B) ≥ max(C(A), C(B))): one fixed scale compares compressors.
    mount(c.id + '-gain', heatmap(c, c.netGainPercent, Math.min(0, gain[0]), Math.max(50, gain[1]), ['#ffffff', '#dfe6fb', '#7f9cf5'], 1, ' %'));
    mount(c.id + '-tree', tree(c));
  });
  window.addEventListener('resize', function () { charts.forEach(function (ch) { ch.resize(); }); });
  window.__jointCharts = charts.length;
})();
`;
