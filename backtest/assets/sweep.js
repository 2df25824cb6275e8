(function () {
  "use strict";
  var data = JSON.parse(document.getElementById("report-data").textContent);
  var css = getComputedStyle(document.documentElement);
  function color(name) { return css.getPropertyValue(name).trim(); }
  var fg = color("--muted"), grid = color("--line"), accent = color("--accent");
  var el = document.getElementById("hist-chart");
  if (!el) { return; }
  if (!data.x || !data.x.length) {
    el.innerHTML = '<div class="empty">No values.</div>';
    return;
  }
  // Bin centres on x, counts on y.
  var xs = data.x.map(function (x) { return x + data.width / 2; });
  var fmt = new Intl.NumberFormat(undefined, { maximumFractionDigits: 4 });
  var opts = {
    width: Math.max(el.clientWidth - 8, 200),
    height: 260,
    scales: { x: { time: false } },
    series: [
      { label: data.metric, value: function (u, v) { return v == null ? "–" : fmt.format(v); } },
      { label: "runs", stroke: accent, fill: accent + "88", width: 1,
        paths: uPlot.paths.bars({ size: [0.95, 100] }), points: { show: false } }
    ],
    axes: [
      { stroke: fg, grid: { stroke: grid, width: 1 }, ticks: { stroke: grid },
        values: function (u, vals) { return vals.map(function (v) { return fmt.format(v); }); } },
      { stroke: fg, grid: { stroke: grid, width: 1 }, ticks: { stroke: grid } }
    ]
  };
  var plot = new uPlot(opts, [xs, data.y], el);
  window.addEventListener("resize", function () {
    plot.setSize({ width: Math.max(el.clientWidth - 8, 200), height: 260 });
  });
})();
