"""A diagnosis as a list of steps, each with a verdict, its timing, and words an operator understands.

Rendering is separate from running so that the same report prints as text for a person, as JSON for a
monitoring system, and decides the exit code (0 only when every step passed).
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from enum import Enum


class Verdict(Enum):
    PASS = "pass"
    WARN = "warn"
    FAIL = "fail"
    SKIP = "skip"  # not run because an earlier step failed


@dataclass(frozen=True, slots=True)
class Step:
    name: str
    verdict: Verdict
    summary: str
    ms: float = 0.0
    details: tuple[str, ...] = ()


@dataclass(slots=True)
class Report:
    subject: str
    steps: list[Step] = field(default_factory=list)

    def add(self, step: Step) -> Step:
        self.steps.append(step)
        return step

    @property
    def ok(self) -> bool:
        return bool(self.steps) and all(s.verdict in (Verdict.PASS, Verdict.WARN) for s in self.steps)

    def exit_code(self) -> int:
        return 0 if self.ok else 1

    def to_json(self) -> str:
        doc = {"subject": self.subject, "ok": self.ok,
               "steps": [{**asdict(s), "verdict": s.verdict.value, "details": list(s.details)} for s in self.steps]}
        return json.dumps(doc, indent=2, ensure_ascii=False)

    def to_text(self) -> str:
        marks = {Verdict.PASS: "PASS", Verdict.WARN: "WARN", Verdict.FAIL: "FAIL", Verdict.SKIP: "skip"}
        lines = [f"Diagnosis of {self.subject}"]
        for n, s in enumerate(self.steps, 1):
            timing = f" ({s.ms:.0f} ms)" if s.ms else ""
            lines.append(f"{n}. [{marks[s.verdict]}] {s.name}: {s.summary}{timing}")
            lines.extend(f"      {d}" for d in s.details)
        lines.append("Result: every step passed." if self.ok else "Result: NOT reachable as an OpenRoaming IdP "
                     "(see the first FAIL above).")
        return "\n".join(lines)
