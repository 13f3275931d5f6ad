/**
 * The browser side of the HTML report: reads the embedded JSON (`#report-data`) and draws the
 * four charts with the inlined echarts. Kept as a plain ES2017 string (no bundler, no network)
 * so the page works straight from disk. Charts render as SVG: text stays selectable, and tests
 * can measure every label's box in the DOM.
 */

/** Chart containers, in page order: id and heading. */
export const CHARTS: ReadonlyArray<{ id: string; title: string; caption: string }> = [
  { id: 'chart-bpb', title: 'Bits per byte by input', caption: 'Coded bits per byte (the real arithmetic-coded stream), lower is better.' },
  { id: 'chart-hutter', title: 'Hutter totals by input', caption: 'Compressed bytes + decompressor bytes (model weights included), log scale.' },
  { id: 'chart-speed', title: 'Bits per byte vs encode speed', caption: 'Input bytes per second while encoding (log scale); up-left is slow and poor, down-right fast and good.' },
  { id: 'chart-size', title: 'Bits per byte vs decompressor size', caption: 'Decompressor bytes incl. weights (log scale): what each bit saved costs to ship.' },
];

/** The generalization chart, drawn only when the report has a series axis (`--series`). */
export const SERIES_CHART = {
  id: 'chart-series',
  title: 'Bits per byte on seen and unseen inputs',
  caption: (axis: 'params' | 'step') =>
    `Pooled coded bits per byte of each model on inputs its card says it was trained on (seen) and held out from (unseen), against ${axis === 'params' ? 'its parameter count (log scale)' : 'its training step'}; the shaded band is the gap: memorisation, not generalisation.`,
};

/**
 * Browser helpers shared by the report's and the suite leaderboard's charts (one copy, pasted into
 * each page's script): a wrapping legend's height, and point labels placed so none overlaps another.
 */
export const CHART_HELPERS = String.raw`
  // Legends wrap instead of paging: long model labels would otherwise hide series behind arrows.
  // The plot area starts below the legend, whose height we estimate by packing measured labels.
  var FONT = '11px system-ui, -apple-system, Segoe UI, Roboto, sans-serif';
  var measure = document.createElement('canvas').getContext('2d');
  function legendRows(names, width) {
    measure.font = FONT;
    var rows = 1, x = 0;
    names.forEach(function (c) {
      var w = 14 + 5 + measure.measureText(c).width + 12;
      if (x > 0 && x + w > width) { rows++; x = 0; }
      x += w;
    });
    return rows * 20;
  }
  // Point labels name the compressor, once per compressor (its points cluster; the top one is
  // labelled). They are placed once the axes exist: right of the point, or left where that would
  // leave the chart, and moved up or down in line steps until they overlap no label placed before.
  var LABEL_FONT = '10px system-ui, -apple-system, Segoe UI, Roboto, sans-serif';
  var LINE = 12, GAP = 4;
  // avoid: also keep clear of every point's symbol and of the text already drawn (axis names and
  // labels, the legend), except earlier copies of these point labels.
  function placePointLabels(chart, el, series, avoid) {
    measure.font = LABEL_FONT;
    var placed = [], W = el.clientWidth, H = el.clientHeight;
    if (avoid) {
      series.forEach(function (s, si) {
        if (s.type !== 'scatter') return;
        s.data.forEach(function (d) {
          var px = chart.convertToPixel({ seriesIndex: si }, d.value), half = s.symbolSize / 2;
          placed.push({ x: px[0] - half, y: px[1] - half, w: 2 * half, h: 2 * half });
        });
      });
      var own = {}, box = el.getBoundingClientRect();
      series.forEach(function (s) { s.data.forEach(function (d) { if (d.pointLabel) own[d.pointLabel] = true; }); });
      el.querySelectorAll('svg text').forEach(function (t) {
        var b = t.getBoundingClientRect(), text = (t.textContent || '').trim();
        if (text && b.width > 0 && !own[text]) placed.push({ x: b.left - box.left, y: b.top - box.top, w: b.width, h: b.height });
      });
    }
    function free(r) {
      if (r.y < 0 || r.y + r.h > H || r.x < 0 || r.x + r.w > W) return false;
      return placed.every(function (q) { return r.x >= q.x + q.w || q.x >= r.x + r.w || r.y >= q.y + q.h || q.y >= r.y + r.h; });
    }
    var updates = series.map(function (s, si) {
      return {
        data: s.data.map(function (d) {
          if (!d.label || !d.label.show) return d;
          var px = chart.convertToPixel({ seriesIndex: si }, d.value);
          var half = s.symbolSize / 2, w = measure.measureText(d.pointLabel).width, best = null;
          [1, -1].some(function (side) {
            var x = side > 0 ? px[0] + half + GAP : px[0] - half - GAP - w;
            for (var k = 0; k <= 12; k++) {
              var dy = (k % 2 ? 1 : -1) * Math.ceil(k / 2) * LINE;
              var r = { x: x, y: px[1] - LINE / 2 + dy, w: w, h: LINE };
              if (free(r)) { best = { r: r, side: side, dy: dy }; return true; }
            }
            return false;
          });
          if (!best) return Object.assign({}, d, { label: { show: false } });
          placed.push(best.r);
          return Object.assign({}, d, { label: { show: true, position: best.side > 0 ? 'right' : 'left', distance: GAP, offset: [0, best.dy] } });
        })
      };
    });
    chart.setOption({ series: updates });
  }
`;

export const CHART_SCRIPT = String.raw`
(function () {
  'use strict';
  var data = JSON.parse(document.getElementById('report-data').textContent);
  var charts = [];
${CHART_HELPERS}

  function si(v) {
    if (v === null || v === undefined || !isFinite(v)) return '—';
    var units = ['B', 'kB', 'MB', 'GB', 'TB', 'PB'];
    var i = 0;
    while (Math.abs(v) >= 1000 && i < units.length - 1) { v /= 1000; i++; }
    return (i === 0 ? Math.round(v) : Number(v.toPrecision(3))) + ' ' + units[i];
  }
  function find(input, compressor) {
    for (var i = 0; i < data.points.length; i++) {
      var p = data.points[i];
      if (p.input === input && p.compressor === compressor) return p;
    }
    return null;
  }
  function pointsOf(compressor) {
    return data.points.filter(function (p) { return p.compressor === compressor; });
  }
  function isModel(compressor) {
    return data.points.some(function (p) { return p.compressor === compressor && p.isModel; });
  }
  function legendHeight(width) { return legendRows(data.compressors, width); }
  function base(id, extra) {
    var el = document.getElementById(id);
    var top = (el ? legendHeight(el.clientWidth - 8) : 20) + 34;
    var option = {
      animation: false,
      textStyle: { fontFamily: 'system-ui, -apple-system, Segoe UI, Roboto, sans-serif' },
      legend: { type: 'plain', top: 2, left: 0, right: 0, padding: 0, itemGap: 12, itemWidth: 14, itemHeight: 10, textStyle: { fontSize: 11 } },
      // ECharts 6 outer bounds: the grid shrinks until axis labels and names (rotated ones too)
      // fit inside the chart element, instead of containLabel's estimate that clipped them.
      grid: { left: 8, right: 16, top: top, bottom: 8, outerBoundsMode: 'auto', outerBounds: { left: 8, right: 8, top: 0, bottom: 4 }, outerBoundsContain: 'all' }
    };
    for (var k in extra) option[k] = extra[k];
    return option;
  }
  function logFloor(values) {
    var min = Infinity;
    values.forEach(function (v) { if (v > 0 && v < min) min = v; });
    return isFinite(min) ? Math.pow(10, Math.floor(Math.log10(min))) : 1;
  }
  function mount(id, option) {
    var el = document.getElementById(id);
    if (!el) return;
    var chart = echarts.init(el, null, { renderer: 'svg' });
    chart.setOption(option);
    if (option.series.length && option.series[0].type === 'scatter') placePointLabels(chart, el, option.series);
    charts.push({ chart: chart, el: el, option: option });
  }
  function bars(field, axis) {
    return data.compressors.map(function (c) {
      return {
        name: c, type: 'bar', barMaxWidth: 28,
        data: data.inputs.map(function (input) {
          var p = find(input, c);
          return p ? p[field] : null;
        })
      };
    });
  }
  function labelTop(items) {
    var top = null;
    items.forEach(function (d) { if (!top || d.value[1] > top.value[1]) top = d; });
    if (top) top.label = { show: true };
    return items;
  }
  function scatter(xField) {
    return data.compressors.map(function (c) {
      return {
        name: c, type: 'scatter', symbol: isModel(c) ? 'diamond' : 'circle', symbolSize: isModel(c) ? 14 : 10,
        label: { show: false, position: 'right', distance: GAP, fontSize: 10, lineHeight: LINE, color: '#3b4252', formatter: function (item) { return item.data.pointLabel; } },
        data: labelTop(pointsOf(c).filter(function (p) { return p[xField] !== null && p[xField] > 0; })
          .map(function (p) { return { value: [p[xField], p.bpb], input: p.input, compressor: c, pointLabel: p.pointLabel }; }))
      };
    });
  }
  // Category labels: the file name without its folders (alice29.txt[0:8192]) unless two inputs
  // would then read the same; the tooltip has the full name.
  var shortNames = data.inputs.map(function (name) {
    var slash = name.lastIndexOf('/', name.indexOf('[') < 0 ? name.length : name.indexOf('['));
    return name.slice(slash + 1);
  });
  var labelOf = {};
  data.inputs.forEach(function (name, i) {
    labelOf[name] = shortNames.indexOf(shortNames[i]) === shortNames.lastIndexOf(shortNames[i]) ? shortNames[i] : name;
  });
  var categoryAxis = {
    type: 'category', data: data.inputs,
    axisLabel: { interval: 0, rotate: data.inputs.length > 4 ? 30 : 0, fontSize: 11, formatter: function (name) { return labelOf[name] || name; } }
  };

  mount('chart-bpb', base('chart-bpb', {
    tooltip: { trigger: 'axis', axisPointer: { type: 'shadow' }, valueFormatter: function (v) { return v === null || v === undefined ? '—' : v.toFixed(4) + ' bpb'; } },
    xAxis: categoryAxis,
    yAxis: { type: 'value', name: 'bits per byte', nameTextStyle: { align: 'left' }, min: 0 },
    series: bars('bpb')
  }));

  mount('chart-hutter', base('chart-hutter', {
    tooltip: { trigger: 'axis', axisPointer: { type: 'shadow' }, valueFormatter: si },
    xAxis: categoryAxis,
    yAxis: { type: 'log', name: 'Hutter total', nameTextStyle: { align: 'left' }, min: logFloor(data.points.map(function (p) { return p.totalBytes; })), axisLabel: { formatter: si } },
    series: bars('totalBytes')
  }));

  function scatterTooltip(xLabel) {
    return {
      trigger: 'item',
      formatter: function (item) {
        var d = item.data;
        return '<b>' + d.compressor + '</b><br/>' + d.input + '<br/>' + d.value[1].toFixed(4) + ' bpb · ' + xLabel(d.value[0]);
      }
    };
  }
  mount('chart-speed', base('chart-speed', {
    tooltip: scatterTooltip(function (x) { return si(x) + '/s encode'; }),
    xAxis: { type: 'log', name: 'encode speed', nameLocation: 'middle', nameGap: 28, axisLabel: { formatter: function (v) { return si(v) + '/s'; } } },
    yAxis: { type: 'value', name: 'bits per byte', nameTextStyle: { align: 'left' }, min: 0 },
    series: scatter('encodeBytesPerSecond')
  }));

  mount('chart-size', base('chart-size', {
    tooltip: scatterTooltip(function (x) { return si(x) + ' decompressor'; }),
    xAxis: { type: 'log', name: 'decompressor bytes (incl. weights)', nameLocation: 'middle', nameGap: 28, axisLabel: { formatter: si } },
    yAxis: { type: 'value', name: 'bits per byte', nameTextStyle: { align: 'left' }, min: 0 },
    series: scatter('decompressorBytes')
  }));

  // Seen vs unseen along the series axis. The band between the two lines (the gap) is a stacked
  // area: an invisible base at the lower line plus the gap's height, so it shades exactly between them.
  if (data.series && document.getElementById('chart-series')) {
    var sp = data.series.points, isParams = data.series.axis === 'params';
    var pair = function (f) { return sp.map(function (p) { return [p.x, p[f]]; }); };
    var lower = sp.map(function (p) { return [p.x, p.seenBpb === null || p.unseenBpb === null ? null : Math.min(p.seenBpb, p.unseenBpb)]; });
    var band = sp.map(function (p) { return [p.x, p.gap === null ? null : Math.abs(p.gap)]; });
    var fmtX = function (v) {
      if (!isParams) return String(v);
      var units = [[1e9, 'B'], [1e6, 'M'], [1e3, 'k']];
      for (var i = 0; i < units.length; i++) if (v >= units[i][0]) return Number((v / units[i][0]).toPrecision(3)) + units[i][1];
      return String(v);
    };
    var byX = {};
    sp.forEach(function (p) { byX[p.x] = p; });
    // Point labels: a model folder's last name (the tooltip has the full id); the first and last
    // points' labels run inward, so they cannot cross the chart's edges.
    var shortModel = function (id) { return id.split('/').filter(Boolean).pop() || id; };
    var edgeAligned = function (data) {
      return data.map(function (d, i) {
        var align = i === 0 && data.length > 1 ? 'left' : i === data.length - 1 && data.length > 1 ? 'right' : 'center';
        return { value: d, label: { align: align } };
      });
    };
    var el = document.getElementById('chart-series');
    var chart = echarts.init(el, null, { renderer: 'svg' });
    var option = {
      animation: false,
      textStyle: { fontFamily: 'system-ui, -apple-system, Segoe UI, Roboto, sans-serif' },
      color: ['#2f7d4f', '#c0392b'],
      legend: { top: 2, left: 0, itemWidth: 14, itemHeight: 10, textStyle: { fontSize: 11 }, data: ['seen (training data)', 'unseen (held out)', 'gap'] },
      grid: { left: 8, right: 24, top: 54, bottom: 8, outerBoundsMode: 'auto', outerBounds: { left: 8, right: 8, top: 0, bottom: 4 }, outerBoundsContain: 'all' },
      tooltip: {
        trigger: 'axis',
        formatter: function (items) {
          var p = byX[items[0].value[0]];
          if (!p) return '';
          var f = function (v) { return v === null ? '—' : v.toFixed(4); };
          return '<b>' + p.model + '</b><br/>' + (isParams ? p.x.toLocaleString('en-US') + ' parameters' : 'step ' + p.x) +
            '<br/>seen ' + f(p.seenBpb) + ' bpb (' + p.seenInputs + ' inputs)<br/>unseen ' + f(p.unseenBpb) + ' bpb (' + p.unseenInputs + ' inputs)<br/>gap ' + (p.gap === null ? '—' : (p.gap >= 0 ? '+' : '') + p.gap.toFixed(4));
        }
      },
      xAxis: { type: isParams ? 'log' : 'value', name: isParams ? 'parameters' : 'training step', nameLocation: 'middle', nameGap: 28, scale: !isParams,
        min: isParams ? undefined : function (v) { return v.min - Math.max(1, (v.max - v.min) * 0.04); },
        max: isParams ? undefined : function (v) { return v.max + Math.max(1, (v.max - v.min) * 0.04); },
        axisLabel: { fontSize: 11, formatter: fmtX, showMinLabel: isParams, showMaxLabel: isParams } },
      yAxis: { type: 'value', name: 'bits per byte', nameTextStyle: { align: 'left' }, scale: true },
      series: [
        { name: 'band base', type: 'line', stack: 'gap', data: lower, symbol: 'none', lineStyle: { opacity: 0 }, silent: true, tooltip: { show: false }, connectNulls: false },
        { name: 'gap', type: 'line', stack: 'gap', data: band, symbol: 'none', lineStyle: { opacity: 0 }, areaStyle: { color: 'rgba(192, 57, 43, 0.16)' }, itemStyle: { color: 'rgba(192, 57, 43, 0.35)' }, silent: true, connectNulls: false },
        { name: 'seen (training data)', type: 'line', data: pair('seenBpb'), symbol: 'circle', symbolSize: 8, lineStyle: { width: 2 }, itemStyle: { color: '#2f7d4f' }, connectNulls: true },
        { name: 'unseen (held out)', type: 'line', data: edgeAligned(pair('unseenBpb')), symbol: 'diamond', symbolSize: 10, lineStyle: { width: 2 }, itemStyle: { color: '#c0392b' }, connectNulls: true,
          // A few points: name each model above its held-out point (the tooltip has the figures).
          label: { show: sp.length <= 6, position: 'top', distance: 6, fontSize: 10, color: '#3b4252', formatter: function (item) { var p = byX[item.value[0]]; return p ? shortModel(p.model) : ''; } } }
      ]
    };
    chart.setOption(option);
    charts.push({ chart: chart, el: el, option: { series: [] } });
  }

  window.addEventListener('resize', function () {
    charts.forEach(function (c) {
      if (c.el.id !== 'chart-series') c.chart.setOption({ grid: { top: legendHeight(c.el.clientWidth - 8) + 34 } });
      c.chart.resize();
      if (c.option.series.length && c.option.series[0].type === 'scatter') placePointLabels(c.chart, c.el, c.option.series);
    });
  });
  window.__reportCharts = charts.length;
})();
`;
