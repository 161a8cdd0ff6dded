"""The OpenAPI document, served and kept to: GET /openapi.json is public and is docs/openapi.json,
and requests made from it (schemathesis, tests/e2e/openapi_fuzz.py) get only the answers it
describes, never a 5xx."""

import json

from schemathesis import GenerationMode

from tests.e2e.openapi_fuzz import DOCUMENT, check_against_document

# Per operation (21 of them) and mode: enough to reach each body's fields, few enough for 2 cores.
MAX_EXAMPLES = 6


def test_the_document_is_served_without_credentials(anonymous):
    response = anonymous.get("/openapi.json")

    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    assert response.json() == json.loads(DOCUMENT.read_text())


def test_requests_made_from_the_document_get_the_answers_it_describes(base_url, new_key):
    key = new_key("enterprise", "openapi")["key"]

    findings = check_against_document(base_url, {"authorization": f"Bearer {key}"}, MAX_EXAMPLES,
                                      modes=(GenerationMode.POSITIVE, GenerationMode.NEGATIVE))

    assert findings.cases > 0
    assert findings.failures == [], "\n".join(findings.failures[:20])
