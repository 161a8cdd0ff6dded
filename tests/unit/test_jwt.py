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


def token_with_parts(header: bytes, claims: bytes) -> str:
    return f"{jwt._b64encode(header)}.{jwt._b64encode(claims)}.{jwt._b64encode(b'sig')}"


@pytest.mark.parametrize("part", ["header", "claims"])
def test_a_part_nested_thousands_deep_is_malformed_not_a_crash(part):
    deep = b"[" * 5_000 + b"]" * 5_000  # 10 KB; json.loads recursed once a level and blew the stack
    valid = b'{"alg":"HS256","typ":"JWT"}' if part == "claims" else b'{"sub":"u1"}'
    token = token_with_parts(deep, valid) if part == "header" else token_with_parts(valid, deep)

    with pytest.raises(jwt.TokenRejected) as raised:
        jwt.decode(token, SECRET, now=NOW)

    assert raised.value.reason == "token_malformed"
    assert part in str(raised.value)


def test_a_part_past_the_size_budget_is_malformed():
    claims = b'{"sub":"u1","pad":"' + b"x" * jwt.MAX_PART_BYTES + b'"}'
    with pytest.raises(jwt.TokenRejected) as raised:
        jwt.decode(token_with_parts(b'{"alg":"HS256"}', claims), SECRET, now=NOW)

    assert raised.value.reason == "token_malformed"


def test_a_part_that_is_not_utf8_is_malformed():
    with pytest.raises(jwt.TokenRejected) as raised:
        jwt.decode(token_with_parts(b'{"alg":"HS256","x":"\xed\xa0\x80"}', b'{"sub":"u1"}'), SECRET, now=NOW)

    assert raised.value.reason == "token_malformed"


def test_nested_custom_claims_within_the_budget_are_kept():
    assert jwt.decode(make(app={"roles": [["a", "b"]]}), SECRET, now=NOW)["app"] == {"roles": [["a", "b"]]}


@pytest.mark.parametrize(("claims", "tier"), [({"tier": "pro"}, "pro"), ({}, "free"), ({"tier": None}, "free"),
                                              ({"tier": "platinum"}, "free")])
def test_the_tier_claim_names_the_tier_or_falls_back_to_free(claims, tier):
    assert jwt.claimed_tier(jwt.decode(make(**claims), SECRET, now=NOW)) == tier


@pytest.mark.parametrize("tier", [["pro"], {"name": "pro"}, 1, True])
def test_a_tier_claim_that_is_not_a_string_is_a_malformed_token_saying_so(tier):
    with pytest.raises(jwt.TokenRejected) as raised:
        jwt.claimed_tier(jwt.decode(make(tier=tier), SECRET, now=NOW))

    assert raised.value.reason == "token_malformed"
    assert "tier" in str(raised.value)
