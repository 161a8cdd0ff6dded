"""The /v1 routes' paths: a model id with its slashes is a path of its own."""


DEFAULT_MODEL = "@cf/meta/llama-3.1-8b-instruct-fast"


def test_a_model_id_sent_with_its_slashes_unescaped_is_found(client):
    response = client.get(f"/v1/models/{DEFAULT_MODEL}")

    assert response.status_code == 200, response.text
    assert response.json()["id"] == DEFAULT_MODEL
