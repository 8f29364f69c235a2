"""Tracing (app/mesh/tracing.py): server and client spans, traceparent on every hop, the
trace id in the logs."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI, Request
from fastapi.testclient import TestClient
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind

from app.core.lifecycle import Lifecycle
from app.core.logging import JsonFormatter
from app.mesh.settings import MeshSettings
from app.mesh.wiring import setup_mesh
from tests.mesh_support import FakeService, mesh_files, use_fake


@pytest.fixture
def traced(tmp_path: Path) -> tuple[TestClient, FakeService, InMemorySpanExporter]:
    settings = MeshSettings(app_name="caller", **mesh_files(tmp_path, (), own="gateway"))
    app = FastAPI()
    setup_mesh(app, settings, Lifecycle(), callers=(), downstreams={"callee": "http://callee"})
    exporter = InMemorySpanExporter()
    app.state.tracer_provider.add_span_processor(SimpleSpanProcessor(exporter))
    fake = FakeService({"GET /thing": lambda r: httpx.Response(200, json={"ok": True})})
    use_fake(app, "callee", fake)

    @app.get("/front")
    async def front(request: Request) -> dict[str, object]:
        logging.getLogger("app.test").info("handling")
        return (await request.app.state.downstreams["callee"].request("GET", "/thing")).json()

    return TestClient(app), fake, exporter


def test_a_request_and_its_call_are_one_trace_and_the_call_carries_traceparent(traced) -> None:  # type: ignore[no-untyped-def]
    client, fake, exporter = traced
    assert client.get("/front").json() == {"ok": True}
    spans = exporter.get_finished_spans()
    server = next(s for s in spans if s.kind == SpanKind.SERVER)
    outgoing = next(s for s in spans if s.kind == SpanKind.CLIENT)
    # One server span and its client span: no ASGI send/receive sub-spans.
    assert len(spans) == 2
    assert outgoing.context.trace_id == server.context.trace_id
    assert outgoing.parent is not None and outgoing.parent.span_id == server.context.span_id
    version, trace_id, parent_id, _flags = fake.requests[0].headers["traceparent"].split("-")
    assert (version, trace_id, parent_id) == ("00", f"{server.context.trace_id:032x}", f"{outgoing.context.span_id:016x}")


def test_an_incoming_traceparent_is_continued(traced) -> None:  # type: ignore[no-untyped-def]
    client, fake, exporter = traced
    trace_id, parent_id = "4bf92f3577b34da6a3ce929d0e0e4736", "00f067aa0ba902b7"
    client.get("/front", headers={"traceparent": f"00-{trace_id}-{parent_id}-01"})
    server = next(s for s in exporter.get_finished_spans() if s.kind == SpanKind.SERVER)
    assert f"{server.context.trace_id:032x}" == trace_id
    assert f"{server.parent.span_id:016x}" == parent_id
    assert fake.requests[0].headers["traceparent"].split("-")[1] == trace_id


def test_probes_are_not_traced(traced) -> None:  # type: ignore[no-untyped-def]
    client, _fake, exporter = traced
    client.get("/ready")
    client.get("/health")
    assert exporter.get_finished_spans() == ()


def test_log_lines_inside_a_request_carry_its_trace_id(traced, caplog: pytest.LogCaptureFixture) -> None:  # type: ignore[no-untyped-def]
    client, _fake, exporter = traced
    with caplog.at_level(logging.INFO, logger="app.test"):
        client.get("/front")
    record = next(r for r in caplog.records if r.getMessage() == "handling")
    server = next(s for s in exporter.get_finished_spans() if s.kind == SpanKind.SERVER)
    line = json.loads(JsonFormatter("caller").format(record))
    assert line["trace_id"] == f"{server.context.trace_id:032x}"
    assert len(line["span_id"]) == 16
