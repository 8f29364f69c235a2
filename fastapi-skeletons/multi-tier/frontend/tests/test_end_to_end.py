"""Frontend -> backend over real HTTP: the backend service (../backend) runs as a process."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest
import yaml
from fastapi.testclient import TestClient

from app.settings import Settings
from tests.manifest_policy import load_documents, repo_root

BACKEND_DIR = Path(__file__).resolve().parents[2] / "backend"
ROOT = repo_root(Path(__file__).resolve().parents[1])


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def backend_process() -> Iterator[tuple[subprocess.Popen[str], str]]:
    if not (BACKEND_DIR / "app" / "__main__.py").is_file():
        pytest.skip("no ../backend service next to this frontend")
    port = _free_port()
    env = {**os.environ, "PORT": str(port), "HOST": "127.0.0.1", "SHUTDOWN_DRAIN_SECONDS": "0", "PYTHONPATH": str(BACKEND_DIR)}
    proc = subprocess.Popen([sys.executable, "-m", "app"], cwd=BACKEND_DIR, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, text=True)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{url}/ready", timeout=1).status_code == 200:
                break
        except httpx.HTTPError:
            time.sleep(0.1)
    else:
        proc.kill()
        pytest.fail("backend did not become ready")
    yield proc, url
    if proc.poll() is None:
        proc.kill()
    proc.wait()


@pytest.mark.slow
def test_frontend_uses_the_real_backend_then_explains_its_outage(
    make_client: Callable[..., TestClient], backend_process: tuple[subprocess.Popen[str], str]
) -> None:
    proc, url = backend_process
    client = make_client(backend_url=url)
    page = client.get("/")
    assert page.status_code == 200
    assert "Kubernetes in Action" in page.text  # seeded by the backend
    created = client.post("/items", content="name=End-to-end+item", headers={"content-type": "application/x-www-form-urlencoded"}, follow_redirects=False)
    assert created.status_code == 303
    assert "End-to-end item" in client.get("/").text
    assert httpx.get(f"{url}/api/items", timeout=2).json()[-1]["name"] == "End-to-end item"

    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=10)
    outage = client.get("/")
    assert outage.status_code == 503
    assert "The backend is unavailable" in outage.text


def test_manifests_point_the_frontend_at_the_backend_service() -> None:
    docs = {(d["kind"], d["metadata"]["name"]): d for _, d in load_documents(ROOT / "k8s")}
    frontend = next(d for (k, _), d in docs.items() if k == "Deployment" and d["metadata"]["labels"].get("app.kubernetes.io/component") == "frontend")
    env = {e["name"]: e.get("value") for e in frontend["spec"]["template"]["spec"]["containers"][0]["env"]}
    backend_url = httpx.URL(env["BACKEND_URL"])
    service_name, namespace = backend_url.host.split(".")[:2]
    service = docs[("Service", service_name)]
    assert service["spec"]["type"] == "ClusterIP"
    assert (backend_url.port or 80) == service["spec"]["ports"][0]["port"]
    kustomization = yaml.safe_load((ROOT / "k8s" / "kustomization.yaml").read_text())
    assert namespace == kustomization["namespace"]
    # The in-code default is the same address, so local runs and the cluster agree.
    assert Settings().backend_url == env["BACKEND_URL"]
    # Only the frontend is exposed outside the cluster.
    external = [name for (kind, name), d in docs.items() if kind == "Service" and d["spec"]["type"] != "ClusterIP"]
    assert external == [next(n for (k, n), d in docs.items() if k == "Service" and d["spec"]["selector"] == frontend["spec"]["selector"]["matchLabels"])]
