"""The page from the ConfigMap is served, kept fresh, and its absence is explained."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import yaml
from fastapi.testclient import TestClient

from app.main import create_app
from app.settings import Settings
from tests.manifest_policy import load_documents, repo_root

ROOT = repo_root(Path(__file__).resolve().parents[1])


def test_index_serves_the_custom_page_with_placeholders_filled(client: TestClient) -> None:
    response = client.get("/")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    assert "<h1>Custom content</h1>" in response.text
    assert "Served by web-7d9f-abcde, version 0.1.0" in response.text
    assert "__POD_NAME__" not in response.text


def test_index_sends_security_headers(client: TestClient) -> None:
    headers = client.get("/").headers
    assert headers["x-content-type-options"] == "nosniff"
    assert headers["content-security-policy"].startswith("default-src 'none'")


def test_pod_name_is_html_escaped(content_file: Path) -> None:
    settings = Settings(content_path=content_file, pod_name="<script>x</script>")
    with TestClient(create_app(settings)) as client:
        text = client.get("/").text
    assert "<script>" not in text
    assert "&lt;script&gt;x&lt;/script&gt;" in text


def test_an_updated_configmap_file_is_served_without_restart(client: TestClient, content_file: Path) -> None:
    assert "Custom content" in client.get("/").text
    content_file.write_text("<p>Second version of the page, now longer</p>", encoding="utf-8")
    stat = content_file.stat()
    os.utime(content_file, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000_000))
    assert client.get("/").text == "<p>Second version of the page, now longer</p>"


def test_missing_content_gives_503_and_not_ready_but_stays_alive(client: TestClient, content_file: Path) -> None:
    content_file.unlink()
    response = client.get("/")
    assert response.status_code == 503
    assert "Content unavailable" in response.text
    assert "FileNotFoundError" in response.text
    ready = client.get("/ready")
    assert ready.status_code == 503
    assert ready.json()["checks"]["content"]["ok"] is False
    # Restarting would not bring the file back: liveness stays green.
    assert client.get("/health").status_code == 200


def test_empty_content_is_rejected(client: TestClient, content_file: Path) -> None:
    content_file.write_text("   \n", encoding="utf-8")
    response = client.get("/")
    assert response.status_code == 503
    assert "is empty" in response.text


def test_oversized_content_is_rejected(client: TestClient, content_file: Path) -> None:
    content_file.write_text("x" * (1024 * 1024 + 1), encoding="utf-8")
    assert client.get("/").status_code == 503


def test_ready_when_content_is_readable(client: TestClient, content_file: Path) -> None:
    response = client.get("/ready")
    assert response.status_code == 200
    assert response.json()["checks"]["content"] == {"ok": True, "detail": str(content_file)}


def test_info_reports_replica_and_content_digest(client: TestClient, content_file: Path) -> None:
    body = client.get("/api/info").json()
    assert body["pod"] == "web-7d9f-abcde"
    assert body["greeting"] == "Hi there"
    assert body["content_sha256"] == hashlib.sha256(content_file.read_bytes()).hexdigest()


def test_the_configmap_page_is_what_the_app_serves(tmp_path: Path) -> None:
    """Wire-up check: the Deployment mounts the ConfigMap's index.html where CONTENT_PATH points."""
    docs = dict(((d["kind"], d["metadata"]["name"]), d) for _, d in load_documents(ROOT / "k8s"))
    deployment = next(d for (kind, _), d in docs.items() if kind == "Deployment")
    container = deployment["spec"]["template"]["spec"]["containers"][0]
    env = {e["name"]: e for e in container["env"]}
    content_path = Path(env["CONTENT_PATH"]["value"])
    volume_name = next(m["name"] for m in container["volumeMounts"] if m["mountPath"] == str(content_path.parent))
    volume = next(v for v in deployment["spec"]["template"]["spec"]["volumes"] if v["name"] == volume_name)
    configmap = docs[("ConfigMap", volume["configMap"]["name"])]
    item = next(i for i in volume["configMap"]["items"] if i["path"] == content_path.name)
    page = configmap["data"][item["key"]]
    for key in ("GREETING", "ENVIRONMENT", "LOG_LEVEL"):
        assert env[key]["valueFrom"]["configMapKeyRef"]["name"] == configmap["metadata"]["name"]
        assert env[key]["valueFrom"]["configMapKeyRef"]["key"] in configmap["data"]

    (tmp_path / content_path.name).write_text(page, encoding="utf-8")
    settings = Settings(content_path=tmp_path / content_path.name, pod_name="pod-1")
    with TestClient(create_app(settings)) as client:
        response = client.get("/")
    assert response.status_code == 200
    assert "Served by <strong>pod-1</strong>" in response.text
    title = yaml.safe_load((ROOT / "catalog-info.yaml").read_text())["metadata"]["name"]
    assert title in response.text
