"""`make jwt`: a token the api accepts, signed with the local secret, for the user and tier asked."""

import time

import pytest

from scripts import jwt_token
from shared import jwt


@pytest.fixture
def project(tmp_path, monkeypatch):
    monkeypatch.delenv("JWT_SECRET", raising=False)
    (tmp_path / ".dev.vars").write_text("ADMIN_TOKEN=admin\nJWT_SECRET=local-secret-0123\n")
    (tmp_path / "wrangler.toml").write_text('[vars]\nJWT_ISSUER = ""\nJWT_AUDIENCE = "inference-ui"\n')
    return tmp_path


def test_the_token_is_signed_with_the_dev_secret_for_the_user_and_tier(project):
    token = jwt_token.main(["--sub", "user-1", "--tier", "pro"], root=project)

    claims = jwt.decode(token, "local-secret-0123", audience="inference-ui")
    assert (claims["sub"], jwt.claimed_tier(claims)) == ("user-1", "pro")
    assert "iss" not in claims
    assert 3500 < claims["exp"] - time.time() <= 3600


def test_a_token_signed_with_another_secret_is_refused(project):
    token = jwt_token.main(["--sub", "user-1"], root=project)

    with pytest.raises(jwt.TokenRejected) as raised:
        jwt.decode(token, "another-secret")
    assert raised.value.reason == "token_signature"


def test_the_environment_s_secret_comes_first(project, monkeypatch):
    monkeypatch.setenv("JWT_SECRET", "from-the-environment")

    assert jwt.decode(jwt_token.main(["--sub", "u", "--minutes", "5"], root=project), "from-the-environment")["sub"] == "u"
