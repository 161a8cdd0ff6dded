"""Who may be served whose cached answers: by default each caller (its key, or its JWT's subject)
only its own. An admin names groups of callers that share one pool of answers
(GENERATION_CACHE_SCOPE) and the callers whose similar questions are answered from the semantic
cache (SEMANTIC_CACHE). A caller is named by its tier (`tier:pro`) or its key id (`key:<id>`);
`*` names every caller.

    GENERATION_CACHE_SCOPE = "caller"                       # the default: nobody shares
    GENERATION_CACHE_SCOPE = "shared"                       # every caller shares one pool
    GENERATION_CACHE_SCOPE = "tier:team; key:k1, key:k2"    # two pools: the team tier's keys; k1 and k2
"""

from dataclasses import dataclass

from shared.contract import Caller

EVERYONE = "*"


@dataclass(frozen=True)
class CallerSet:
    """Callers named by tier, by key id, or all of them."""

    tiers: frozenset[str] = frozenset()
    keys: frozenset[str] = frozenset()
    everyone: bool = False

    def holds(self, caller: Caller) -> bool:
        return self.everyone or caller.tier in self.tiers or caller.key_id in self.keys

    def name(self) -> str:
        """The same text for the same set, however its members were ordered."""
        if self.everyone:
            return EVERYONE
        return ",".join(sorted({f"tier:{t}" for t in self.tiers} | {f"key:{k}" for k in self.keys}))


def caller_set(text: str, var: str) -> CallerSet:
    """A comma-separated list of `tier:<name>`, `key:<id>` or `*` (`all` and `shared` say `*` too)."""
    tiers, keys, everyone = set(), set(), False
    for member in (part.strip() for part in text.split(",")):
        kind, _, name = member.partition(":")
        if member.lower() in (EVERYONE, "all", "shared"):
            everyone = True
        elif kind == "tier" and name:
            tiers.add(name)
        elif kind == "key" and name:
            keys.add(name)
        elif member:
            raise ValueError(f"{var}: {member!r} names no caller; use tier:<name>, key:<id> or *")
    return CallerSet(frozenset(tiers), frozenset(keys), everyone)


@dataclass(frozen=True)
class CacheScopes:
    """The shared pools, in the order the admin listed them: a caller in two is in the first."""

    pools: tuple[CallerSet, ...] = ()

    def scope_of(self, caller: Caller) -> str:
        """The cache scope whose answers `caller` is served and adds to."""
        for pool in self.pools:
            if pool.holds(caller):
                return f"shared:{pool.name()}"
        return f"caller:{caller.key_id}"


def cache_scopes(text: str) -> CacheScopes:
    """GENERATION_CACHE_SCOPE: `caller`, or pools of callers separated by `;`."""
    if text.strip().lower() in ("", "caller"):
        return CacheScopes()
    return CacheScopes(tuple(caller_set(pool, "GENERATION_CACHE_SCOPE") for pool in text.split(";") if pool.strip()))


def semantic_callers(text: str) -> CallerSet:
    """SEMANTIC_CACHE: the callers whose similar questions are answered from their own earlier answers."""
    return CallerSet() if text.strip().lower() in ("", "none", "off") else caller_set(text, "SEMANTIC_CACHE")
