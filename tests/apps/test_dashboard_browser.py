"""The dashboard in a real browser: Debian's chromium driven by playwright-core (npm).

Needs ``/usr/bin/chromium`` (``apt-get install chromium``), node, and
``npm install --prefix tests/apps/browser``; skipped, saying which is missing, without."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import tempfile

import pytest

from .support import FAST, AppProc, http

HERE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "browser")
CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")


def missing() -> str | None:
    if not os.path.exists(CHROMIUM):
        return f"{CHROMIUM} is not installed (apt-get install -y chromium)"
    if shutil.which("node") is None:
        return "node is not installed"
    if not os.path.isdir(os.path.join(HERE, "node_modules", "playwright-core")):
        return "playwright-core is not installed (npm install --prefix tests/apps/browser)"
    return None


@pytest.mark.cluster_too
def test_dashboard_live_numbers_and_redrive(backend):
    why = missing()
    if why:
        pytest.skip(why)
    app = AppProc(backend.url, [*FAST, "--payment-failure-rate", "0",
                                "--payment-max-deliveries", "3", "--demo", "5"]).start()
    shot = os.path.join(tempfile.gettempdir(), f"streamlite-dashboard-{backend.name}.png")
    state = ""
    try:
        p = subprocess.run(["node", os.path.join(HERE, "dashboard.js"), app.api, shot],
                           capture_output=True, text=True, timeout=240, cwd=HERE)
        if '"ok":true' not in p.stdout:
            state = _groups(app.api)  # where the pipeline stands, before stopping the app
    finally:
        rc = app.stop()
    assert p.stdout.strip(), p.stderr[-3000:]
    out = json.loads(p.stdout.strip().splitlines()[-1])
    assert out["ok"], (out.get("error", "") + "\n" + state + "\n"
                       + app.stderr()[-6000:])
    assert rc == 0
    assert out["demo_state_running"].startswith("demo running: 5 orders/s")
    assert out["demo_button_paused"] == "resume demo" and out["demo_paused_api"] is True
    assert out["completed_after_orders"] >= out["completed_before"] + 20
    assert out["received_len_after"] >= out["received_len_before"] + 20
    assert out["ranking"] >= 2 and out["groups"] >= 11
    assert out["funnel_completed"] >= 20
    assert out["dlq_before"] >= 3 and "payment-gateway" in out["error_shown"]
    # a redrive per group where a stream has several (order-events: four)
    assert sorted(out["group_buttons"]) == ["alerts", "analytics", "notification", "ranking"]
    assert out["dlq_after"] == 0
    assert out["completed_final"] >= out["completed_after_orders"] + 3


def _groups(api: str) -> str:
    """Each stream's groups as the app's own /api/dashboard reports them: length,
    pending, lag, last delivered ID (shown when the browser scenario fails: a stalled
    stage shows here; the embedded data directory is the app's while it runs)."""
    try:
        st, snap = http("GET", f"{api}/api/dashboard")
    except Exception as e:  # noqa: BLE001
        return f"/api/dashboard: {e}"
    lines = [f"/api/dashboard: HTTP {st}"]
    for s in snap.get("streams", []) if isinstance(snap, dict) else []:
        gs = ", ".join(f"{g['name']} pending={g['pending']} lag={g['lag']} "
                       f"last={g['last_delivered_id']}" for g in s["groups"])
        lines.append(f"{s['name']} len={s['length']}: {gs}")
    return "\n".join(lines)
