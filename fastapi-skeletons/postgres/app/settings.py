"""Settings of the service: PostgreSQL connection from DATABASE_URL or DB_* variables."""

from __future__ import annotations

from functools import lru_cache

from psycopg.conninfo import conninfo_to_dict, make_conninfo
from pydantic import Field, SecretStr

from app.core.settings import ServiceSettings


class Settings(ServiceSettings):
    app_name: str = Field(default=${{ values.name | dump }}, min_length=1, max_length=63)
    # Either a full URL (local development, tests) ...
    database_url: SecretStr | None = None
    # ... or the parts, as the Deployment passes them from the Secret (k8s/deployment.yaml).
    db_host: str = "localhost"
    db_port: int = Field(default=5432, ge=1, le=65535)
    db_name: str = "app"
    db_user: str = "app"
    db_password: SecretStr | None = None
    db_pool_min_size: int = Field(default=1, ge=0, le=50)
    db_pool_max_size: int = Field(default=5, ge=1, le=100)
    # How long a request waits for a pooled connection before answering 503.
    db_pool_timeout_seconds: float = Field(default=3.0, gt=0, le=60)
    db_connect_timeout_seconds: int = Field(default=3, ge=1, le=60)
    db_statement_timeout_ms: int = Field(default=5000, ge=100, le=600_000)

    def conninfo(self) -> str:
        """libpq connection string; the password never appears in logs or reprs."""
        if self.database_url is not None:
            params = conninfo_to_dict(self.database_url.get_secret_value())
        else:
            params = {"host": self.db_host, "port": self.db_port, "dbname": self.db_name, "user": self.db_user}
            if self.db_password is not None:
                params["password"] = self.db_password.get_secret_value()
        params.setdefault("connect_timeout", self.db_connect_timeout_seconds)
        params.setdefault("application_name", self.app_name)
        params["options"] = f"-c statement_timeout={self.db_statement_timeout_ms}"
        return make_conninfo(**params)

    def safe_target(self) -> str:
        """host:port/dbname for logs and error messages, without credentials."""
        params = conninfo_to_dict(self.conninfo())
        return f"{params.get('host', '')}:{params.get('port', 5432)}/{params.get('dbname', '')}"


@lru_cache
def get_settings() -> Settings:
    return Settings()
