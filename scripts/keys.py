"""Create, list and revoke API keys through the admin GraphQL API.

    make key ARGS="create --name my-app --tier pro"
    make key ARGS="list"
    make key ARGS="revoke key_0123456789abcdef"

Talks to the server --url (or INFERENCE_UI_URL) names, else to the host `make dev` serves, once
it has proved it is that host (scripts/served_host.py); with neither it refuses, so the token
never goes to whatever listens on some port. The admin token comes from ADMIN_TOKEN in the
environment, else from .dev.vars.
"""

import argparse
import os
import sys
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from scripts.dev_vars import dev_var  # noqa: E402
from scripts.served_host import NoServedHost, target_url  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
KEY_FIELDS = "id prefix name tier createdAt revokedAt"


def admin_token() -> str:
    if token := dev_var("ADMIN_TOKEN"):
        return token
    sys.exit("No admin token: set ADMIN_TOKEN, or run `make setup` to write .dev.vars")


def graphql(url: str, query: str, variables: dict | None = None) -> dict:
    response = httpx.post(f"{url.rstrip('/')}/graphql", json={"query": query, "variables": variables or {}},
                          headers={"authorization": f"Bearer {admin_token()}"}, timeout=30)
    body = response.json()
    if response.status_code != 200 or body.get("errors"):
        sys.exit(f"error: {body.get('errors') or body.get('error')}")
    return body["data"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--url", default=os.environ.get("INFERENCE_UI_URL"),
                        help="the server to manage (default: the host `make dev` serves)")
    commands = parser.add_subparsers(dest="command", required=True)
    create = commands.add_parser("create", help="create a key (shown once)")
    create.add_argument("--name", required=True)
    create.add_argument("--tier", choices=["free", "pro", "enterprise"], default="free")
    commands.add_parser("list", help="list keys (never the keys themselves)")
    revoke = commands.add_parser("revoke", help="revoke a key by id")
    revoke.add_argument("id")
    args = parser.parse_args()
    try:
        args.url = target_url(args.url)
    except NoServedHost as exc:
        sys.exit(str(exc))

    if args.command == "create":
        data = graphql(args.url, f"mutation($name: String!, $tier: Tier) {{ createApiKey(name: $name, tier: $tier) "
                                 f"{{ key apiKey {{ {KEY_FIELDS} }} }} }}",
                       {"name": args.name, "tier": args.tier.upper()})["createApiKey"]
        info = data["apiKey"]
        print(f"Created {info['id']} ({info['name']}, {info['tier'].lower()} tier). The key, shown only now:")
        print(data["key"])
    elif args.command == "list":
        for key in graphql(args.url, f"{{ apiKeys {{ {KEY_FIELDS} }} }}")["apiKeys"]:
            state = f"revoked {key['revokedAt']}" if key["revokedAt"] else "active"
            print(f"{key['id']}  iui_{key['prefix']}_…  {key['tier'].lower():10}  {key['name']}  ({state})")
    else:
        revoked = graphql(args.url, "mutation($id: ID!) { revokeApiKey(id: $id) }", {"id": args.id})["revokeApiKey"]
        print(f"Revoked {args.id}" if revoked else f"{args.id} was not active (unknown or already revoked)")


if __name__ == "__main__":
    main()
