// `streamlite dashboard` in headless Debian chromium: its tables list the streams and
// groups; "inspect" opens a stream's dead letters; "redrive for <group>" puts one back
// for that group only, and the count goes down by one.
// usage: node ops.js <dashboard url>   (prints one JSON line)
"use strict";
const fs = require("fs");
const os = require("os");
const path = require("path");
const { chromium } = require("playwright-core");

const url = process.argv[2];
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
  page.on("dialog", (d) => d.accept());
  try {
    await page.goto(url, { timeout: T });
    await page.waitForFunction(() => document.querySelector("#conn").textContent === "live",
                               null, { timeout: T });
    await page.waitForSelector('tr[data-dlq="payments"]', { timeout: T });
    out.streams = await page.$$eval("#streams tbody tr[data-stream]", (els) => els.length);
    out.groups = await page.$$eval("#groups tbody tr[data-group]", (els) => els.map((e) => e.dataset.group));
    out.dlq_before = Number(await page.$eval('tr[data-dlq="payments"] .dlq-count', (e) => e.textContent));
    await page.click('tr[data-dlq="payments"] button.inspect');
    await page.waitForSelector("#dlq-view button.redrive-one", { timeout: T });
    out.redrive_label = await page.$eval("#dlq-view button.redrive-one", (e) => e.textContent);
    await page.click("#dlq-view button.redrive-one");
    await page.waitForFunction(() => document.querySelectorAll("#dlq-view tr[data-dead-letter]").length === 1,
                               null, { timeout: T });
    await page.waitForFunction(() => document.querySelector('tr[data-dlq="payments"] .dlq-count').textContent === "1",
                               null, { timeout: T });
    out.dlq_after = Number(await page.$eval('tr[data-dlq="payments"] .dlq-count', (e) => e.textContent));
    // a consumer's pending entries open on a click
    await page.click("#groups a.consumer");
    await page.waitForSelector("#pending-view h3", { timeout: T });
    out.pending_title = await page.$eval("#pending-view h3", (e) => e.textContent);
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
