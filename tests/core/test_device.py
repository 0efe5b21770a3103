"""Device kind, OS and browser from the user agent."""

import dataclasses

import pytest

from core.device import KINDS, Device, device_of

CHROME_WINDOWS = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36"
)
SAFARI_MAC = (
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Safari/605.1.15"
)
FIREFOX_LINUX = "Mozilla/5.0 (X11; Linux x86_64; rv:125.0) Gecko/20100101 Firefox/125.0"
IPHONE = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) "
    "Version/17.5 Mobile/15E148 Safari/604.1"
)
ANDROID_PHONE = (
    "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Mobile Safari/537.36"
)
IPAD = (
    "Mozilla/5.0 (iPad; CPU OS 17_0 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.0 "
    "Mobile/15E148 Safari/604.1"
)
ANDROID_TABLET = (
    "Mozilla/5.0 (Linux; Android 13; SM-X700) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 Safari/537.36"
)
KINDLE = (
    "Mozilla/5.0 (Linux; U; Android 4.0.3; en-us; KFTT Build/IML74K) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Silk/3.68 like Chrome/39.0.2171.93 Safari/537.36"
)
FIREFOX_TABLET = "Mozilla/5.0 (Android 14; Tablet; rv:125.0) Gecko/125.0 Firefox/125.0"
GOOGLEBOT = "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)"
GPTBOT = "Mozilla/5.0 AppleWebKit/537.36 (KHTML, like Gecko; compatible; GPTBot/1.2; +https://openai.com/gptbot)"


def test_the_kinds_are_the_six_the_dashboard_filters_on():
    assert set(KINDS) == {"desktop", "mobile", "tablet", "bot", "api client", "unknown"}


def test_a_device_is_an_immutable_value():
    device = device_of(CHROME_WINDOWS)
    with pytest.raises(dataclasses.FrozenInstanceError):
        device.kind = "mobile"  # type: ignore[misc]


@pytest.mark.parametrize(
    ("user_agent", "device"),
    [
        (CHROME_WINDOWS, Device("desktop", "Windows 10", "Chrome 126")),
        (SAFARI_MAC, Device("desktop", "Mac OS X 10", "Safari 17")),
        (FIREFOX_LINUX, Device("desktop", "Linux", "Firefox 125")),
        (IPHONE, Device("mobile", "iOS 17", "Mobile Safari 17")),
        (ANDROID_PHONE, Device("mobile", "Android 14", "Chrome Mobile 124")),
        (IPAD, Device("tablet", "iOS 17", "Mobile Safari 17")),
        (ANDROID_TABLET, Device("tablet", "Android 13", "Chrome 120")),
    ],
)
def test_browsers_get_kind_os_and_browser_with_major_versions(user_agent, device):
    assert device_of(user_agent) == device


@pytest.mark.parametrize("user_agent", [KINDLE, FIREFOX_TABLET, IPAD, ANDROID_TABLET])
def test_tablets(user_agent):
    assert device_of(user_agent).kind == "tablet"


@pytest.mark.parametrize(
    "user_agent",
    [
        IPHONE,
        ANDROID_PHONE,
        "Mozilla/5.0 (Android 14; Mobile; rv:125.0) Gecko/125.0 Firefox/125.0",
        "Mozilla/5.0 (Windows Phone 10.0; Android 6.0.1; Microsoft; Lumia 950) AppleWebKit/537.36 (KHTML, like Gecko) "
        "Chrome/52.0.2743.116 Mobile Safari/537.36 Edge/15.14977",
        "Opera/9.80 (J2ME/MIDP; Opera Mini/9.80 (S60; SymbOS; Opera Mobi/23.348; U; en) Presto/2.5.25 Version/10.54",
        # native apps: an iOS app through CFNetwork, an Android app through Dalvik
        "MyApp/1.2.3 CFNetwork/1410.0.3 Darwin/22.6.0",
        "Dalvik/2.1.0 (Linux; U; Android 13; Pixel 7 Build/TQ3A.230805.001)",
    ],
)
def test_phones_and_phone_apps_are_mobile(user_agent):
    assert device_of(user_agent).kind == "mobile"


@pytest.mark.parametrize(
    ("user_agent", "client"),
    [
        ("curl/8.4.0", "curl"),
        ("Wget/1.21.3", "Wget"),
        ("python-requests/2.31.0", "python-requests"),
        ("python-httpx/0.27.0", "python-httpx"),
        ("Python/3.11 aiohttp/3.9.1", "aiohttp"),
        ("Go-http-client/2.0", "Go-http-client"),
        ("okhttp/4.12.0", "okhttp"),
        ("axios/1.6.0", "axios"),
        ("node-fetch/1.0 (+https://github.com/bitinn/node-fetch)", "node-fetch"),
        ("undici", "undici"),
        ("PostmanRuntime/7.36.0", "Postman"),
        ("insomnia/2023.5.8", "Insomnia"),
        ("HTTPie/3.2.2", "HTTPie"),
        ("Java/17.0.1", "Java"),
        ("Apache-HttpClient/4.5.13 (Java/11.0.1)", "Apache-HttpClient"),
        ("GuzzleHttp/7.8.1 curl/8.4.0 PHP/8.2.0", "Guzzle"),
        ("Ruby", "Ruby"),
        ("Dart/3.2 (dart:io)", "Dart"),
        ("libwww-perl/6.72", "libwww-perl"),
        ("RestSharp/110.2.0.0", "RestSharp"),
        ("Treblle-SDK/2.0 (django)", "Treblle"),
        ("MyCompanySDK/1.0", "MyCompanySDK"),
        ("aws-sdk-js/2.1.0", "aws-sdk-js"),
        ("InventorySync/2.3.1", "InventorySync"),  # any other bare product/version
    ],
)
def test_http_libraries_tools_and_sdks_are_api_clients_named_in_the_browser_field(user_agent, client):
    assert device_of(user_agent) == Device("api client", None, client)


@pytest.mark.parametrize(
    "user_agent",
    [
        GOOGLEBOT,
        "Mozilla/5.0 (compatible; bingbot/2.0; +http://www.bing.com/bingbot.htm)",
        "Scrapy/2.11 (+https://scrapy.org)",
        "FooCrawlerBot/1.0 (+http://foo.example/bot)",  # unknown to the list; ua-parser's Spider
        "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) HeadlessChrome/120.0.0.0 Safari/537.36",
    ],
)
def test_crawlers_are_bots(user_agent):
    assert device_of(user_agent).kind == "bot"


def test_ai_crawlers_are_bots_named_after_the_agent():
    assert device_of(GPTBOT) == Device("bot", None, "GPTBot")


def test_a_crawler_posing_as_a_phone_is_a_bot():
    smartphone_googlebot = (
        "Mozilla/5.0 (Linux; Android 6.0.1; Nexus 5X Build/MMB29P) AppleWebKit/537.36 (KHTML, like Gecko) "
        "Chrome/127.0.0.0 Mobile Safari/537.36 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)"
    )
    assert device_of(smartphone_googlebot).kind == "bot"


@pytest.mark.parametrize("user_agent", [None, "", "   "])
def test_no_user_agent_is_unknown(user_agent):
    assert device_of(user_agent) == Device("unknown", None, None)


def test_an_unrecognisable_user_agent_is_unknown():
    assert device_of("hello world").kind == "unknown"


def test_results_are_cached_per_user_agent():
    device_of.cache_clear()
    first = device_of(CHROME_WINDOWS)
    assert device_of(CHROME_WINDOWS) is first
    assert device_of.cache_info().hits == 1
