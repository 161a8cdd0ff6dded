"""Requests made from the OpenAPI document (schemathesis): for every operation, bodies, query
strings and path parameters its schemas allow, sent with a key, each answer checked against the
document. The property: no 5xx, and every answer is one the document describes (its status, its
content type, and its body's schema). A short run is part of `make test` (tests/e2e/test_openapi.py),
a long one of `make fuzz` (scripts/fuzz.py)."""

import json
from dataclasses import dataclass, field
from itertools import product
from pathlib import Path

import schemathesis
from hypothesis import HealthCheck, Phase, given, seed, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)
from schemathesis.core.failures import Failure, FailureGroup

DOCUMENT = Path(__file__).resolve().parents[2] / "docs" / "openapi.json"
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]


@dataclass
class Findings:
    cases: int = 0
    statuses: dict[int, int] = field(default_factory=dict)
    failures: list[str] = field(default_factory=list)


def _described(failure: Exception) -> list[str]:
    failures = failure.exceptions if isinstance(failure, FailureGroup) else [failure]
    return [f"{f.title}: {f.message}" if isinstance(f, Failure) else repr(f) for f in failures]


def _run(operation, mode: GenerationMode, base_url: str, headers: dict[str, str], max_examples: int, seed_value: int,
         findings: Findings) -> None:
    label = f"{operation.label} ({mode.value})"

    @seed(seed_value)
    @settings(max_examples=max_examples, deadline=None, database=None, phases=[Phase.explicit, Phase.generate],
              suppress_health_check=list(HealthCheck))
    @given(case=operation.as_strategy(generation_mode=mode))
    def run(case):
        response = case.call(base_url=base_url, headers=headers, timeout=60)
        findings.cases += 1
        findings.statuses[response.status_code] = findings.statuses.get(response.status_code, 0) + 1
        try:
            case.validate_response(response, checks=CHECKS)
        except (Failure, FailureGroup, AssertionError) as exc:
            for problem in _described(exc):
                findings.failures.append(f"{label} -> {response.status_code}: {problem}\n    {case.as_curl_command()[:400]}")

    try:
        run()
    except Unsatisfiable:  # nothing to break in an operation that takes no input (negative mode)
        pass


def check_against_document(base_url: str, headers: dict[str, str], max_examples: int, seed_value: int = 1,
                           modes: tuple[GenerationMode, ...] = (GenerationMode.POSITIVE,)) -> Findings:
    """Runs `max_examples` generated requests per operation of docs/openapi.json and mode against
    `base_url`: requests the document allows (positive), or ones it does not (negative: a 4xx is due)."""
    schema = schemathesis.openapi.from_dict(json.loads(DOCUMENT.read_text()))
    findings = Findings()
    for result, mode in product(schema.get_all_operations(), modes):
        _run(result.ok(), mode, base_url, headers, max_examples, seed_value, findings)
    return findings
