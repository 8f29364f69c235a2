"""The fastapi-demo service that `make demo` runs on the local cluster's real node."""
