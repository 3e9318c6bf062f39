// Jiepai's little JavaScript: live countdowns and ECharts mounting. Everything else is htmx.
(function () {
  function tick() {
    document.querySelectorAll("[data-countdown]").forEach(function (el) {
      var due = Date.parse(el.dataset.countdown);
      var left = Math.round((due - Date.now()) / 1000);
      var sign = left < 0 ? "-" : "";
      left = Math.abs(left);
      var d = Math.floor(left / 86400), h = Math.floor((left % 86400) / 3600);
      var m = Math.floor((left % 3600) / 60), s = left % 60;
      var days = d ? d + (document.body.dataset.dayUnit || "d") + " " : "";
      el.textContent = sign + days + (h || d ? String(h).padStart(d ? 2 : 1, "0") + ":" : "") +
        String(m).padStart(2, "0") + ":" + String(s).padStart(2, "0");
      el.classList.toggle("overdue", sign === "-");
    });
  }
  function mountCharts(root) {
    if (!window.echarts) return;
    (root || document).querySelectorAll("[data-chart]").forEach(function (el) {
      if (el.dataset.mounted) return;
      var option = JSON.parse(document.getElementById(el.dataset.chart).textContent);
      window.echarts.init(el).setOption(option);
      el.dataset.mounted = "1";
    });
  }
  document.addEventListener("DOMContentLoaded", function () {
    tick(); setInterval(tick, 1000); mountCharts();
  });
  document.addEventListener("htmx:afterSettle", function (e) { tick(); mountCharts(e.target); });
})();
