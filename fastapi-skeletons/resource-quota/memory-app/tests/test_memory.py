"""Allocation really uses memory; limits are read from the cgroup files."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from app.features import build_frame
from app.memory import cgroup_cpu, cgroup_memory


def test_frame_has_the_requested_size() -> None:
    frame = build_frame(8)
    assert frame.shape == (8 * 1024 * 1024 // 64, 8)
    assert int(frame.memory_usage(index=False).sum()) == 8 * 1024 * 1024
    assert 0.0 <= frame["c0"].min() and frame["c0"].max() < 1.0


def test_allocate_and_hold_raises_rss(client: TestClient) -> None:
    before = client.get("/memory").json()
    body = client.post("/allocate", params={"mb": 48}).json()
    assert body["allocated_mb"] == 48
    assert body["held_mb"] == 48.0
    assert body["frames"] == 1
    # The pages are written, so the resident set really grows (allow for allocator slack).
    assert body["rss_mb"] - before["rss_mb"] >= 40


def test_allocate_without_hold_keeps_nothing(client: TestClient) -> None:
    body = client.post("/allocate", params={"mb": 16, "hold": "false"}).json()
    assert body["held_mb"] == 0.0 and body["frames"] == 0
    assert body["frame"]["rows"] == 16 * 1024 * 1024 // 64


def test_release_drops_held_frames(client: TestClient) -> None:
    client.post("/allocate", params={"mb": 32})
    client.post("/allocate", params={"mb": 16})
    assert client.get("/memory").json()["held_mb"] == 48.0
    assert client.post("/release").json()["held_mb"] == 0.0


@pytest.mark.parametrize("mb", ["0", "-5", "65", "lots"])
def test_invalid_or_too_large_allocations_are_rejected(client: TestClient, mb: str) -> None:
    response = client.post("/allocate", params={"mb": mb})
    assert response.status_code == 422
    assert client.get("/memory").json()["held_mb"] == 0.0


def test_memory_reports_cgroup_limits(client: TestClient) -> None:
    body = client.get("/memory").json()
    assert body["limit_mb"] == 512.0
    assert body["usage_mb"] == 100.0
    assert body["limit_cpus"] == 0.5


def test_unlimited_and_missing_cgroup_values(tmp_path: Path) -> None:
    (tmp_path / "memory.max").write_text("max\n")
    (tmp_path / "cpu.max").write_text("max 100000\n")
    assert cgroup_memory(tmp_path) == {"limit_mb": None, "usage_mb": None}
    assert cgroup_cpu(tmp_path) == {"limit_cpus": None}
    assert cgroup_memory(tmp_path / "absent") == {"limit_mb": None, "usage_mb": None}


def test_cgroup_v1_fallback(tmp_path: Path) -> None:
    (tmp_path / "memory").mkdir()
    (tmp_path / "memory" / "memory.limit_in_bytes").write_text(str(256 * 1024 * 1024))
    (tmp_path / "memory" / "memory.usage_in_bytes").write_text(str(64 * 1024 * 1024))
    assert cgroup_memory(tmp_path) == {"limit_mb": 256.0, "usage_mb": 64.0}
    (tmp_path / "memory" / "memory.limit_in_bytes").write_text(str(2**63 - 4096))
    assert cgroup_memory(tmp_path)["limit_mb"] is None


def test_cgroup_v1_cpu_fallback(tmp_path: Path) -> None:
    (tmp_path / "cpu").mkdir()
    (tmp_path / "cpu" / "cpu.cfs_quota_us").write_text("50000\n")
    (tmp_path / "cpu" / "cpu.cfs_period_us").write_text("100000\n")
    assert cgroup_cpu(tmp_path) == {"limit_cpus": 0.5}
    (tmp_path / "cpu" / "cpu.cfs_quota_us").write_text("-1\n")
    assert cgroup_cpu(tmp_path) == {"limit_cpus": None}
