"""The base of every contract model."""

from pydantic import BaseModel, ConfigDict


class Model(BaseModel):
    # A validator is built when its model is first used, not at import: a worker's cold
    # start pays only for the models its first request touches.
    model_config = ConfigDict(defer_build=True)
