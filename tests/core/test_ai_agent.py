"""AI agents are named from the crawler-user-agents list (tag ai-crawler) plus a few extras."""

import pytest
from crawleruseragents import CRAWLER_USER_AGENTS_DATA

from core.ai_agent import PatternSet, ai_agent_of, readable_name

CHROME = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/126.0.0.0 Safari/537.36"
)


@pytest.mark.parametrize(
    ("user_agent", "name"),
    [
        ("Mozilla/5.0 AppleWebKit/537.36 (KHTML, like Gecko; compatible; GPTBot/1.2; +https://openai.com/gptbot)", "GPTBot"),
        ("Mozilla/5.0 AppleWebKit/537.36 (KHTML, like Gecko); compatible; ChatGPT-User/1.0; +https://openai.com/bot", "ChatGPT-User"),
        ("Mozilla/5.0 AppleWebKit/537.36 (KHTML, like Gecko); compatible; OAI-SearchBot/1.0; +https://openai.com/searchbot", "OAI-SearchBot"),
        ("Mozilla/5.0 AppleWebKit/537.36 (KHTML, like Gecko; compatible; ClaudeBot/1.0; +claudebot@anthropic.com)", "ClaudeBot"),
        ("Mozilla/5.0 AppleWebKit/537.36 (KHTML, like Gecko; compatible; Claude-User/1.0; +Claude-User@anthropic.com)", "Claude-User"),
        ("Mozilla/5.0 AppleWebKit/537.36 (KHTML, like Gecko; compatible; PerplexityBot/1.0; +https://perplexity.ai/perplexitybot)", "PerplexityBot"),
        ("Mozilla/5.0 AppleWebKit/537.36 (KHTML, like Gecko; compatible; Perplexity-User/1.0; +https://perplexity.ai/perplexity-user)", "Perplexity-User"),
        ("Mozilla/5.0 AppleWebKit/537.36 (KHTML, like Gecko; compatible; MistralAI-User/1.0; +https://docs.mistral.ai/robots)", "MistralAI-User"),
        ("CCBot/2.0 (https://commoncrawl.org/faq/)", "CCBot"),
        ("Mozilla/5.0 (compatible; Google-Extended/1.0; +http://www.google.com/bot.html)", "Google-Extended"),
        ("Mozilla/5.0 (Linux; Android 5.0) AppleWebKit/537.36 (KHTML, like Gecko) Mobile Safari/537.36 (compatible; Bytespider; spider-feedback@bytedance.com)", "Bytespider"),
        ("meta-externalagent/1.1 (+https://developers.facebook.com/docs/sharing/webmasters/crawler)", "meta-externalagent"),
        ("cohere-ai", "cohere-ai"),
        # not tagged ai-crawler in the list: the extras
        ("Mozilla/5.0 (Macintosh; Intel Mac OS X 10_10_1) AppleWebKit/600.2.5 (KHTML, like Gecko) Version/8.0.2 Safari/600.2.5 (Amazonbot/0.1; +https://developer.amazon.com/support/amazonbot)", "Amazonbot"),
        ("Mozilla/5.0 (compatible; Applebot-Extended/0.1; +http://www.apple.com/go/applebot)", "Applebot-Extended"),
        ("meta-externalfetcher/1.1 (+https://developers.facebook.com/docs/sharing/webmasters/crawler)", "meta-externalfetcher"),
        ("Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko; compatible; Google-Agent)", "Google-Agent"),
    ],
)
def test_known_ai_agents_get_a_readable_name(user_agent, name):
    assert ai_agent_of(user_agent) == name


def test_a_case_variant_of_a_pattern_gets_the_same_name():
    assert ai_agent_of("claudebot") == ai_agent_of("ClaudeBot/1.0") == "ClaudeBot"


@pytest.mark.parametrize(
    "user_agent",
    [
        CHROME,
        "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1",
        "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",  # a crawler, but no AI agent
        "curl/8.4.0",
        "python-requests/2.31.0",
    ],
)
def test_browsers_search_crawlers_and_http_clients_are_not_ai_agents(user_agent):
    assert ai_agent_of(user_agent) is None


@pytest.mark.parametrize("user_agent", [None, ""])
def test_no_user_agent_is_no_ai_agent(user_agent):
    assert ai_agent_of(user_agent) is None


def test_every_example_of_the_lists_ai_crawlers_is_recognised():
    examples = [
        instance
        for entry in CRAWLER_USER_AGENTS_DATA
        if "ai-crawler" in entry.get("tags", ())
        for instance in entry.get("instances", ())
    ]
    assert examples
    assert [ua for ua in examples if ai_agent_of(ua) is None] == []


@pytest.mark.parametrize(
    ("pattern", "name"),
    [
        ("GPTBot", "GPTBot"),
        ("PerplexityBot\\/", "PerplexityBot"),
        ("[cC]laude[bB]ot", "ClaudeBot"),
        ("bigsur\\.ai", "bigsur.ai"),
        ("^Scrapy", "Scrapy"),
    ],
)
def test_pattern_names_are_the_patterns_literal_text(pattern, name):
    assert readable_name(pattern) == name


def test_a_pattern_set_finds_the_pattern_that_matches_literals_classes_anchors_and_regexes():
    patterns = ["GPTBot", "[wW]get", "^curl", "Bar$", "Spider[\\s\\S]*spider\\.com", "(^| )sentry\\/"]
    found = PatternSet(patterns)
    assert found.find("x GPTBot/1.0") == 0
    assert found.find("Wget/1.21") == 1
    assert found.find("curl/8") == 2
    assert found.find("x curl/8") is None  # anchored
    assert found.find("FooBar") == 3
    assert found.find("Spider (+https://spider.com)") == 4
    assert found.find("sentry/1.0") == 5
    assert found.find("Mozilla/5.0") is None


def test_a_pattern_set_can_ignore_case():
    assert PatternSet(["python-requests/"], ignore_case=True).find("Python-Requests/2.0") == 0
    assert PatternSet(["python-requests/"]).find("Python-Requests/2.0") is None


def test_a_pattern_set_agrees_with_the_whole_crawler_list_as_one_regex():
    import re

    patterns = [entry["pattern"] for entry in CRAWLER_USER_AGENTS_DATA]
    every = re.compile("|".join(patterns))
    fast = PatternSet(patterns)
    samples = [i for entry in CRAWLER_USER_AGENTS_DATA for i in entry.get("instances", ())] + [CHROME]
    for ua in samples:
        index = fast.find(ua)
        assert (index is not None) == (every.search(ua) is not None), ua
        if index is not None:
            assert re.search(patterns[index], ua), (ua, patterns[index])
