// The report page's script (inlined by run/report/html.ts): draws each chart of the inline JSON
// (run/report/charts.ts, ChartSpec) with uPlot, inlined before it. Faceted mode, since each series has its
// own x values; lines and markers are drawn by one path builder, as uPlot draws no markers there by itself.
(() => {
  // Okabe-Ito: tells colours apart for the common colour-vision deficiencies.
  const PALETTE = ['#0072B2', '#D55E00', '#009E73', '#CC79A7', '#E69F00', '#56B4E9', '#000000', '#F0E442'];
  const colour = (i) => PALETTE[i % PALETTE.length];
  const specs = JSON.parse(document.getElementById('report-charts').textContent);

  /** Markers (and, for lines, the segments between them) of one faceted series. */
  const trace = (withLine) => (u, si) => {
    const s = u.series[si];
    const [xs, ys] = u.data[si];
    const xk = s.facets[0].scale;
    const yk = s.facets[1].scale;
    const r = 3.5 * devicePixelRatio;
    const line = new Path2D();
    const dots = new Path2D();
    for (let i = 0; i < xs.length; i++) {
      const cx = u.valToPos(xs[i], xk, true);
      const cy = u.valToPos(ys[i], yk, true);
      if (withLine) i === 0 ? line.moveTo(cx, cy) : line.lineTo(cx, cy);
      dots.moveTo(cx + r, cy);
      dots.arc(cx, cy, r, 0, 2 * Math.PI);
    }
    line.addPath(dots);
    return { stroke: line, fill: dots, clip: null, flags: 0 };
  };

  const title = (axis) => (axis.unit === 'time' ? axis.label : `${axis.label} (${axis.unit})`);
  const scale = (axis) => {
    const s = { time: axis.unit === 'time', auto: axis.range === undefined };
    if (axis.log) Object.assign(s, { distr: 3, log: 10 });
    if (axis.range) s.range = axis.range;
    return s;
  };

  for (const spec of specs) {
    const el = document.querySelector(`[data-chart="${spec.id}"]`);
    if (!el) continue;
    const facets = [
      { scale: 'x', auto: spec.x.range === undefined },
      { scale: 'y', auto: spec.y.range === undefined },
    ];
    const opts = {
      mode: 2,
      title: spec.title,
      width: 900,
      height: 340,
      legend: { live: false },
      cursor: { drag: { x: false, y: false } },
      scales: { x: scale(spec.x), y: scale(spec.y) },
      axes: [
        { label: title(spec.x), scale: 'x' },
        { label: title(spec.y), scale: 'y', size: 60 },
      ],
      series: [
        {},
        ...spec.series.map((s) => ({
          label: s.label,
          stroke: colour(s.colour),
          fill: colour(s.colour),
          dash: s.dash,
          width: 1.6,
          facets,
          paths: trace(spec.kind === 'line'),
        })),
      ],
    };
    const data = [null, ...spec.series.map((s) => [s.points.map((p) => p[0]), s.points.map((p) => p[1])])];
    new uPlot(opts, data, el);
    // uPlot draws axes on the canvas: their titles are kept here too, for readers of the DOM.
    el.dataset.axes = opts.axes.map((a) => a.label).join(' | ');
  }
  document.body.dataset.charts = String(specs.length);
})();
