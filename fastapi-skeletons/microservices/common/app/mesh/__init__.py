"""Service-to-service plumbing every service of this repository shares: API-key
authentication (auth), calls to other services with timeouts, retries and a circuit
breaker (downstream), and OpenTelemetry tracing (tracing)."""
