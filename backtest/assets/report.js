(function () {
  "use strict";
  var data = JSON.parse(document.getElementById("report-data").textContent);
  var css = getComputedStyle(document.documentElement);
  function color(name) { return css.getPropertyValue(name).trim(); }
  var fg = color("--muted"), grid = color("--line"), accent = color("--accent"), neg = color("--neg");
  var money = new Intl.NumberFormat(undefined, { minimumFractionDigits: 2, maximumFractionDigits: 2 });
  function fmtMoney(v) { return v == null ? "–" : money.format(v); }
  var compact = new Intl.NumberFormat(undefined, { maximumFractionDigits: 0 });
  function fmtPct(v) { return v == null ? "–" : (v * 100).toFixed(2) + " %"; }
  function axisMoney(v) { return Math.abs(v) >= 1000 ? compact.format(v) : money.format(v); }
  function utc(ts) { return uPlot.tzDate(new Date(ts * 1e3), "Etc/UTC"); }
  var charts = [];

  function make(id, series, label, stroke, fill, fmt, axisFmt) {
    var el = document.getElementById(id);
    if (!series.x.length) {
      el.innerHTML = '<div class="empty">No data.</div>';
      return;
    }
    var opts = {
      width: Math.max(el.clientWidth - 8, 200),
      height: 280,
      tzDate: utc,
      cursor: { sync: { key: "report" } },
      scales: { x: { time: true } },
      series: [
        { label: "Time (UTC)" },
        { label: label, stroke: stroke, fill: fill, width: 1.5, value: function (u, v) { return fmt(v); } }
      ],
      axes: [
        { stroke: fg, grid: { stroke: grid, width: 1 }, ticks: { stroke: grid } },
        { stroke: fg, grid: { stroke: grid, width: 1 }, ticks: { stroke: grid }, size: 90,
          values: function (u, vals) { return vals.map(axisFmt); } }
      ]
    };
    charts.push({ el: el, plot: new uPlot(opts, [series.x, series.y], el) });
  }

  make("equity-chart", data.equity, "Equity", accent, null, fmtMoney, axisMoney);
  make("drawdown-chart", data.drawdown, "Drawdown", neg, neg + "33", fmtPct, fmtPct);

  var pending = null;
  window.addEventListener("resize", function () {
    if (pending) { clearTimeout(pending); }
    pending = setTimeout(function () {
      charts.forEach(function (c) {
        c.plot.setSize({ width: Math.max(c.el.clientWidth - 8, 200), height: 280 });
      });
    }, 100);
  });
})();
