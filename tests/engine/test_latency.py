"""The latency monitor's pure parts: Redis's HDR figures from microsecond counts, the
sparkline of LATENCY GRAPH, one sample per second per event."""

from __future__ import annotations

from streamlite.engine.latency import LatencyMonitor, cdf, percentile_usec


def test_hdr_figures_as_redis_reports_them() -> None:
    # redis-server 8.2: two SETs of ~10 and ~60 us gave "histogram_usec" {16: 1, 66: 2};
    # LATENCY HISTORY twice (2 and 7 us) gave p50=2.007, p99=7.007
    assert cdf({10: 1, 60: 1}) == {16: 1, 66: 2}
    assert percentile_usec({2: 1, 7: 1}, 50) == 2.007
    assert percentile_usec({2: 1, 7: 1}, 99) == 7.007
    assert percentile_usec({1: 5}, 99.9) == 1.003
    assert percentile_usec({0: 3}, 50) == 0.001  # a 0 us command is recorded as 1 ns
    assert cdf({0: 2, 1: 1}) == {1: 3}
    assert cdf({5000: 1}) == {8454: 1}  # 5 ms: first level past it is 8388608 ns


def test_samples_per_second_and_graph() -> None:
    m = LatencyMonitor()
    m.add("command", 20, 100)
    m.add("command", 30, 100)  # same second: the higher one stays
    m.add("command", 5, 101)
    assert m.latest() == [[b"command", 101, 5, 30]]
    assert m.history("command") == [[100, 30], [101, 5]]
    g = m.graph("command", 103)
    assert g is not None and g.startswith("command - high 30 ms, low 5 ms (all time high 30 ms)\n")
    assert m.reset("COMMAND") == 1 and m.latest() == []
