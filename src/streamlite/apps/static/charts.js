// Time-series charts for the streamlite dashboards, on uPlot (vendor/uPlot.iife.min.js).
// A chart shows some series of the backend's history (GET .../api/history: {t: [epoch
// s], series: {name: [values]}}) against local time, with a y axis in its unit and a
// legend; it follows its container's width (390 px phones to wide screens).
"use strict";

const SL_COLORS = ["#5b8def", "#3fb68b", "#e0a43a", "#e5534b", "#b07ce8", "#4cc3d9",
                   "#f08bb4", "#a3be5c", "#d98c5f", "#8b95ad", "#6fd3a8", "#f2c94c"];

function slUnitFmt(unit) {
  return (u, v) => v == null ? "–" : slNum(v, unit);
}

function slNum(v, unit) {
  if (v == null || Number.isNaN(v)) return "–";
  let s;
  if (unit === "B") {
    const k = ["B", "KB", "MB", "GB", "TB"]; let i = 0; let x = v;
    while (Math.abs(x) >= 1024 && i < k.length - 1) { x /= 1024; i++; }
    return (i ? x.toFixed(1) : x.toFixed(0)) + " " + k[i];
  }
  if (unit === "ms" && v >= 1000) return (v / 1000).toFixed(2) + " s";
  const a = Math.abs(v);
  s = a >= 1e6 ? (v / 1e6).toFixed(1) + "M" : a >= 1e4 ? (v / 1e3).toFixed(1) + "k"
    : a >= 100 || Number.isInteger(v) ? v.toFixed(0) : v.toFixed(a >= 10 ? 1 : 2);
  return unit ? s + " " + unit : s;
}

const slCharts = [];  // every chart of the page (the browser test reads them)

class SlChart {
  // el: container; opts: {title, unit, match: (name) => label|null, height}
  constructor(el, opts) {
    this.el = el; this.opts = opts; this.names = null; this.plot = null; this.updates = 0;
    slCharts.push(this);
    this.el.classList.add("sl-chart");
    this.head = document.createElement("div"); this.head.className = "sl-chart-title";
    this.head.textContent = `${opts.title} (${opts.unit})`;
    this.body = document.createElement("div");
    this.empty = document.createElement("div"); this.empty.className = "sl-chart-empty";
    this.empty.textContent = "no data yet";
    el.append(this.head, this.body, this.empty);
    if (window.ResizeObserver) {
      new ResizeObserver(() => { if (this.plot) this.plot.setSize(this.size()); }).observe(el);
    }
  }

  size() {
    return {width: Math.max(200, this.el.clientWidth - 2), height: this.opts.height || 180};
  }

  update(hist) {
    const picked = [];
    for (const [name, vals] of Object.entries(hist.series || {})) {
      const label = this.opts.match(name);
      if (label != null) picked.push([label, vals]);
    }
    picked.sort((a, b) => a[0].localeCompare(b[0]));
    const names = picked.map((p) => p[0]).join("\n");
    const data = [hist.t || [], ...picked.map((p) => p[1])];
    this.updates++;
    this.empty.style.display = picked.length && data[0].length ? "none" : "";
    if (!picked.length) { if (this.plot) { this.plot.destroy(); this.plot = null; this.names = null; } return; }
    if (this.plot && names === this.names) { this.plot.setData(data); this.oneSample(data[0]); return; }
    if (this.plot) this.plot.destroy();
    this.names = names;
    const unit = this.opts.unit;
    const axisStyle = {stroke: "#8b95ad", grid: {stroke: "#26304a", width: 1},
                       ticks: {stroke: "#26304a", width: 1}};
    this.plot = new uPlot({
      ...this.size(),
      cursor: {drag: {x: false, y: false}},
      scales: {x: {time: true}, y: {range: (u, lo, hi) => [0, Math.max(hi * 1.1, unit === "%" ? 1 : 1)]}},
      axes: [
        {...axisStyle, space: 60},
        {...axisStyle, size: 58, gap: 4, labelSize: 16, labelGap: 2,
         label: unit === "B" ? "bytes" : unit,
         values: (u, vals) => vals.map((v) => slNum(v, unit === "B" || unit === "ms" ? unit : ""))},
      ],
      legend: {live: true},
      series: [
        {value: (u, v) => v == null ? "–" : new Date(v * 1000).toLocaleTimeString()},
        ...picked.map((p, i) => ({label: p[0], stroke: SL_COLORS[i % SL_COLORS.length],
                                  width: 1.5, spanGaps: false, value: slUnitFmt(unit),
                                  points: {show: (u) => u.data[0].length < 3}})),
      ],
    }, data, this.body);
    this.oneSample(data[0]);
  }

  // a single sample (a first minute) would make uPlot pad the time axis by years
  oneSample(t) {
    if (t.length === 1) this.plot.setScale("x", {min: t[0] - 60, max: t[0] + 60});
  }
}

// The token of a dashboard bound beyond loopback: from ?token=..., sent with every call.
const SL_TOKEN = new URLSearchParams(location.search).get("token") || "";

async function slCall(method, url, body) {
  const opts = {method, headers: {}};
  if (SL_TOKEN) opts.headers["X-Streamlite-Token"] = SL_TOKEN;
  if (body !== undefined) { opts.headers["Content-Type"] = "application/json"; opts.body = JSON.stringify(body); }
  const r = await fetch(url, opts);
  const data = await r.json().catch(() => ({}));
  if (!r.ok) {
    const e = new Error(data.error || r.statusText);
    e.details = data.details || [];
    throw e;
  }
  return data;
}
