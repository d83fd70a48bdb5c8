/* The dashboard's charts: Chart.js draws the figures the page embeds (#dashboard-charts).
   Every chart has a table beside it with the same figures; without JavaScript the tables
   are the page. */
(function () {
  "use strict";
  var data = document.getElementById("dashboard-charts");
  if (!data || typeof Chart === "undefined") { return; }
  var charts = JSON.parse(data.textContent);
  var lang = document.documentElement.lang || "en";
  // Colours that keep 3:1 against white and apart from each other (Okabe-Ito, darkened).
  var colours = ["#0b5cad", "#b35900", "#1d6b2f", "#8a1c7c", "#545454"];
  var percent = new Intl.NumberFormat(lang, { style: "percent", maximumFractionDigits: 1 });
  var count = new Intl.NumberFormat(lang);
  var money = new Intl.NumberFormat(lang, { minimumFractionDigits: 2, maximumFractionDigits: 2 });
  var secondsWord = (document.getElementById("dashboard-charts").dataset.seconds || "{seconds} s");
  Chart.defaults.font.family = "system-ui, sans-serif";
  Chart.defaults.color = "#1b1b1b";
  Chart.defaults.animation = false; // calmer, and printing draws the final chart

  document.querySelectorAll("canvas[data-chart]").forEach(function (canvas) {
    var spec = charts[canvas.dataset.chart];
    if (!spec) { return; }
    var format = function (v) { return count.format(v); };
    if (spec.percent) { format = function (v) { return percent.format(v); }; }
    if (spec.money) { format = function (v) { return money.format(v); }; }
    if (spec.seconds) {
      format = function (v) { return secondsWord.replace("{seconds}", count.format(Math.round(v))); };
    }
    var datasets = spec.series.map(function (s, i) {
      return {
        label: s.label,
        data: s.values,
        borderColor: colours[i % colours.length],
        backgroundColor: colours[i % colours.length],
        borderWidth: 2,
        pointRadius: 3,
        spanGaps: false
      };
    });
    var valueAxis = {
      beginAtZero: true,
      ticks: { callback: format, precision: spec.percent ? undefined : 0 }
    };
    if (spec.percent) { valueAxis.max = 1; }
    var scales = spec.horizontal ? { x: valueAxis } : { y: valueAxis };
    new Chart(canvas, {
      type: spec.kind,
      data: { labels: spec.labels, datasets: datasets },
      options: {
        indexAxis: spec.horizontal ? "y" : "x",
        responsive: true,
        maintainAspectRatio: false,
        scales: scales,
        plugins: {
          legend: { display: spec.series.length > 1 },
          tooltip: {
            callbacks: {
              label: function (ctx) {
                var v = spec.horizontal ? ctx.parsed.x : ctx.parsed.y;
                return ctx.dataset.label + ": " + (v === null ? "–" : format(v));
              }
            }
          }
        }
      }
    });
  });
  // Printing: let Chart.js redraw at the paper's width.
  window.addEventListener("beforeprint", function () {
    Object.values(Chart.instances).forEach(function (c) { c.resize(); });
  });
})();
