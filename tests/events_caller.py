"""A caller of the events API with a pro key of its own, as both suites drive it (over HTTP to
the local workerd host, or in process): its metrics hold only what its test sent."""

from datetime import UTC, datetime

from tests.e2e.conftest import landed


def iso(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, UTC).isoformat().replace("+00:00", "Z")


class Caller:
    def __init__(self, client, key: str, key_id: str | None = None) -> None:
        self.client, self.key = client, key
        self.key_id = key_id  # the index of its Analytics Engine points

    def post(self, path, **kwargs):
        return self.client.post(path, headers={"x-api-key": self.key}, **kwargs)

    def landed(self, response):
        return landed(self.client, response, headers={"x-api-key": self.key})

    def send(self, events):
        """Posts a batch and waits until it is indexed: its status."""
        return self.landed(self.post("/events", json=events))

    def graphql(self, query, **variables):
        response = self.post("/graphql", json={"query": query, "variables": variables})
        return response.json()

    def metrics(self, metric, start, end, bucket="HOUR", **filter_):
        body = self.graphql(
            "query($m: Metric!, $r: TimeRange!, $b: Bucket, $f: MetricFilter) { eventMetrics(metric: $m, range: $r, bucket: $b, filter: $f) "
            "{ points { bucket key value } totals { key value } cached } }",
            m=metric, r={"from": iso(start), "to": iso(end)}, b=bucket, f=filter_ or None)
        assert "errors" not in body, body
        return body["data"]["eventMetrics"]

    def events_counted(self) -> int:
        """The key's events of the day, as usage reports them."""
        return self.graphql("{ usage { events } }")["data"]["usage"]["events"]
