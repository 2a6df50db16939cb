// The monitor's weekly charts, drawn with Chart.js (vendored from npm) from the page's JSON.
(function () {
  "use strict";
  document.addEventListener("DOMContentLoaded", () => {
    const source = document.getElementById("chart-data");
    if (!source || !window.Chart) return;
    const data = JSON.parse(source.textContent);
    const volume = document.getElementById("chart-volume");
    if (volume) {
      new window.Chart(volume, {
        type: "bar",
        data: {
          labels: data.labels,
          datasets: [
            { label: data.names.started, data: data.started, backgroundColor: "#0d6efd" },
            { label: data.names.finished, data: data.finished, backgroundColor: "#198754" },
          ],
        },
        options: { animation: false, scales: { y: { beginAtZero: true, ticks: { precision: 0 } } } },
      });
    }
    const p90 = document.getElementById("chart-p90");
    if (p90) {
      new window.Chart(p90, {
        type: "line",
        data: {
          labels: data.labels,
          datasets: [{ label: data.names.p90, data: data.p90, borderColor: "#dc3545", spanGaps: true }],
        },
        options: { animation: false, scales: { y: { beginAtZero: true } } },
      });
    }
  });
})();
