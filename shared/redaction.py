"""What a kept payload (shared/payloads.py) must not hold, found by pattern and replaced by a
marker naming its kind: keys and tokens first (their characters could pass for a phone or card
number), then email addresses, card numbers (13 to 19 digits passing the Luhn check, spaced or
not) and phone numbers. A pattern may redact a little more than a secret (a long number that is
no phone); it is built to miss none of the forms tests/fixtures/redaction_corpus.json lists."""

import re
from collections.abc import Callable

REDACTED = "[REDACTED:{}]"

# A name that says its value is secret (api_key, client_secret, X-Auth-Token, password, ...) and
# what separates it from the value.
_NAMED = r"(?i:\b[\w-]*(?:api[_-]?key|access[_-]?token|auth[_-]?token|secret|password|passwd)[\w-]*[\"']?\s*[:=]\s*[\"']?)"

# Keys and tokens by their published forms, then a value following a name that says it is secret.
_SECRETS = re.compile("|".join([
    r"\biui_[a-z0-9]{8}_[A-Za-z0-9_-]{20,}",  # this project's API keys
    r"\bsk-(?:ant-|proj-)?[A-Za-z0-9_-]{16,}",  # OpenAI, Anthropic
    r"\b(?:ghp|gho|ghu|ghs|ghr)_[A-Za-z0-9]{20,}",  # GitHub
    r"\bgithub_pat_[A-Za-z0-9_]{20,}",
    r"\bxox[abposr]-[A-Za-z0-9-]{10,}",  # Slack
    r"\b(?:AKIA|ASIA)[0-9A-Z]{16}\b",  # AWS access key ids
    r"\bAIza[0-9A-Za-z_-]{35}",  # Google
    r"\b[rs]k_(?:live|test)_[A-Za-z0-9]{16,}",  # Stripe
    r"\beyJ[A-Za-z0-9_-]+\.eyJ[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+",  # a JWT
    r"(?i:\bbearer\s+)[A-Za-z0-9._~+/=-]{16,}",
    _NAMED + r"[^\s\"',;]{6,}",
]))
_EMAIL = re.compile(r"\b[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}\b")
_CARD = re.compile(r"\b\d(?:[ -]?\d){12,18}\b")
# An international number (+ and 7 to 15 digits), or a national one with an area code in
# parentheses or three groups (555-123-4567, 555.123.4567, 020 7946 0958).
_PHONE = re.compile(r"(?<![\w+])(?:\+\d(?:[ .-]?\(?\d\)?){6,14}|\(\d{2,4}\)[ .-]?\d{3,4}[ .-]?\d{3,4}|\d{3,4}[ .-]\d{3,4}[ .-]\d{4})(?!\w)")


def _luhn(digits: str) -> bool:
    total = 0
    for position, digit in enumerate(reversed(digits)):
        value = int(digit) * (2 if position % 2 else 1)
        total += value - 9 if value > 9 else value
    return total % 10 == 0


def _card(match: re.Match[str]) -> str:
    digits = re.sub(r"\D", "", match.group())
    return REDACTED.format("card") if _luhn(digits) else match.group()


def _secret(match: re.Match[str]) -> str:
    # A name=value pair keeps its name: what was there stays readable, the value does not.
    text = match.group()
    named = re.match(_NAMED, text)
    bearer = re.match(r"(?i)(bearer\s+)", text)
    prefix = named.group() if named else bearer.group(1) if bearer else ""
    return prefix + REDACTED.format("secret")


_RULES: list[tuple[re.Pattern[str], Callable[[re.Match[str]], str]]] = [
    (_SECRETS, _secret),
    (_EMAIL, lambda m: REDACTED.format("email")),
    (_CARD, _card),
    (_PHONE, lambda m: REDACTED.format("phone")),
]


def redact(text: str) -> str:
    """`text` with every secret, email address, card number and phone number replaced."""
    for pattern, replace in _RULES:
        text = pattern.sub(replace, text)
    return text
