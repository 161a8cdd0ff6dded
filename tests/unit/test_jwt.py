import pytest

from shared import jwt

SECRET = "s3cret"
NOW = 1_800_000_000


def make(**claims):
    return jwt.encode({"sub": "u1", "exp": NOW + 60, **claims}, SECRET)


def test_a_valid_token_gives_its_claims():
    assert jwt.decode(make(tier="pro"), SECRET, now=NOW)["tier"] == "pro"


@pytest.mark.parametrize(
    ("token", "kwargs", "reason"),
    [
        (make(exp=NOW - 100), {}, "token_expired"),
        (make(exp=1e300), {}, "token_lifetime"),
        (make(exp=NOW + 400 * 86_400), {}, "token_lifetime"),
        (make(exp=True), {}, "token_malformed"),
        (make(nbf=NOW + 100), {}, "token_not_yet_valid"),
        (make() + "x", {}, "token_signature"),
        (jwt.encode({"sub": "u1", "exp": NOW + 60}, "other"), {}, "token_signature"),
        ("a.b", {}, "token_malformed"),
        ("e30.e30.e30", {}, "token_algorithm"),
        (jwt.encode({"exp": NOW + 60}, SECRET), {}, "token_malformed"),
        (jwt.encode({"sub": "u1"}, SECRET), {}, "token_malformed"),
        (make(iss="them"), {"issuer": "us"}, "token_issuer"),
        (make(aud=["x", "y"]), {"audience": "z"}, "token_audience"),
    ],
)
def test_a_bad_token_is_rejected_with_its_reason(token, kwargs, reason):
    with pytest.raises(jwt.TokenRejected) as raised:
        jwt.decode(token, SECRET, now=NOW, **kwargs)

    assert raised.value.reason == reason


def test_leeway_absorbs_small_clock_skew():
    assert jwt.decode(make(exp=NOW - 10), SECRET, now=NOW)["sub"] == "u1"
    assert jwt.decode(make(aud=["x", "api"], iss="us"), SECRET, now=NOW, audience="api", issuer="us")


def test_an_alg_none_token_is_refused_even_unsigned():
    header = "eyJhbGciOiJub25lIn0"  # {"alg":"none"}
    payload = make().split(".")[1]
    with pytest.raises(jwt.TokenRejected):
        jwt.decode(f"{header}.{payload}.", SECRET, now=NOW)
