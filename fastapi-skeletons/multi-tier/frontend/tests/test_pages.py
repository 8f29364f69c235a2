"""Frontend pages over a fake backend, and every way the backend can fail."""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import Callable, Iterator

import httpx
import pytest
from fastapi.testclient import TestClient

from tests.conftest import FakeBackend

FORM = {"content-type": "application/x-www-form-urlencoded"}


def test_index_lists_items_from_the_backend(client: TestClient, fake_backend: FakeBackend) -> None:
    fake_backend.add("Lamp", "desk lamp")
    response = client.get("/")
    assert response.status_code == 200
    assert "Lamp" in response.text and "desk lamp" in response.text
    assert [r.url.path for r in fake_backend.requests] == ["/api/items"]
    assert fake_backend.requests[0].url.host == "shop-backend.shop.svc.cluster.local"


def test_backend_values_are_html_escaped(client: TestClient, fake_backend: FakeBackend) -> None:
    fake_backend.add("<script>alert(1)</script>")
    text = client.get("/").text
    assert "<script>alert(1)</script>" not in text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in text


def test_request_id_is_forwarded_to_the_backend(client: TestClient, fake_backend: FakeBackend) -> None:
    client.get("/", headers={"X-Request-ID": "trace-42"})
    assert fake_backend.requests[0].headers["x-request-id"] == "trace-42"


def test_create_posts_json_to_the_backend_and_redirects(client: TestClient, fake_backend: FakeBackend) -> None:
    response = client.post("/items", content="name=Chair&description=oak+%26+steel", headers=FORM, follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == "/"
    sent = fake_backend.requests[-1]
    assert (sent.method, sent.url.path) == ("POST", "/api/items")
    assert json.loads(sent.content) == {"name": "Chair", "description": "oak & steel"}
    assert "Chair" in client.get("/").text


def test_invalid_item_gives_a_400_page(client: TestClient) -> None:
    response = client.post("/items", content="name=&description=x", headers=FORM)
    assert response.status_code == 400
    assert "A name of 1 to 200 characters is required" in response.text


def test_forms_must_be_urlencoded_and_small(client: TestClient) -> None:
    assert client.post("/items", json={"name": "x"}).status_code == 415
    assert client.post("/items", content="name=" + "x" * 20000, headers=FORM).status_code == 413


def test_show_and_delete(client: TestClient, fake_backend: FakeBackend) -> None:
    item = fake_backend.add("Desk")
    assert "Desk" in client.get(f"/items/{item['id']}").text
    missing = client.get("/items/999")
    assert missing.status_code == 404 and "There is no item 999" in missing.text
    response = client.post(f"/items/{item['id']}/delete", follow_redirects=False)
    assert response.status_code == 303
    assert fake_backend.items == {}


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_backend_down_gives_an_explained_503_but_frontend_stays_ready(make_client: Callable[..., TestClient]) -> None:
    port = _closed_port()
    client = make_client(backend_url=f"http://127.0.0.1:{port}")
    response = client.get("/")
    assert response.status_code == 503
    assert "The backend is unavailable" in response.text
    assert f"http://127.0.0.1:{port}/api/items" in response.text
    assert "kubectl get pods,endpointslices" in response.text
    assert client.get("/ready").status_code == 200
    assert client.get("/health").status_code == 200
    status = client.get("/api/backend-status")
    assert status.status_code == 503 and status.json()["reachable"] is False


@pytest.fixture
def silent_server() -> Iterator[int]:
    """Accepts connections and never answers: a stuck backend."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen()
    accepted: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        server.settimeout(0.1)
        while not stop.is_set():
            try:
                accepted.append(server.accept()[0])
            except OSError:
                continue

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    yield server.getsockname()[1]
    stop.set()
    thread.join()
    for conn in accepted:
        conn.close()
    server.close()


def test_backend_that_hangs_gives_504_after_the_timeout(make_client: Callable[..., TestClient], silent_server: int) -> None:
    client = make_client(backend_url=f"http://127.0.0.1:{silent_server}", backend_timeout_seconds=0.5)
    response = client.get("/")
    assert response.status_code == 504
    assert "did not answer in time" in response.text
    assert "longer than 0.5 seconds" in response.text


@pytest.mark.parametrize(
    ("backend_response", "expected"),
    [
        (httpx.Response(500, text="boom"), "answered HTTP 500"),
        (httpx.Response(200, text="<html>not json</html>"), "not valid JSON"),
        (httpx.Response(200, json={"not": "a list"}), "Listing items answered HTTP 200"),
    ],
)
def test_broken_backend_answers_give_502(
    make_client: Callable[..., TestClient], backend_response: httpx.Response, expected: str
) -> None:
    client = make_client(lambda request: backend_response)
    response = client.get("/")
    assert response.status_code == 502
    assert expected in response.text


def test_backend_status_when_reachable(client: TestClient) -> None:
    body = client.get("/api/backend-status").json()
    assert body == {
        "backend_url": "http://shop-backend.shop.svc.cluster.local:80",
        "reachable": True,
        "ready": True,
        "status": 200,
    }


def test_pages_send_security_headers(client: TestClient) -> None:
    headers = client.get("/").headers
    assert headers["content-security-policy"].startswith("default-src 'none'")
    assert headers["x-frame-options"] == "DENY"
