"""Findings of a check, frictionless-style: each a typed value with a stable code, a location (line),
a severity, a one-line why and the source of the rule. A check collects every finding; it never stops at
the first, and stops at :data:`MAX_FINDINGS` with the report marked partial.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

MAX_FINDINGS = 1000


class Severity(StrEnum):
    ERROR = "error"
    WARNING = "warning"


@dataclass(frozen=True, slots=True)
class Rule:
    code: str  # stable, e.g. "PP013"
    name: str  # stable slug, e.g. "openroaming-rcoi-not-in-beacon"
    severity: Severity
    summary: str  # what the rule checks, for the docs
    source: str  # where the rule comes from


@dataclass(frozen=True, slots=True)
class Finding:
    rule: Rule
    line: int  # 1-based; 0 when the finding is about something missing from a whole BSS or file
    message: str  # one line: what is wrong here and why it matters
    bss: str = ""  # the BSS's interface name, when known

    @property
    def code(self) -> str:
        return self.rule.code

    @property
    def severity(self) -> Severity:
        return self.rule.severity

    def text(self, path: str = "") -> str:
        where = f"{path}:{self.line}" if path else f"line {self.line}"
        return f"{where}: {self.severity.value} {self.code} {self.rule.name}: {self.message}"


@dataclass(slots=True)
class Report:
    findings: list[Finding] = field(default_factory=list)
    partial: bool = False

    def add(self, rule: Rule, line: int, message: str, bss: str = "") -> None:
        if len(self.findings) >= MAX_FINDINGS:
            self.partial = True
            return
        self.findings.append(Finding(rule, line, message, bss))

    @property
    def errors(self) -> list[Finding]:
        return [f for f in self.findings if f.severity is Severity.ERROR]

    def flat(self) -> list[tuple[int, str]]:
        """(line, code) pairs, sorted: what tests compare."""
        return sorted((f.line, f.code) for f in self.findings)
