"""inference-service: the private worker's logic, one module per capability."""
