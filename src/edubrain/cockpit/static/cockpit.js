// Draws every [data-chart] with the ECharts module it names; the option is JSON in the page.
// When a chart has finished rendering it gets data-rendered="1" (the browser tests and the
// low-bandwidth benchmark wait for it) and performance marks "chart:<id>".
const holders = document.querySelectorAll("[data-chart]");

async function draw(el) {
  const { default: echarts } = await import(el.dataset.echarts);
  const option = JSON.parse(document.getElementById(el.dataset.chart).textContent);
  // No entry animation: the numbers are there at once (and "finished" means drawn, not animated).
  option.animation = false;
  if (el.dataset.geo) {
    const outline = await fetch(el.dataset.geo, { credentials: "same-origin" }).then((r) => r.json());
    echarts.registerMap("region", outline);
  }
  const chart = echarts.init(el, null, { renderer: "canvas", locale: "ZH" });
  chart.on("finished", () => {
    if (el.dataset.rendered) return;
    el.dataset.rendered = "1";
    performance.mark(`chart:${el.id}`);
  });
  chart.on("click", (params) => {
    const code = params.data && params.data.code;
    if (code) window.location.href = `/schools/${encodeURIComponent(code)}`;
  });
  if (option.series) {
    for (const s of option.series) {
      if (s.type === "scatter" && s.coordinateSystem === "geo") {
        s.tooltip = { formatter: (p) => `${p.data.name}<br>${p.data.label}` };
      } else if (s.type === "bar" && s.data && s.data.some((d) => d && d.full)) {
        // The axis shows a short label; the tooltip the full one.
        s.tooltip = { formatter: (p) => `${(p.data && p.data.full) || p.name}: ${p.value}%` };
      }
    }
  }
  chart.setOption(option);
  el.chart = chart; // for the browser tests (convertToPixel → a real click on a school)
  window.addEventListener("resize", () => chart.resize());
}

for (const el of holders) {
  draw(el).catch((err) => {
    el.textContent = "图表加载失败 / chart failed to load";
    el.dataset.error = String(err);
  });
}
