"""The base of every contract model."""

from pydantic import BaseModel


class Model(BaseModel):
    """A model's validator is built when its class is made, at import: a worker's top level runs
    once, at deploy, and every isolate is restored from a snapshot of it, so no request builds one
    (docs/architecture.md, "Top level and snapshot")."""
