"""AI agents: the name of the AI crawler or assistant behind a user agent, if it is one.

The patterns come from the maintained `crawler-user-agents` list (entries tagged `ai-crawler`),
plus a few AI agents and assistants that the list files under other tags or lacks. Each pattern
gets a stable readable name (its literal text: `GPTBot`, `ClaudeBot`, `meta-externalagent`), so
the same agent always shows the same name whatever version or casing its user agent carries.

Also home of `PatternSet`, the fast matcher for crawler-user-agents style pattern lists that
`core.device` uses for its crawler and API-client lists.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Sequence
from functools import lru_cache

from crawleruseragents import CRAWLER_USER_AGENTS_DATA

from core.payload import MAX_USER_AGENT

AI_TAG = "ai-crawler"

# AI crawlers, agents and assistants the list lacks or tags otherwise (pattern, name).
EXTRA_AGENTS: tuple[tuple[str, str], ...] = (
    ("Amazonbot", "Amazonbot"),  # tagged search-engine; Amazon uses it for its AI products too
    ("Applebot-Extended", "Applebot-Extended"),
    ("[Mm]eta-[Ee]xternal[Ff]etcher", "meta-externalfetcher"),  # Meta AI fetching for a user
    ("YouBot", "YouBot"),
    ("Timpibot", "Timpibot"),
    ("Diffbot", "Diffbot"),
    ("PanguBot", "PanguBot"),
    ("ImagesiftBot", "ImagesiftBot"),
    ("webzio-extended", "webzio-extended"),
    # tagged browser-automation in the list: AI agents browsing for a user
    ("Google-Agent", "Google-Agent"),
    ("GoogleAgent-Mariner", "GoogleAgent-Mariner"),
    ("Google-Gemini-CLI", "Google-Gemini-CLI"),
    ("Manus-User", "Manus-User"),
    ("Amazon-Bedrock-AgentCore-Browser", "Amazon-Bedrock-AgentCore-Browser"),
    ("AmazonBuyForMe", "AmazonBuyForMe"),
)

# Patterns whose literal text does not make a good name.
_NAME_OVERRIDES = {r"Spider[\s\S]*spider\.com": "Spider.com"}


def ai_agent_of(user_agent: str | None) -> str | None:
    """The AI agent's name when the user agent is an AI crawler or assistant, else None. Only the
    first MAX_USER_AGENT characters are read."""
    if not user_agent:
        return None
    return _ai_agent_of(user_agent if len(user_agent) <= MAX_USER_AGENT else user_agent[:MAX_USER_AGENT])


@lru_cache(maxsize=16384)  # keys of at most MAX_USER_AGENT characters: 16 Mi characters at most
def _ai_agent_of(user_agent: str) -> str | None:
    index = _AGENT_PATTERNS.find(user_agent)
    return None if index is None else _AGENT_NAMES[index]


ai_agent_of.cache_info = _ai_agent_of.cache_info  # the cache behind it
ai_agent_of.cache_clear = _ai_agent_of.cache_clear


def readable_name(pattern: str) -> str:
    """`GPTBot` -> GPTBot; `PerplexityBot\\/` -> PerplexityBot; `[cC]laude[bB]ot` -> ClaudeBot;
    `bigsur\\.ai` -> bigsur.ai; otherwise the literal text before the first regex construct."""
    if pattern in _NAME_OVERRIDES:
        return _NAME_OVERRIDES[pattern]
    forms = _literal_forms(pattern.lstrip("^").rstrip("$"))
    if forms:
        # [cC]laude[bB]ot spells ClaudeBot, claudebot, ...: take the most capitalised spelling
        return max(forms, key=lambda f: sum(c.isupper() for c in f)).strip(" /")
    return re.split(r"[\\\[\](){}.*+?^$|]", pattern.lstrip("^"), maxsplit=1)[0].strip(" /") or pattern


class PatternSet:
    """Which of many regex patterns (crawler-user-agents style) a text matches, fast.

    Matching 1,500 patterns as one plain alternation costs ~300 µs per user agent in Python's
    `re`; most patterns are literals, so those (and simple `[wW]` classes and `(a|b)` groups,
    expanded) go into one trie-shaped regex, `^literal` into startswith, `literal$` into
    endswith; the few real regexes are only tried when a literal they require is present.
    A lookup costs a few µs.
    `find` gives the index of a matching pattern (a literal match first, then prefix, suffix,
    regex), or None.
    """

    def __init__(self, patterns: Sequence[str], *, ignore_case: bool = False) -> None:
        self._fold = ignore_case
        fold = str.lower if ignore_case else (lambda s: s)
        literals: dict[str, int] = {}
        prefixes: dict[str, int] = {}
        suffixes: dict[str, int] = {}
        regexes: list[tuple[str, re.Pattern[str], int]] = []
        for i, pattern in enumerate(patterns):
            if pattern.startswith("^") and (forms := _literal_forms(pattern[1:])) is not None:
                target = prefixes
            elif pattern.endswith("$") and not pattern.endswith("\\$") and (forms := _literal_forms(pattern[:-1])) is not None:
                target = suffixes
            elif (forms := _literal_forms(pattern)) is not None:
                target = literals
            else:
                compiled = re.compile(pattern, re.IGNORECASE if ignore_case else 0)
                regexes.append((fold(_required_literal(pattern)), compiled, i))
                continue
            for form in forms:
                target.setdefault(fold(form), i)
        self._literals = literals
        self._literal_regex = re.compile(_trie_regex(list(literals))) if literals else None
        self._prefixes = prefixes
        self._prefix_tuple = tuple(prefixes)
        self._suffixes = suffixes
        self._suffix_tuple = tuple(suffixes)
        self._regexes = regexes

    def find(self, text: str) -> int | None:
        if self._fold:
            text = text.lower()
        if self._literal_regex is not None and (m := self._literal_regex.search(text)) is not None:
            return self._literals[m.group()]
        if self._prefix_tuple and text.startswith(self._prefix_tuple):
            return next(i for p, i in self._prefixes.items() if text.startswith(p))
        if self._suffix_tuple and text.endswith(self._suffix_tuple):
            return next(i for s, i in self._suffixes.items() if text.endswith(s))
        for literal, regex, i in self._regexes:
            if literal in text and regex.search(text) is not None:
                return i
        return None


def _literal_forms(pattern: str) -> list[str] | None:
    """Every string a simple pattern matches: `[wW]get` -> wget, Wget; `Ahrefs(Bot|SiteAudit)` ->
    AhrefsBot, AhrefsSiteAudit; `bigsur\\.ai` -> bigsur.ai. None for anything more complex."""
    forms: list[str] = []
    for alternative in _split_alternatives(pattern):
        sequence = _sequence_forms(alternative)
        if sequence is None:
            return None
        forms += sequence
    return forms


def _required_literal(pattern: str) -> str:
    """The longest plain text every match of the pattern contains ('' when unsure):
    `(^| )sentry\\/` -> `sentry/`; `Current[\\s\\S]*RSS Reader` -> `RSS Reader`."""
    if len(_split_alternatives(pattern)) > 1:
        return ""
    runs, run, depth, i = [""], "", 0, 0
    while i < len(pattern):
        ch = pattern[i]
        if ch == "\\" and i + 1 < len(pattern) and not pattern[i + 1].isalnum():
            char, i = pattern[i + 1], i + 2
        elif ch in "[{":  # a class or a repeat count: skip its body
            runs.append(run)
            run, i = "", (pattern.find("]" if ch == "[" else "}", i + 1) + 1) or len(pattern)
            continue
        elif ch == "\\" or ch in ".()^$|*+?":  # \d, \s, ... and the other constructs
            depth += (ch == "(") - (ch == ")")
            runs.append(run)
            run, i = "", i + (2 if ch == "\\" else 1)
            continue
        else:
            char, i = ch, i + 1
        if depth or (i < len(pattern) and pattern[i] in "*?{"):  # inside a group, or optional
            runs.append(run)
            run = ""
        else:
            run += char
    runs.append(run)
    return max(runs, key=len)


def _split_alternatives(pattern: str) -> list[str]:
    parts, current, depth, i = [], "", 0, 0
    while i < len(pattern):
        ch = pattern[i]
        if ch == "\\":
            current += pattern[i : i + 2]
            i += 2
            continue
        if ch in "([":
            depth += 1
        elif ch in ")]":
            depth -= 1
        if ch == "|" and depth == 0:
            parts.append(current)
            current = ""
        else:
            current += ch
        i += 1
    parts.append(current)
    return parts


def _sequence_forms(pattern: str) -> list[str] | None:
    choices: list[list[str]] = []
    i = 0
    while i < len(pattern):
        ch = pattern[i]
        if ch == "\\":
            escaped = pattern[i + 1 : i + 2]
            if not escaped or escaped.isalnum():
                return None
            choices.append([escaped])
            i += 2
        elif ch == "[":
            end = pattern.find("]", i)
            body = pattern[i + 1 : end]
            if end < 0 or not body or any(c in body for c in "\\^-["):
                return None
            choices.append(list(body))
            i = end + 1
        elif ch == "(":
            end = pattern.find(")", i)
            body = pattern[i + 1 : end]
            if end < 0 or body.startswith("?") or "(" in body:
                return None
            inner = _literal_forms(body)
            if inner is None:
                return None
            choices.append(inner)
            i = end + 1
        elif ch in ".*+?{}^$|)]":
            return None
        else:
            choices.append([ch])
            i += 1
    if not choices:
        return None
    return ["".join(t) for t in itertools.product(*choices)]


def _trie_regex(words: list[str]) -> str:
    """A regex matching any of the words, shaped as a trie so the engine tries each first
    character once instead of every word. A word that extends a shorter one is dropped: the
    shorter one already matches wherever it would."""
    trie: dict = {}
    for word in sorted(set(words), key=len):
        node = trie
        for ch in word:
            if "" in node:
                break
            node = node.setdefault(ch, {})
        else:
            node.clear()
            node[""] = {}

    def build(node: dict) -> str:
        if "" in node:
            return ""
        alternatives = [re.escape(ch) + build(child) for ch, child in sorted(node.items())]
        return alternatives[0] if len(alternatives) == 1 else "(?:" + "|".join(alternatives) + ")"

    return build(trie)


def _agents() -> list[tuple[str, str]]:
    agents = [(e["pattern"], readable_name(e["pattern"])) for e in CRAWLER_USER_AGENTS_DATA if AI_TAG in e.get("tags", ())]
    known = {pattern for pattern, _ in agents}
    return agents + [(pattern, name) for pattern, name in EXTRA_AGENTS if pattern not in known]


_AGENTS = _agents()
_AGENT_NAMES = [name for _, name in _AGENTS]
_AGENT_PATTERNS = PatternSet([pattern for pattern, _ in _AGENTS])
