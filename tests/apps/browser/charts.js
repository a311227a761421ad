// The dashboards' charts in headless Debian chromium: they draw (a canvas with data, axes
// with units), they update, the page has no horizontal overflow at 390 px, the favicon
// answers, an invalid gateway setting is shown next to its field. With a screenshot
// prefix, full-page screenshots at 1440 and 390 px.
// usage: node charts.js <page url> <screenshot prefix | ""> [order|ops]   (one JSON line)
"use strict";
const fs = require("fs");
const os = require("os");
const path = require("path");
const { chromium } = require("playwright-core");

const url = process.argv[2];
const shots = process.argv[3] || "";
const kind = process.argv[4] || "order";
const T = 60000;

(async () => {
  const userDir = fs.mkdtempSync(path.join(os.tmpdir(), "streamlite-chromium-"));
  const ctx = await chromium.launchPersistentContext(userDir, {
    executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
    headless: true,
    args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
           "--disable-background-networking", "--disable-component-update", "--disable-sync"],
    viewport: { width: 1440, height: 1000 },
  });
  const out = { errors: [] };
  const page = ctx.pages()[0] || await ctx.newPage();
  page.on("pageerror", (e) => out.errors.push(String(e)));
  page.on("console", (m) => { if (m.type() === "error") out.errors.push(m.text()); });
  page.on("dialog", (d) => d.accept());
  try {
    await page.goto(url, { timeout: T });
    await page.waitForFunction(() => document.querySelector("#conn").textContent === "live",
                               null, { timeout: T });
    // every chart with series draws: a canvas, two axes, a legend; wait for 3+ points
    await page.waitForFunction(() => slCharts.filter((c) => c.plot && c.plot.data[0].length >= 3).length >= 3,
                               null, { timeout: T });
    const state = () => slCharts.map((c) => ({ title: c.opts.title, unit: c.opts.unit,
      points: c.plot ? c.plot.data[0].length : 0, series: c.plot ? c.plot.series.length - 1 : 0,
      updates: c.updates, canvas: !!c.el.querySelector("canvas"),
      axes: c.el.querySelectorAll(".u-axis").length,
      // (uPlot draws its axes on the canvas: their label and tick texts from the plot)
      unitLabel: c.plot ? c.plot.axes[1].label || "" : "",
      timeAxis: c.plot ? c.plot.scales.x.time === true : false,
      xTicks: c.plot ? (c.plot.axes[0]._values || []).slice(0, 3) : [],
      ticks: c.plot ? (c.plot.axes[1]._values || []).slice(0, 3) : [] }));
    out.before = await page.evaluate(state);
    const t0 = Math.max(...out.before.map((c) => c.updates));
    await page.waitForFunction((n) => Math.max(...slCharts.map((c) => c.updates)) >= n + 2, t0,
                               { timeout: T });
    await page.waitForTimeout(2500);
    out.after = await page.evaluate(state);
    out.favicon = (await page.evaluate(async () => (await fetch("/favicon.ico")).status));
    if (kind === "order") {
      // an invalid setting: the message sits next to its field, no alert()
      await page.fill("#gw-latency", "-5");
      await page.click("#gw-save");
      await page.waitForFunction(() => document.querySelector("#gw-latency-error").textContent !== "",
                                 null, { timeout: T });
      out.latency_error = await page.$eval("#gw-latency-error", (e) => e.textContent);
      out.latency_invalid = await page.$eval("#gw-latency", (e) => e.classList.contains("invalid"));
      out.rate_error = await page.$eval("#gw-rate-error", (e) => e.textContent);
    }
    if (shots) await page.screenshot({ path: `${shots}-1440.png`, fullPage: true });
    await page.setViewportSize({ width: 390, height: 844 });
    await page.waitForTimeout(1500);  // charts follow their container
    out.narrow = await page.evaluate(() => ({
      scroll: document.documentElement.scrollWidth, inner: window.innerWidth,
      widest: Math.max(...[...document.querySelectorAll("section")].map((s) => s.getBoundingClientRect().right)),
      chart: Math.max(...slCharts.filter((c) => c.plot).map((c) => c.el.querySelector("canvas").getBoundingClientRect().right)),
      // every section one column wide, the funnel's bars with room to show
      sectionWidths: [...new Set([...document.querySelectorAll("main > section")].map((s) => Math.round(s.getBoundingClientRect().width)))],
      funnelBar: (document.querySelector('#funnel .funnel-row div') || {getBoundingClientRect: () => ({width: null})}).getBoundingClientRect().width,
    }));
    if (shots) await page.screenshot({ path: `${shots}-390.png`, fullPage: true });
    out.ok = true;
  } catch (e) {
    out.ok = false;
    out.error = String(e && e.stack || e);
  } finally {
    await ctx.close();
    fs.rmSync(userDir, { recursive: true, force: true });
  }
  console.log(JSON.stringify(out));
})();
