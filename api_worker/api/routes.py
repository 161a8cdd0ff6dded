"""Every route of the api worker, in one table (plain data: tests enumerate it on CPython)."""

from api.router import Router

router = Router()
router.add("GET", "/health", "api.health:get_health", public=True)
router.add("POST", "/stream/chat", "api.generation:post_chat", kind="ai")
router.add("POST", "/stream/completion", "api.generation:post_completion", kind="ai")
router.add("POST", "/stream/object", "api.generation:post_object", kind="ai")
router.add("POST", "/v1/chat/completions", "api.openai:post_chat_completions", kind="ai")
router.add("POST", "/v1/embeddings", "api.openai:post_embeddings", kind="ai")
router.add("GET", "/v1/models", "api.openai:get_models")
router.add("GET", "/v1/models/{model:path}", "api.openai:get_model")
router.add("POST", "/v1/completions", "api.openai:post_completions", kind="ai")
router.add("POST", "/events", "api.events:post_events", kind="events")
router.add("GET", "/events/batches/{batch_id}", "api.events:get_batch")
router.add("GET", "/v1/usage", "api.usage:get_usage")
router.add("POST", "/v1/documents", "api.documents:post_document", kind="ai")
router.add("GET", "/v1/documents", "api.documents:list_documents")
router.add("GET", "/v1/documents/{id}", "api.documents:get_document")
router.add("DELETE", "/v1/documents/{id}", "api.documents:delete_document")
router.add("POST", "/v1/documents/{id}/resume", "api.documents:resume_document", kind="ai")
router.add("GET", "/graphql", "api.graphql:get_graphiql", admin=True)
router.add("POST", "/graphql", "api.graphql:post_graphql", admin=True)
