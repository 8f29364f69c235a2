"""Data types shared by every check: a Finding is one problem someone must fix."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any


@dataclass(frozen=True)
class Finding:
    """One failed check.

    ``file``/``kind``/``name`` say where, ``rule`` is a stable id (used in
    ``golden-path.dev/policy-exceptions``), ``message`` says what is wrong and
    ``fix`` says how to fix it.
    """

    file: str
    kind: str
    name: str
    rule: str
    message: str
    fix: str = ""
    line: int | None = None
    path: str = ""

    def render(self) -> str:
        text = f"{self.file}: {self.kind}/{self.name}: {self.rule}: {self.message}"
        if self.fix:
            text += f" (fix: {self.fix})"
        return text

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class AppliedException:
    """A policy rule that an object opted out of, with the reason it gave."""

    file: str
    kind: str
    name: str
    rule: str
    reason: str

    def render(self) -> str:
        return f"{self.file}: {self.kind}/{self.name}: {self.rule}: exception applied: {self.reason}"

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class Report:
    """Everything one run found, plus how many checks ran."""

    findings: list[Finding] = field(default_factory=list)
    exceptions: list[AppliedException] = field(default_factory=list)
    checks_passed: int = 0
    checks_failed: int = 0
    files: int = 0
    objects: int = 0
    workflows: int = 0

    def record(self, findings: list[Finding]) -> None:
        """Count one check: it passed when it produced no finding."""
        if findings:
            self.checks_failed += 1
            self.findings.extend(findings)
        else:
            self.checks_passed += 1

    def merge(self, other: "Report") -> None:
        self.findings.extend(other.findings)
        self.exceptions.extend(other.exceptions)
        self.checks_passed += other.checks_passed
        self.checks_failed += other.checks_failed
        self.files += other.files
        self.objects += other.objects
        self.workflows += other.workflows

    @property
    def ok(self) -> bool:
        return not self.findings and self.checks_failed == 0

    def to_dict(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "summary": {
                "checks_passed": self.checks_passed,
                "checks_failed": self.checks_failed,
                "findings": len(self.findings),
                "exceptions": len(self.exceptions),
                "files": self.files,
                "objects": self.objects,
                "workflows": self.workflows,
            },
            "findings": [f.to_dict() for f in self.findings],
            "exceptions": [e.to_dict() for e in self.exceptions],
        }
