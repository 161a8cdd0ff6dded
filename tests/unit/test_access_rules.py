
from api import cors
from shared.keys import hash_key, new_key, parse_key
from shared.tiers import TIERS, limits_for


def test_new_keys_parse_back_to_their_prefix_and_hash():
    key, prefix, digest = new_key()

    assert parse_key(key) == (prefix, digest)
    assert digest == hash_key(key) and key not in digest
    assert new_key()[0] != key


def test_malformed_keys_do_not_parse():
    for presented in ("iui_short_x", "sk-abc", "iui_ABCDEFGH_" + "a" * 32, ""):
        assert parse_key(presented) is None


def test_tier_limits_and_var_overrides():
    deployed = {"TIER_FREE_REQUESTS_PER_MINUTE": "60", "TIER_FREE_ALLOWED_MODELS": "*"}

    free = limits_for("free", deployed.get)
    assert free.requests_per_minute == 60
    assert free.allows_model("@cf/meta/llama-3.3-70b-instruct-fp8-fast")
    assert free.tokens_per_day == TIERS["free"].tokens_per_day
    assert not limits_for("free").allows_model("@cf/meta/llama-3.3-70b-instruct-fp8-fast")
    assert limits_for("unknown-tier") == TIERS["free"]


def test_cors_allowlist():
    allowlist = cors.parse_allowlist("https://app.example, http://localhost:3000/")

    assert cors.is_allowed("http://localhost:3000", allowlist)
    assert not cors.is_allowed("https://evil.example", allowlist)
    assert not cors.is_allowed(None, allowlist)
    assert cors.response_headers("https://evil.example", allowlist) == {}
    assert cors.is_allowed("https://anything.example", cors.parse_allowlist("*"))
    headers = cors.preflight_headers("https://app.example", allowlist, ["POST"])
    assert headers["access-control-allow-origin"] == "https://app.example"
    assert headers["access-control-allow-methods"] == "POST, OPTIONS"
