"""A stand-in for kubectl, for testing scripts/*.sh without a cluster.

It understands exactly the calls the scripts make. "exec" runs the command locally
against the test PostgreSQL server (standing in for the database container), "delete pod"
replaces the pod (and with FAKE_LOSE_DATA=1 loses the data, like a pod without a
PersistentVolume). Every call's arguments are appended to $FAKE_KUBECTL_STATE/argv.log.
"""

from __future__ import annotations

import base64
import json
import os
import subprocess
import sys
from pathlib import Path

import yaml

STATE = Path(os.environ["FAKE_KUBECTL_STATE"])


def _generation() -> int:
    path = STATE / "generation"
    return int(path.read_text()) if path.exists() else 1


def main(argv: list[str]) -> int:
    with (STATE / "argv.log").open("a") as log:
        log.write(json.dumps(argv) + "\n")
    args = list(argv)
    if args[:1] == ["-n"]:
        args = args[2:]
    verb = args[0]
    if verb in ("apply", "create") and args[1:] == ["-f", "-"]:
        doc = yaml.safe_load(sys.stdin.read())
        (STATE / f"{doc['kind'].lower()}-{doc['metadata']['name']}.yaml").write_text(yaml.safe_dump(doc))
        print(f"{doc['kind'].lower()}/{doc['metadata']['name']} created")
        return 0
    if verb == "apply":
        return 0
    if verb == "get" and args[1] == "secret":
        path = STATE / f"secret-{args[2]}.yaml"
        if not path.exists():
            print(f'Error from server (NotFound): secrets "{args[2]}" not found', file=sys.stderr)
            return 1
        if "jsonpath={.data.POSTGRES_PASSWORD}" in args:
            print((yaml.safe_load(path.read_text()).get("data") or {}).get("POSTGRES_PASSWORD", ""), end="")
        return 0
    if verb == "delete" and args[1] == "secret":
        (STATE / f"secret-{args[2]}.yaml").unlink()
        return 0
    if verb == "get" and args[1] == "deployment":
        return 0 if (STATE / f"deployment-{args[2]}").exists() else 1
    if verb == "rollout" and args[1] == "restart":
        print(f"{args[2]} restarted")
        return 0
    if verb == "create" and args[1:3] == ["secret", "generic"]:
        env_file = next(a.split("=", 1)[1] for a in args if a.startswith("--from-env-file="))
        pairs = dict(line.split("=", 1) for line in Path(env_file).read_text().splitlines() if line)
        data = {k: base64.b64encode(v.encode()).decode() for k, v in pairs.items()}
        print(yaml.safe_dump({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": args[3]}, "data": data}))
        return 0
    if verb == "label":
        doc = yaml.safe_load(sys.stdin.read())
        labels = dict(a.split("=", 1) for a in args if "=" in a and not a.startswith("-"))
        doc["metadata"].setdefault("labels", {}).update(labels)
        print(yaml.safe_dump(doc))
        return 0
    if verb in ("rollout", "wait"):
        return 0
    if verb == "get" and args[1] == "pvc":
        print("NAME            STATUS   VOLUME     CAPACITY   ACCESS MODES\ndata            Bound    pvc-1234   1Gi        RWO")
        return 0
    if verb == "get" and args[1] == "pods":
        print(f"db-pod-{_generation()}", end="")
        return 0
    if verb == "delete" and args[1] == "pod":
        (STATE / "generation").write_text(str(_generation() + 1))
        if os.environ.get("FAKE_LOSE_DATA") == "1":
            subprocess.run(["psql", "-qtAX", "-c", "DROP TABLE IF EXISTS persistence_check"], check=True, env=_db_env())
        print(f'pod "{args[2]}" deleted')
        return 0
    if verb == "exec":
        command = args[args.index("--") + 1 :]
        command = [c.replace("127.0.0.1", os.environ["PGHOST"]) for c in command]
        return subprocess.run(command, env=_db_env()).returncode
    print(f"fake kubectl: unsupported call {argv}", file=sys.stderr)
    return 2


def _db_env() -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        POSTGRES_USER=os.environ["PGUSER"], POSTGRES_DB=os.environ["PGDATABASE"],
        POSTGRES_PASSWORD=os.environ.get("PGPASSWORD", ""),
    )
    return env


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
