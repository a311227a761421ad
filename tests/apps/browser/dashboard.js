// Drives the dashboard in headless Debian chromium: sees demo orders arrive and pauses
// them with the page's button, sees live numbers change as orders
// flow, starts a gateway outage with the page's button, waits for payments to be
// dead-lettered, ends the outage, clicks "redrive" and sees the dead letters go.
// usage: node dashboard.js <app url> <screenshot.png>   (prints one JSON line)
"use strict";
const fs = require("fs");
const os = require("os");
const path = require("path");
const { chromium } = require("playwright-core");

const api = process.argv[2].replace(/\/$/, "");
const shot = process.argv[3];
const T = 60000;
const GATEWAY_REFRESH_MS = 1500;  // > the gateway's settings cache (0.5 s), with a margin

async function post(url, body) {
  const r = await fetch(api + url, { method: "POST", headers: { "Content-Type": "application/json" },
                                     body: JSON.stringify(body) });
  if (!r.ok) throw new Error(`${url}: ${r.status} ${await r.text()}`);
  return r.json();
}

function order(i) {
  return { customer_id: `B${i}`, customer_email: `b${i}@example.com`,
           shipping_address: "서울시 강남구 테헤란로 152",
           items: [{ sku: i % 2 ? "IPHONE-15" : "AIRPODS-PRO", quantity: 1 + (i % 3) }] };
}

const num = (sel) => `Number((document.querySelector(${JSON.stringify(sel)})?.textContent || "").replace(/,/g, ""))`;

(async () => {
  const userDir = fs.mkdtempSync(path.join(os.tmpdir(), "streamlite-chromium-"));
  const ctx = await chromium.launchPersistentContext(userDir, {
    executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
    headless: true,
    args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
           "--disable-background-networking", "--disable-component-update", "--disable-sync"],
    viewport: { width: 1400, height: 1500 },
  });
  const out = {};
  const page = ctx.pages()[0] || await ctx.newPage();
  page.on("dialog", (d) => d.accept());
  try {
    await page.goto(api + "/", { timeout: T });
    await page.waitForFunction(() => document.querySelector("#conn").textContent === "live",
                               null, { timeout: T });
    await page.waitForFunction(`!Number.isNaN(${num("#kpi-completed")})`, null, { timeout: T });

    // demo traffic (streamlite run --demo 5): orders arrive by themselves; pause it
    await page.waitForFunction(() => document.querySelector("#demo-toggle").textContent === "pause demo",
                               null, { timeout: T });
    const demoOrders = await page.evaluate(num("#kpi-orders"));
    await page.waitForFunction(`${num("#kpi-orders")} >= ${demoOrders + 3}`, null, { timeout: T });
    out.demo_state_running = await page.$eval("#demo-state", (el) => el.textContent);
    await page.click("#demo-toggle");
    await page.waitForFunction(() => document.querySelector("#demo-state").textContent.startsWith("demo paused"),
                               null, { timeout: T });
    out.demo_button_paused = await page.$eval("#demo-toggle", (el) => el.textContent);
    out.demo_paused_api = (await (await fetch(api + "/api/demo")).json()).paused;

    out.completed_before = await page.evaluate(num("#kpi-completed"));
    out.received_len_before = await page.evaluate(num('tr[data-stream="order-received"] .len'));

    // live numbers change as orders flow
    for (let i = 0; i < 20; i++) await post("/api/orders", order(i));
    await page.waitForFunction(`${num("#kpi-completed")} >= ${out.completed_before + 20}`, null,
                               { timeout: T });
    out.completed_after_orders = await page.evaluate(num("#kpi-completed"));
    out.received_len_after = await page.evaluate(num('tr[data-stream="order-received"] .len'));
    out.ranking = await page.$$eval("#ranking li[data-sku]", (els) => els.length);
    out.groups = await page.$$eval("#groups tbody tr", (els) => els.length);
    out.funnel_completed = await page.evaluate(num('.funnel-row[data-status="COMPLETED"] .cnt'));

    // a gateway outage, started from the page: payments end up as dead letters
    await page.click("#gw-outage");
    await page.waitForFunction(() => document.querySelector("#gw-outage").dataset.outage === "1",
                               null, { timeout: T });
    // the gateway re-reads its settings at most every 0.5 s (apps/gateway.py): orders
    // charged sooner would still be approved, and fewer than 3 would be dead-lettered
    await page.waitForTimeout(GATEWAY_REFRESH_MS);
    for (let i = 100; i < 103; i++) await post("/api/orders", order(i));
    const dlqSel = 'tr[data-dlq="payment-processing"] .dlq-count';
    await page.waitForFunction(`${num(dlqSel)} >= 3`, null, { timeout: T });
    out.dlq_before = await page.evaluate(num(dlqSel));
    out.error_shown = await page.$eval('tr[data-dlq="payment-processing"] td.small',
                                       (el) => el.textContent);
    out.group_buttons = await page.$$eval(
      'tr[data-dlq="order-events"] button.redrive-group', (bs) => bs.map((b) => b.dataset.group));
    await page.click("#gw-outage");
    await page.waitForFunction(() => document.querySelector("#gw-outage").dataset.outage === "0",
                               null, { timeout: T });
    await page.waitForTimeout(GATEWAY_REFRESH_MS);  // the outage is over for the gateway too

    // redrive from the page: the dead letters go, the orders complete
    const completedBefore = await page.evaluate(num("#kpi-completed"));
    await page.click('button.redrive[data-stream="payment-processing"]');
    await page.waitForFunction(`${num(dlqSel)} === 0`, null, { timeout: T });
    out.dlq_after = await page.evaluate(num(dlqSel));
    await page.waitForFunction(`${num("#kpi-completed")} >= ${completedBefore + 3}`, null,
                               { timeout: T });
    out.completed_final = await page.evaluate(num("#kpi-completed"));
    if (shot) await page.screenshot({ path: shot, fullPage: true });
    out.ok = true;
  } catch (e) {
    out.ok = false;
    out.error = String(e && e.stack || e);
    if (shot) await page.screenshot({ path: shot, fullPage: true }).catch(() => {});
  } finally {
    await ctx.close();
    fs.rmSync(userDir, { recursive: true, force: true });
  }
  console.log(JSON.stringify(out));
  process.exit(out.ok ? 0 : 1);
})();
