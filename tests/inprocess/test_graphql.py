"""/graphql: the limits every query is held to, GET and POST, errors in GraphQL's shape, and the resolvers' answers."""

import gc

import pytest

from api.schema import MAX_ALIASES, MAX_DEPTH
from shared.bounded import entry_size
from tests.e2e.conftest import landed


def test_a_query_too_deep_is_refused_with_a_graphql_error(client):
    nested = "{ __schema { types { fields { type " + "{ ofType " * 12 + "{ name }" + " }" * 12 + " } } } }"

    response = client.post("/graphql", json={"query": nested})

    assert response.status_code == 400
    body = response.json()
    assert "data" not in body
    assert f"the limit is {MAX_DEPTH}" in body["errors"][0]["message"]
    assert body["errors"][0]["locations"]


def test_too_many_aliases_are_refused(client):
    query = "{ " + " ".join(f"a{i}: models {{ id }}" for i in range(MAX_ALIASES + 1)) + " }"

    assert "aliases" in client.post("/graphql", json={"query": query}).json()["errors"][0]["message"]


def test_a_list_larger_than_allowed_is_refused(client):
    response = client.post("/graphql", json={"query": "{ events(first: 1000) { edges { cursor } } }"})

    assert response.status_code == 400
    assert "at most 100" in response.json()["errors"][0]["message"]


def test_syntax_and_unknown_fields_are_graphql_errors(client):
    assert client.post("/graphql", json={"query": "{ models { id "}).json()["errors"][0]["message"].startswith("Syntax Error")
    assert "Cannot query field" in client.post("/graphql", json={"query": "{ nope }"}).json()["errors"][0]["message"]


def test_resolver_errors_come_back_in_graphql_shape_next_to_data(client):
    body = client.post("/graphql", json={"query": "{ models { id } apiKeys { id } }"}).json()

    assert body["data"] is None  # apiKeys is non-null, so its error nulls the whole result
    assert body["errors"][0]["path"] == ["apiKeys"]
    assert body["errors"][0]["extensions"]["code"] == "forbidden"


def test_a_get_runs_a_query_with_its_variables_and_operation_name(client):
    query = ('query Page($first: Int) { events(first: $first, filter: {type: "never-sent"}) { edges { cursor } } } '
             'query Other { models { id } }')
    response = client.get("/graphql", params={"query": query, "variables": '{"first": 5}', "operationName": "Page"},
                          headers={"accept": "application/json"})

    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/json")
    assert response.json() == {"data": {"events": {"edges": []}}}


def test_a_get_needs_the_same_credentials_as_a_post(anonymous):
    response = anonymous.get("/graphql", params={"query": "{ models { id } }"}, headers={"accept": "application/json"})

    assert response.status_code == 401
    assert response.json()["error"]["code"] == "unauthorized"


def test_a_mutation_over_get_is_refused_with_405_and_runs_nothing(client):
    mutation = 'mutation { trackEvents(events: [{type: "over-get"}]) { accepted } }'
    response = client.get("/graphql", params={"query": mutation}, headers={"accept": "application/graphql-response+json"})

    assert response.status_code == 405
    assert response.headers["allow"] == "POST"
    assert response.json()["errors"][0]["extensions"]["code"] == "method_not_allowed"
    events = client.post("/graphql", json={"query": '{ events(filter: {type: "over-get"}) { edges { cursor } } }'}).json()
    assert events["data"]["events"]["edges"] == []


def test_graphql_response_json_is_answered_in_kind_with_4xx_for_request_errors(client):
    accept = {"accept": "application/graphql-response+json"}
    ok = client.get("/graphql", params={"query": "{ models { id } }"}, headers=accept)
    assert ok.status_code == 200
    assert ok.headers["content-type"].startswith("application/graphql-response+json")

    # A variable of the wrong type: a request error, so no `data` and a 4xx.
    wrong = client.post("/graphql", json={"query": "query($n: Int) { events(first: $n) { edges { cursor } } }",
                                          "variables": {"n": "abc"}}, headers=accept)
    assert wrong.status_code == 400
    assert wrong.headers["content-type"].startswith("application/graphql-response+json")
    assert "data" not in wrong.json()
    assert wrong.json()["errors"][0]["extensions"]["code"] == "invalid_request"


@pytest.mark.parametrize(("variables", "field_said"), [("{not json", "variables: not valid JSON"),
                                                      ("[" * 40 + "]" * 40, "nests deeper than"),
                                                      ('["a list"]', "variables")])
def test_get_variables_must_be_a_json_object_within_the_readers_budget(client, variables, field_said):
    response = client.get("/graphql", params={"query": "{ models { id } }", "variables": variables},
                          headers={"accept": "application/json"})

    assert response.status_code == 400
    error = response.json()["error"]
    assert error["field"] == "variables" and field_said in error["message"]


def test_a_get_without_a_query_is_refused_naming_it(client):
    response = client.get("/graphql", headers={"accept": "application/json"})

    assert response.status_code == 400
    assert response.json()["error"]["field"] == "query"


def test_every_graphql_error_carries_a_code(client):
    for query in ("{ models { id ", "{ nope }", "query A { models { id } } query B { models { id } }"):
        body = client.post("/graphql", json={"query": query}).json()
        assert [e["extensions"]["code"] for e in body["errors"]] == ["invalid_request"], (query, body)


def test_wrong_argument_and_variable_types_are_graphql_errors_not_500s(client):
    literal = client.post("/graphql", json={"query": '{ events(first: "abc") { edges { cursor } } }'})
    assert literal.status_code == 400
    assert "Int cannot represent" in literal.json()["errors"][0]["message"]

    variable = client.post("/graphql", json={"query": "query($n: Int) { events(first: $n) { edges { cursor } } }",
                                             "variables": {"n": "abc"}}).json()
    assert variable["errors"][0]["extensions"]["code"] == "invalid_request"
    assert "Int cannot represent" in variable["errors"][0]["message"]


def test_a_null_bucket_means_the_default_and_a_bad_cursor_is_the_clients_mistake(client):
    metrics = client.post("/graphql", json={"query": '{ eventMetrics(metric: EVENTS_BY_TYPE, range: {from: "2026-01-01T00:00:00Z", '
                                                     'to: "2026-01-02T00:00:00Z"}, bucket: null) { bucket totals { key } } }'}).json()
    assert "errors" not in metrics, metrics
    assert metrics["data"]["eventMetrics"]["bucket"] == "HOUR"

    page = client.post("/graphql", json={"query": '{ events(after: "zzz") { edges { cursor } } }'}).json()
    error = page["errors"][0]
    assert (error["extensions"]["code"], error["extensions"]["field"]) == ("invalid_request", "after")


def test_event_properties_come_back_with_the_clients_own_keys(anonymous, new_key):
    key = new_key("pro")["key"]
    headers = {"x-api-key": key}
    properties = {"page_url": "/a", "a_b": 1, "aB": 2, "nested": {"snake_key": True}}
    landed(anonymous, anonymous.post("/events", json=[{"type": "keys", "properties": properties}], headers=headers), headers=headers)

    page = anonymous.post("/graphql", json={"query": "{ events { edges { node { properties } } } }"}, headers=headers).json()

    assert page["data"]["events"]["edges"][0]["node"]["properties"] == properties


def test_aliased_track_events_share_one_batchs_worth_of_events(anonymous, new_key):
    headers = {"x-api-key": new_key("pro")["key"]}
    fields = " ".join(f'a{i}: trackEvents(events: $e) {{ accepted }}' for i in range(20))
    events = [{"type": "alias", "id": f"e{i}"} for i in range(100)]
    body = anonymous.post("/graphql", json={"query": f"mutation($e: [EventInput!]!) {{ {fields} }}", "variables": {"e": events}},
                          headers=headers).json()

    limit = body["errors"][0]["extensions"]["limit"]
    tracked = [v for v in (body["data"] or {}).values() if v]
    assert len(tracked) * 100 <= limit
    assert {e["extensions"]["code"] for e in body["errors"]} == {"payload_too_large"}



def test_parsed_queries_kept_by_the_isolate_stay_within_their_bytes(host, client):
    graphql = host._isolate["api.graphql"]  # the api isolate's own module (tests/inprocess/host.py)
    for n in range(20):  # 20 distinct queries of 3 KB: their documents take ~430 KB each, ~9 MB unbounded
        query = "{ models { " + "id ownedBy task " * 200 + "} } # " + str(n)
        assert client.post("/graphql", json={"query": query}).status_code == 200

    kept = list(graphql._checked.items())
    assert sum(entry_size(key, document) for key, document in kept) <= graphql.MAX_CHECKED_BYTES
    assert kept[-1][0][0].endswith("# 19")  # the latest is kept, and answered from it again
    assert client.post("/graphql", json={"query": kept[-1][0][0]}).status_code == 200


def test_a_new_query_leaves_no_garbage_waiting_for_the_collector(client):
    def cyclic_garbage_after(queries: list[str]) -> int:
        gc.collect()
        gc.disable()  # what would wait for the collector's next pass
        try:
            for query in queries:
                assert client.post("/graphql", json={"query": query}).status_code == 200
            return gc.collect()
        finally:
            gc.enable()

    repeated = cyclic_garbage_after(["{ models { id } }"] * 20)  # parsed and validated once
    new = cyclic_garbage_after([f"{{ models {{ id }} }} # {n}" for n in range(20)])  # each parsed and validated

    assert new < 2 * repeated + 200
