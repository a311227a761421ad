// Seed 002's consumer-group scenario through ioredis; prints every reply as JSON.
// usage: node consumer_group.js PORT
const Redis = require("ioredis");

async function main() {
  const port = Number(process.argv[2]);
  const r = new Redis({ port, host: "127.0.0.1", lazyConnect: true, maxRetriesPerRequest: 1 });
  await r.connect();
  const out = [];
  const step = async (name, fn) => {
    try {
      out.push([name, await fn()]);
    } catch (e) {
      out.push([name, { error: e.message }]);
    }
  };
  await step("flush", () => r.flushall());
  await step("create", () => r.xgroup("CREATE", "orders", "payment_group", "0", "MKSTREAM"));
  await step("busygroup", () => r.xgroup("CREATE", "orders", "payment_group", "0"));
  await step("add1", () => r.xadd("orders", "1705315200000-0", "order_id", "123", "amount", "50000"));
  await step("add2", () => r.xadd("orders", "1705315200000-1", "order_id", "124", "amount", "30000"));
  await step("add3", () => r.xadd("orders", "1705315201000-0", "order_id", "125", "amount", "70000"));
  await step("bad id", () => r.xadd("orders", "1705315200000-0", "order_id", "999"));
  await step("len", () => r.xlen("orders"));
  await step("w1 reads", () =>
    r.xreadgroup("GROUP", "payment_group", "worker1", "COUNT", 2, "STREAMS", "orders", ">"));
  await step("w2 reads", () =>
    r.xreadgroup("GROUP", "payment_group", "worker2", "STREAMS", "orders", ">"));
  await step("nothing left", () =>
    r.xreadgroup("GROUP", "payment_group", "worker2", "STREAMS", "orders", ">"));
  await step("pending", () => r.xpending("orders", "payment_group"));
  await step("ack", () => r.xack("orders", "payment_group", "1705315200000-0"));
  await step("ack again", () => r.xack("orders", "payment_group", "1705315200000-0"));
  await step("pending w1", () =>
    r.xpending("orders", "payment_group", "-", "+", 10, "worker1").then((rows) => rows.map((x) => [x[0], x[1], x[3]])));
  await step("claim", () =>
    r.xclaim("orders", "payment_group", "worker2", 0, "1705315200000-1", "JUSTID"));
  await step("history w2", () =>
    r.xreadgroup("GROUP", "payment_group", "worker2", "STREAMS", "orders", "0"));
  await step("autoclaim", () =>
    r.xautoclaim("orders", "payment_group", "worker1", 0, "0-0", "COUNT", 10, "JUSTID"));
  await step("groups", () =>
    r.xinfo("GROUPS", "orders").then((gs) => gs.map((g) => g.slice(0, 8))));
  await step("range", () => r.xrange("orders", "-", "+"));
  await step("nogroup", () =>
    r.xreadgroup("GROUP", "nope", "w", "STREAMS", "orders", ">"));
  await step("blocking", async () => {
    const other = new Redis({ port, host: "127.0.0.1" });
    const pending = other.xreadgroup("GROUP", "payment_group", "worker3", "BLOCK", 5000, "STREAMS", "orders", ">");
    await new Promise((res) => setTimeout(res, 100));
    await r.xadd("orders", "1705315300000-0", "order_id", "126");
    const got = await pending;
    other.disconnect();
    return got;
  });
  console.log(JSON.stringify(out));
  r.disconnect();
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
