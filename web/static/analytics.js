// 数据分析: the hotspots' heat ranking and the top five's daily trend, drawn with
// Apache ECharts from the JSON the page embeds (the same as GET /api/analytics/hotspots).
(function () {
  "use strict";
  const source = document.getElementById("an-data");
  if (!source || typeof echarts === "undefined") {
    return;
  }
  const data = JSON.parse(source.textContent);
  const hotspots = data.hotspots || [];
  const charts = [];

  function chart(id, option) {
    const element = document.getElementById(id);
    if (!element) {
      return;
    }
    if (!hotspots.length) {
      element.hidden = true;
      return;
    }
    const drawn = echarts.init(element, null, { renderer: "svg" });
    drawn.setOption(Object.assign({ animation: false, textStyle: { fontFamily: "sans-serif" } }, option));
    charts.push(drawn);
  }

  const ranked = hotspots.slice(0, 10).reverse();
  chart("an-heat", {
    title: { text: "热度排名（前十）", left: 0, textStyle: { fontSize: 14 } },
    grid: { left: 8, right: 48, top: 32, bottom: 8, containLabel: true },
    tooltip: { trigger: "axis", axisPointer: { type: "shadow" } },
    xAxis: { type: "value", name: "热度" },
    yAxis: {
      type: "category",
      data: ranked.map((h) => (h.title.length > 16 ? h.title.slice(0, 16) + "…" : h.title)),
    },
    series: [
      {
        type: "bar",
        name: "热度",
        data: ranked.map((h) => h.heat),
        label: { show: true, position: "right" },
      },
    ],
  });

  // One axis of days across the top five; a day a hotspot had no request is 0.
  const top = hotspots.slice(0, 5);
  const days = Array.from(new Set(top.flatMap((h) => h.trend.map((d) => d.day)))).sort();
  chart("an-trend", {
    title: { text: "每日诉求（前五）", left: 0, textStyle: { fontSize: 14 } },
    grid: { left: 8, right: 16, top: 56, bottom: 8, containLabel: true },
    tooltip: { trigger: "axis" },
    legend: { top: 24, type: "scroll", data: top.map((h) => h.title) },
    xAxis: { type: "category", data: days },
    yAxis: { type: "value", name: "件", minInterval: 1 },
    series: top.map((h) => {
      const byDay = Object.fromEntries(h.trend.map((d) => [d.day, d.requests]));
      return { type: "line", name: h.title, data: days.map((d) => byDay[d] || 0) };
    }),
  });

  window.addEventListener("resize", () => charts.forEach((c) => c.resize()));
  document.documentElement.dataset.chartsReady = String(charts.length);
})();
