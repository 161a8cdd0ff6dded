"""`make jwt`: a JWT for local use, as a first-party app's backend would mint one for its user:
HS256, signed with JWT_SECRET (the environment's, else .dev.vars', which `make setup` wrote and
the local host reads), with `iss` and `aud` when wrangler.toml's JWT_ISSUER and JWT_AUDIENCE are
set. Prints the token only, so it can be captured:

    make jwt ARGS="--sub user-1 --tier pro"
    TOKEN=$(make -s jwt ARGS="--sub user-1 --minutes 5")
    curl localhost:8787/v1/usage -H "authorization: Bearer $TOKEN"
"""

import argparse
import sys
import time
import tomllib
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from scripts.dev_vars import ROOT, dev_var  # noqa: E402
from shared import jwt  # noqa: E402
from shared.tiers import TIERS  # noqa: E402


def claims_for(sub: str, tier: str, minutes: int, root: Path = ROOT, now: float | None = None) -> dict:
    now = int(time.time() if now is None else now)
    claims = {"sub": sub, "tier": tier, "iat": now, "exp": now + minutes * 60}
    variables = tomllib.loads((root / "wrangler.toml").read_text()).get("vars", {})
    for claim, var in (("iss", "JWT_ISSUER"), ("aud", "JWT_AUDIENCE")):
        if variables.get(var):
            claims[claim] = variables[var]
    return claims


def main(argv: list[str] | None = None, root: Path = ROOT) -> str:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sub", required=True, help="the user: the caller becomes jwt:<sub>")
    parser.add_argument("--tier", choices=sorted(TIERS), default="free")
    parser.add_argument("--minutes", type=int, default=60, help="until it expires (default 60)")
    args = parser.parse_args(argv)
    secret = dev_var("JWT_SECRET", root)
    if not secret:
        sys.exit("No JWT secret: set JWT_SECRET, or run `make setup` to write .dev.vars")
    return jwt.encode(claims_for(args.sub, args.tier, args.minutes, root), secret)


if __name__ == "__main__":
    print(main())
