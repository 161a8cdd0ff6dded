"""/graphql with clients nobody here wrote (gql; urql, in Node), and the limits every query is held to."""

import json
import subprocess

import pytest
from gql import Client, gql
from gql.transport.exceptions import TransportQueryError
from gql.transport.httpx import HTTPXTransport

from scripts.localhost import FRESH_CONNECTIONS, NODE, PROJECT_ROOT


@pytest.fixture
def session(base_url, api_key):
    transport = HTTPXTransport(url=f"{base_url}/graphql", headers={"authorization": f"Bearer {api_key}"}, timeout=30,
                               limits=FRESH_CONNECTIONS)
    with Client(transport=transport, fetch_schema_from_transport=True) as session:
        yield session



URQL_CLIENT = PROJECT_ROOT / "tests" / "e2e" / "urql" / "client.mjs"


def urql(base_url: str, api_key: str, query: str, **variables) -> dict:
    options = {"query": query, "variables": variables, "headers": {"authorization": f"Bearer {api_key}"}}
    result = subprocess.run([str(NODE), str(URQL_CLIENT), base_url, json.dumps(options)], cwd=PROJECT_ROOT,
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_gql_runs_a_query_against_the_introspected_schema(session):
    result = session.execute(gql("{ models { id ownedBy } usage { tier limits { requestsPerMinute } window { limit } } }"))

    assert {"id": "@cf/meta/llama-3.1-8b-instruct-fast", "ownedBy": "meta"} in result["models"]
    assert result["usage"]["tier"] == "ENTERPRISE"
    assert result["usage"]["window"]["limit"] == result["usage"]["limits"]["requestsPerMinute"]


def test_models_say_what_each_text_model_can_do(session):
    result = session.execute(gql("{ models { id task capabilities { tools vision jsonMode contextWindow options } } }"))
    models = {model["id"]: model for model in result["models"]}

    assert models["@cf/mistralai/mistral-small-3.1-24b-instruct"]["capabilities"] == {
        "tools": True, "vision": True, "jsonMode": True, "contextWindow": 128_000,
        "options": ["temperature", "max_tokens", "top_p", "top_k", "seed", "stop", "repetition_penalty",
                    "frequency_penalty", "presence_penalty"]}
    assert models["@cf/baai/bge-base-en-v1.5"]["capabilities"] is None


def test_gql_runs_a_mutation_with_variables(session):
    request = gql("mutation($events: [EventInput!]!) { trackEvents(events: $events) { accepted duplicates rejected { index } } }")
    request.variable_values = {"events": [{"type": "view", "component": "Docs", "properties": {"page": "/"}}]}
    result = session.execute(request)

    assert result["trackEvents"]["accepted"] == 1


def test_gql_surfaces_a_forbidden_admin_mutation(session):
    with pytest.raises(TransportQueryError, match="admin token"):
        session.execute(gql('mutation { createApiKey(name: "nope") { key } }'))


def test_a_browser_asking_for_graphql_is_sent_to_graphiql_without_credentials(anonymous):
    browser = {"accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"}
    response = anonymous.get("/graphql", headers=browser)

    assert response.status_code in (302, 303)
    assert response.headers["location"] == "/graphiql"
    page = anonymous.get("/graphiql", headers=browser)
    assert page.status_code == 200
    assert '<div id="graphiql">' in page.text
    csp = page.headers["content-security-policy"]
    assert "unpkg" not in csp and "script-src 'self'" in csp and "worker-src 'self'" in csp
    # The page's old address leads to the same page, under the same policy.
    old = anonymous.get("/graphiql.html", headers=browser, follow_redirects=True)
    assert old.url.path == "/graphiql" and old.headers["content-security-policy"] == csp


def test_urql_with_its_defaults_runs_a_query_over_get(base_url, api_key):
    seen = urql(base_url, api_key, "query Models($first: Int) { models { id } events(first: $first) { pageInfo { hasNextPage } } }",
                first=1)

    assert seen["error"] is None
    assert {"id": "@cf/meta/llama-3.1-8b-instruct-fast", "__typename": "Model"} in seen["data"]["models"]
    assert [request["method"] for request in seen["requests"]] == ["GET"]
    assert "application/graphql-response+json" in seen["requests"][0]["accept"]


def test_urql_sees_a_validation_error_with_its_code(base_url, api_key):
    seen = urql(base_url, api_key, "{ nope }")

    assert seen["data"] is None
    assert seen["error"]["graphQLErrors"] == [{"code": "invalid_request"}]
