"""OpenTelemetry tracing: a server span for every request (FastAPI instrumentation), a
client span for every call to another service (see downstream.py), W3C ``traceparent``
propagated on every hop, spans exported over OTLP/HTTP to the collector named by
OTEL_EXPORTER_OTLP_ENDPOINT, and the trace id in every log line.

Each app gets its own TracerProvider (not the process-wide global one), so tests can run
several apps in one process, each with an in-memory exporter.
"""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI
from opentelemetry import trace
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.instrumentation.fastapi import FastAPIInstrumentor
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, SimpleSpanProcessor, SpanExporter

from app.core.lifecycle import Lifecycle
from app.mesh.settings import MeshSettings

# Probes every few seconds would drown the traces that matter.
UNTRACED_PATHS = "/health,/ready,/startup"


def create_tracer_provider(settings: MeshSettings, exporter: SpanExporter | None = None) -> TracerProvider:
    """A provider for this service; ``exporter`` replaces OTLP (tests pass an in-memory one)."""
    provider = TracerProvider(
        resource=Resource.create({"service.name": settings.app_name, "deployment.environment": settings.environment})
    )
    if exporter is not None:
        provider.add_span_processor(SimpleSpanProcessor(exporter))
    elif settings.otel_exporter_otlp_endpoint:
        endpoint = settings.otel_exporter_otlp_endpoint.rstrip("/") + "/v1/traces"
        # Batched and bounded: a slow or missing collector never delays a request.
        provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter(endpoint=endpoint, timeout=2)))
    return provider


def instrument(app: FastAPI, provider: TracerProvider, lifecycle: Lifecycle) -> None:
    # Without the ASGI "http send"/"http receive" sub-spans: one server span per request.
    FastAPIInstrumentor.instrument_app(
        app, tracer_provider=provider, excluded_urls=UNTRACED_PATHS, exclude_spans=["receive", "send"]
    )
    install_log_correlation()

    async def flush() -> None:
        provider.shutdown()  # exports what is still buffered

    lifecycle.on_shutdown(flush)


_previous_factory = logging.getLogRecordFactory()


def _record_with_trace(*args: Any, **kwargs: Any) -> logging.LogRecord:
    record = _previous_factory(*args, **kwargs)
    context = trace.get_current_span().get_span_context()
    if context.is_valid:
        record.trace_id = format(context.trace_id, "032x")
        record.span_id = format(context.span_id, "016x")
    return record


def install_log_correlation() -> None:
    """Every log record made inside a span gets trace_id and span_id (JSON log fields)."""
    logging.setLogRecordFactory(_record_with_trace)
