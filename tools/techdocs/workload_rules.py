"""Workload rules for the TechDocs YAML snippets: well-formed objects that cannot work.

snippets.py validates each snippet against the Kubernetes schemas and then applies these
rules (check_workload for one object, page_problems for the objects of one page). Each
function returns problems as strings; the caller says where they are.
"""

from __future__ import annotations

import re
import shlex
from typing import Any

# # The schema says an object is well-formed; these rules catch well-formed workloads that
# cannot work. They read only what the snippet spells out: what an image does by default
# (its user, the address it binds when no flag says so, ports it opens without declaring
# them) is invisible here. Running the examples on a node is the check for that.
#
#   probe-port      a tcpSocket/httpGet/grpc probe must reach a port the Pod declares: a
#                   named port of the probed container, or a number some container of the
#                   Pod lists in `ports`.
#   probe-loopback  the kubelet dials the Pod IP, so a probe cannot reach a port that a
#                   container's command, args or env bind to 127.0.0.1/localhost/::1
#                   (e.g. `--listen=127.0.0.1:5432`, `--host 127.0.0.1 --port 8000`,
#                   LISTEN_ADDR=127.0.0.1:9000); nor can a probe `host:` on loopback
#                   (that is the node's own loopback) unless the Pod uses hostNetwork.
#   volume-readable a Secret/ConfigMap/projected volume's files are owned by root:root with
#                   the volume's mode, unless the Pod sets fsGroup (then the kubelet makes
#                   them group fsGroup and group-readable). A container that runs as a
#                   non-root user (runAsUser != 0, or runAsNonRoot) cannot read a file whose
#                   mode gives neither group nor others read (0400, 0600), nor a group-only
#                   mode (0440) when its group is a known non-root runAsGroup.

POD_TEMPLATE_KINDS = {"Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "Job"}
LOOPBACK_RE = r"(?:127(?:\.\d{1,3}){3}|localhost|\[?::1\]?)"
# A long option that names a listen address: --listen, --bind, --http-address, --host ...
BIND_FLAG_RE = re.compile(r"^--?(?:[\w-]*(?:listen|bind|addr|address)[\w-]*|host|b)$", re.I)
HOST_PORT_RE = re.compile(rf"^(?:https?://)?{LOOPBACK_RE}:(\d+)$", re.I)
LOOPBACK_ONLY_RE = re.compile(rf"^{LOOPBACK_RE}$", re.I)
PORT_FLAG_RE = re.compile(r"^--?port$", re.I)
BIND_ENV_RE = re.compile(r"(LISTEN|BIND)", re.I)


def pod_spec_of(obj: Any) -> dict[str, Any] | None:
    """The Pod spec inside a workload object (None for other kinds)."""
    if not isinstance(obj, dict):
        return None
    spec = obj.get("spec") if isinstance(obj.get("spec"), dict) else {}
    kind = obj.get("kind")
    if kind == "Pod":
        return spec
    if kind in POD_TEMPLATE_KINDS:
        return ((spec.get("template") or {}).get("spec")) or None
    if kind == "CronJob":
        return ((((spec.get("jobTemplate") or {}).get("spec") or {}).get("template") or {}).get("spec")) or None
    return None


def _containers(pod: dict[str, Any]) -> list[dict[str, Any]]:
    return [c for key in ("initContainers", "containers") for c in (pod.get(key) or []) if isinstance(c, dict)]


def _tokens(container: dict[str, Any]) -> list[str]:
    """command + args as words; a shell string (`sh -c '...'`) is split into its words."""
    out: list[str] = []
    for word in [*(container.get("command") or []), *(container.get("args") or [])]:
        word = str(word)
        if any(ch.isspace() for ch in word):
            try:
                out.extend(shlex.split(word, comments=False))
            except ValueError:
                out.extend(word.split())
        else:
            out.append(word)
    return out


def loopback_binds(container: dict[str, Any]) -> dict[int, str]:
    """Ports the container's command/args/env visibly bind to a loopback address -> evidence."""
    found: dict[int, str] = {}
    words = _tokens(container)
    loopback_host = None
    port = None
    for i, word in enumerate(words):
        flag, sep, value = word.partition("=")
        if not sep and i + 1 < len(words):
            value = words[i + 1]
        if not BIND_FLAG_RE.match(flag):
            if PORT_FLAG_RE.match(flag) and value.isdigit():
                port = int(value)
            continue
        m = HOST_PORT_RE.match(value)
        if m:
            found[int(m.group(1))] = f"{flag} {value}"
        elif LOOPBACK_ONLY_RE.match(value):
            loopback_host = f"{flag} {value}"
    if loopback_host and port is not None:
        found.setdefault(port, f"{loopback_host} --port {port}")
    for env in container.get("env") or []:
        if not isinstance(env, dict) or not BIND_ENV_RE.search(str(env.get("name", ""))):
            continue
        m = HOST_PORT_RE.match(str(env.get("value", "")))
        if m:
            found.setdefault(int(m.group(1)), f"{env['name']}={env['value']}")
    return found


def probe_problems(pod: dict[str, Any]) -> list[str]:
    problems: list[str] = []
    containers = _containers(pod)
    declared = {p.get("containerPort"): c.get("name") for c in containers
                for p in (c.get("ports") or []) if isinstance(p, dict)}
    binds = {port: (c.get("name"), evidence) for c in containers for port, evidence in loopback_binds(c).items()}
    for c in containers:
        named = {p.get("name"): p.get("containerPort") for p in (c.get("ports") or [])
                 if isinstance(p, dict) and p.get("name")}
        for probe_name in ("startupProbe", "readinessProbe", "livenessProbe"):
            probe = c.get(probe_name)
            if not isinstance(probe, dict):
                continue
            for handler in ("tcpSocket", "httpGet", "grpc"):
                action = probe.get(handler)
                if not isinstance(action, dict) or "port" not in action:
                    continue
                what = f"container {c.get('name')!r}: {probe_name}.{handler}"
                port = action["port"]
                if isinstance(port, str) and not port.isdigit():
                    if port not in named:
                        problems.append(f"{what} uses the port name {port!r}, which is not in this container's "
                                        f"ports (named: {sorted(named) or 'none'}); the probe can never connect")
                        continue
                    port = named[port]
                port = int(port)
                if port not in declared:
                    problems.append(f"{what} dials port {port}, which no container of the Pod declares in "
                                    "`ports`; declare the containerPort the process listens on (or probe that one)")
                host = str(action.get("host", ""))
                if host and LOOPBACK_ONLY_RE.match(host) and not pod.get("hostNetwork"):
                    problems.append(f"{what} sets host {host}: the kubelet dials from the node, so that is the "
                                    "node's loopback, not the Pod's; leave host unset (the Pod IP)")
                elif not host and port in binds:
                    owner, evidence = binds[port]
                    problems.append(f"{what} dials the Pod IP on port {port}, but container {owner!r} binds it to "
                                    f"loopback ({evidence}); the probe never connects. Bind 0.0.0.0, or probe a "
                                    "health port that listens on the Pod IP, or use an exec probe")
    return problems


def _mode(value: Any, default: int) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) else default


def _volume_file_modes(volume: dict[str, Any]) -> tuple[str, list[int]] | None:
    """(description, modes of the files) for Secret/ConfigMap/projected volumes, else None."""
    for source in ("secret", "configMap"):
        spec = volume.get(source)
        if isinstance(spec, dict):
            default = _mode(spec.get("defaultMode"), 0o644)
            items = [i for i in spec.get("items") or [] if isinstance(i, dict)]
            modes = [_mode(i.get("mode"), default) for i in items] or [default]
            kind = "Secret" if source == "secret" else "ConfigMap"
            return f"{kind} volume {volume.get('name')!r}", modes
    spec = volume.get("projected")
    if isinstance(spec, dict):
        default = _mode(spec.get("defaultMode"), 0o644)
        modes: list[int] = []
        for src in spec.get("sources") or []:
            for key in ("secret", "configMap"):
                if isinstance(src, dict) and isinstance(src.get(key), dict):
                    items = [i for i in src[key].get("items") or [] if isinstance(i, dict)]
                    modes.extend(_mode(i.get("mode"), default) for i in items)
                    if not items:
                        modes.append(default)
        if modes:
            return f"projected volume {volume.get('name')!r}", modes
    return None


def volume_problems(pod: dict[str, Any]) -> list[str]:
    problems: list[str] = []
    psc = pod.get("securityContext") if isinstance(pod.get("securityContext"), dict) else {}
    if psc.get("fsGroup") is not None:
        return problems  # the kubelet chowns the files to fsGroup and adds group read
    volumes = {v.get("name"): v for v in pod.get("volumes") or [] if isinstance(v, dict)}
    for c in _containers(pod):
        csc = c.get("securityContext") if isinstance(c.get("securityContext"), dict) else {}
        uid = csc.get("runAsUser", psc.get("runAsUser"))
        non_root = csc.get("runAsNonRoot", psc.get("runAsNonRoot"))
        if uid == 0 or (uid is None and not non_root):
            continue  # root, or a user only the image knows
        gid = csc.get("runAsGroup", psc.get("runAsGroup"))
        groups = set(psc.get("supplementalGroups") or [])
        for mount in c.get("volumeMounts") or []:
            if not isinstance(mount, dict) or mount.get("name") not in volumes:
                continue
            found = _volume_file_modes(volumes[mount["name"]])
            if not found:
                continue
            what, modes = found
            for mode in modes:
                if mode & 0o004:
                    continue
                if mode & 0o040 and (gid is None or gid == 0 or 0 in groups):
                    continue  # group root can read, and the group may be root
                user = f"user {uid}" if uid is not None else "a non-root user (runAsNonRoot)"
                problems.append(f"{what} has file mode {mode:04o} (owner root, group root) and is mounted into "
                                f"container {c.get('name')!r}, which runs as {user} without fsGroup: it cannot "
                                "read the files. Set spec.securityContext.fsGroup (the kubelet then makes the "
                                "files group-readable for that group) or a mode others can read")
                break
    return problems


ENV_NAME_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


def env_from_problems(objects: list[dict[str, Any]]) -> list[str]:
    """env-from-files: `envFrom` exports every key of the ConfigMap/Secret it names. A key
    that is not a variable name (`settings.toml`, a mounted file) becomes a variable that
    holds the whole file. Checked for objects of one page (the referenced object must be
    on the same page to be seen)."""
    keys: dict[tuple[str, Any, Any], set[str]] = {}
    for o in objects:
        if o.get("kind") in ("ConfigMap", "Secret"):
            meta = o.get("metadata") or {}
            keys[(o["kind"], meta.get("name"), meta.get("namespace"))] = {
                str(k) for field in ("data", "stringData", "binaryData") for k in (o.get(field) or {})}
    problems: list[str] = []
    for o in objects:
        pod = pod_spec_of(o)
        if not isinstance(pod, dict):
            continue
        namespace = (o.get("metadata") or {}).get("namespace")
        for c in _containers(pod):
            for source in c.get("envFrom") or []:
                for ref_field, kind in (("configMapRef", "ConfigMap"), ("secretRef", "Secret")):
                    ref = source.get(ref_field) if isinstance(source, dict) else None
                    if not isinstance(ref, dict):
                        continue
                    bad = sorted(k for k in keys.get((kind, ref.get("name"), namespace), ())
                                 if not ENV_NAME_RE.match(k))
                    if bad:
                        problems.append(
                            f"{o['kind']}/{o['metadata'].get('name')}: container {c.get('name')!r} has envFrom "
                            f"{kind} {ref.get('name')!r}, which also holds {bad}: envFrom exports every key, so "
                            "each becomes an environment variable holding the whole file. Keep files in a "
                            "separate ConfigMap/Secret (or list the variables with valueFrom)")
    return problems
