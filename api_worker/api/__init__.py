"""inference-ui-api: the public worker's request pipeline and routes."""
