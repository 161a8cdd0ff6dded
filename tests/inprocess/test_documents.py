"""Documents: a bad document or retrieval option is refused, naming what is wrong."""


import pytest


@pytest.mark.parametrize(("request_args", "status", "field"), [
    ({"json": {"title": "T", "text": "x" * (512 * 1024 + 1)}}, 400, "text"),
    ({"json": {"title": "", "text": "words"}}, 400, "title"),
    ({"json": {"title": "T", "text": "   "}}, 400, "text"),
    ({"json": {"title": "T", "text": "ok", "metadata": {"k": "v" * 3000}}}, 400, "metadata"),
    ({"content": b"words", "headers": {"content-type": "text/plain"}}, 400, "title"),
    ({"content": b"\xff\xfe", "headers": {"content-type": "text/plain"}, "params": {"title": "T"}}, 400, "body"),
])
def test_a_bad_document_is_refused_naming_the_field(client, request_args, status, field):
    response = client.post("/v1/documents", **request_args)

    assert response.status_code == status, response.text
    assert response.json()["error"]["param"] == field


def test_a_bad_retrieval_option_is_refused_naming_it(client):
    response = client.post("/v1/chat/completions", json={"model": "llama-3.1-8b", "messages": [{"role": "user", "content": "hi"}],
                                                         "retrieval": {"top_k": 50}})

    assert response.status_code == 400
    assert response.json()["error"]["param"] == "retrieval.top_k"
