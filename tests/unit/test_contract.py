import pytest
from pydantic import ValidationError

from shared.contract import HealthReport

REPORT = {
    "service": "inference-service",
    "version": "0.1.0",
    "python": "3.14.2",
    "runtime": "Cloudflare-Workers",
    "request_id": "abc",
    "ok": True,
    "bindings": {"DB": {"ok": True, "latency_ms": 1.5}},
}


def test_a_health_report_round_trips_as_plain_json():
    report = HealthReport.model_validate(REPORT)

    assert report.model_dump(mode="json") == {**REPORT, "bindings": {"DB": {"ok": True, "latency_ms": 1.5, "error": None, "checked": True}},
                                              "providers": {}}


def test_a_health_report_with_a_negative_latency_names_the_field():
    bad = {**REPORT, "bindings": {"DB": {"ok": True, "latency_ms": -1}}}

    with pytest.raises(ValidationError) as raised:
        HealthReport.model_validate(bad)

    assert raised.value.errors()[0]["loc"] == ("bindings", "DB", "latency_ms")
