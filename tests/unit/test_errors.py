from shared.errors import STATUS_BY_CODE, ApiError, ErrorCode, error_body


def test_every_code_has_a_client_or_server_error_status():
    assert set(STATUS_BY_CODE) == set(ErrorCode)
    assert all(400 <= status < 600 for status in STATUS_BY_CODE.values())


def test_error_body_has_code_message_and_details():
    assert error_body(ErrorCode.INVALID_REQUEST, "bad", field="messages") == {
        "error": {"code": "invalid_request", "message": "bad", "field": "messages"}
    }


def test_api_error_maps_code_to_status_and_keeps_headers():
    err = ApiError(ErrorCode.RATE_LIMITED, "slow down", headers={"retry-after": "3"})

    assert err.status == 429
    assert err.headers == {"retry-after": "3"}
    assert err.body()["error"]["code"] == "rate_limited"
