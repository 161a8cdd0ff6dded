"""Create, list, revoke, limit and rotate API keys through the admin GraphQL API.

    make key ARGS="create --name my-app --tier pro"
    make key ARGS="create --name bot --tier pro --models llama-3.1-8b --budget 20 --period month --soft-budget 15 \
                   --rpm 60 --tpm 20000 --concurrency 5 --expires 2027-06-30T00:00:00Z --meta team=search"
    make key ARGS="policy key_0123456789abcdef --budget 5 --period day"   (replaces the key's whole policy)
    make key ARGS="policy key_0123456789abcdef --clear"                  (back to its tier's limits)
    make key ARGS="rotate key_0123456789abcdef --grace 3600"             (a new secret; the old one works an hour more)
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
POLICY_FIELDS = "allowedModels budgetUsd budgetPeriod softBudgetUsd requestsPerMinute tokensPerMinute maxConcurrent expiresAt metadata"
KEY_FIELDS = f"id prefix name tier createdAt revokedAt rotatedAt previousValidUntil policy {{ {POLICY_FIELDS} }}"


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


def add_policy_options(parser: argparse.ArgumentParser) -> None:
    """A key's own limits (docs/admission.md, "Key policies"): each narrows its tier's."""
    parser.add_argument("--models", help="comma-separated models the key may use (within its tier's)")
    parser.add_argument("--budget", type=float, help="US dollars the key may spend on models per period")
    parser.add_argument("--period", choices=["day", "week", "month"], default="month", help="the budget's calendar period (UTC)")
    parser.add_argument("--soft-budget", type=float, help="spend at which an alert is raised")
    parser.add_argument("--rpm", type=int, help="requests a minute")
    parser.add_argument("--tpm", type=int, help="AI tokens a minute")
    parser.add_argument("--concurrency", type=int, help="AI requests in flight at once")
    parser.add_argument("--expires", help="ISO 8601 instant from which the key is refused")
    parser.add_argument("--meta", action="append", default=[], metavar="NAME=VALUE", help="a metadata entry (repeatable)")


def policy_of(args: argparse.Namespace) -> dict | None:
    """The KeyPolicyInput the options give; None when they set nothing."""
    policy = {"allowedModels": args.models.split(",") if args.models else None, "budgetUsd": args.budget,
              "softBudgetUsd": args.soft_budget, "requestsPerMinute": args.rpm, "tokensPerMinute": args.tpm,
              "maxConcurrent": args.concurrency, "expiresAt": args.expires,
              "metadata": dict(entry.split("=", 1) for entry in args.meta) if args.meta else None}
    policy = {name: value for name, value in policy.items() if value is not None}
    if not policy:
        return None
    return {**policy, "budgetPeriod": args.period.upper()}


def describe(policy: dict | None) -> str:
    if not policy:
        return "its tier's limits"
    shown = {name: value for name, value in policy.items() if value is not None and (name != "budgetPeriod" or policy.get("budgetUsd"))}
    return ", ".join(f"{name} {value}" for name, value in shown.items())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--url", default=os.environ.get("INFERENCE_UI_URL"),
                        help="the server to manage (default: the host `make dev` serves)")
    commands = parser.add_subparsers(dest="command", required=True)
    create = commands.add_parser("create", help="create a key (shown once)")
    create.add_argument("--name", required=True)
    create.add_argument("--tier", choices=["free", "pro", "enterprise"], default="free")
    add_policy_options(create)
    commands.add_parser("list", help="list keys (never the keys themselves)")
    revoke = commands.add_parser("revoke", help="revoke a key by id")
    revoke.add_argument("id")
    policy = commands.add_parser("policy", help="replace a key's policy (the options given; --clear: none)")
    policy.add_argument("id")
    policy.add_argument("--clear", action="store_true", help="remove the key's policy: its tier's limits only")
    add_policy_options(policy)
    rotate = commands.add_parser("rotate", help="a new secret for a key (shown once); the old one works --grace seconds more")
    rotate.add_argument("id")
    rotate.add_argument("--grace", type=int, default=3600)
    args = parser.parse_args()
    try:
        args.url = target_url(args.url)
    except NoServedHost as exc:
        sys.exit(str(exc))

    if args.command == "create":
        data = graphql(args.url, f"mutation($name: String!, $tier: Tier, $policy: KeyPolicyInput) {{ createApiKey(name: $name, "
                                 f"tier: $tier, policy: $policy) {{ key apiKey {{ {KEY_FIELDS} }} }} }}",
                       {"name": args.name, "tier": args.tier.upper(), "policy": policy_of(args)})["createApiKey"]
        info = data["apiKey"]
        print(f"Created {info['id']} ({info['name']}, {info['tier'].lower()} tier; {describe(info['policy'])}). The key, shown only now:")
        print(data["key"])
    elif args.command == "list":
        for key in graphql(args.url, f"{{ apiKeys {{ {KEY_FIELDS} }} }}")["apiKeys"]:
            state = f"revoked {key['revokedAt']}" if key["revokedAt"] else "active"
            print(f"{key['id']}  iui_{key['prefix']}_…  {key['tier'].lower():10}  {key['name']}  ({state}; {describe(key['policy'])})")
    elif args.command == "policy":
        new_policy = None if args.clear else policy_of(args)
        info = graphql(args.url, f"mutation($id: ID!, $policy: KeyPolicyInput) {{ setApiKeyPolicy(id: $id, policy: $policy) "
                                 f"{{ {KEY_FIELDS} }} }}", {"id": args.id, "policy": new_policy})["setApiKeyPolicy"]
        print(f"{info['id']}: {describe(info['policy'])}")
    elif args.command == "rotate":
        data = graphql(args.url, f"mutation($id: ID!, $grace: Int) {{ rotateApiKey(id: $id, graceSeconds: $grace) "
                                 f"{{ key apiKey {{ {KEY_FIELDS} }} }} }}", {"id": args.id, "grace": args.grace})["rotateApiKey"]
        print(f"Rotated {args.id}: the old secret works until {data['apiKey']['previousValidUntil']}. The new key, shown only now:")
        print(data["key"])
    else:
        revoked = graphql(args.url, "mutation($id: ID!) { revokeApiKey(id: $id) }", {"id": args.id})["revokeApiKey"]
        print(f"Revoked {args.id}" if revoked else f"{args.id} was not active (unknown or already revoked)")


if __name__ == "__main__":
    main()
