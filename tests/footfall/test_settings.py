"""Settings come from the environment, with loopback and safe defaults; a sign-in set up in part
is refused, naming what is missing."""

import pytest

from services.settings import dashboard_url, settings


def test_both_services_listen_on_loopback_unless_told_otherwise():
    config = settings({})
    assert (config.collector_host, config.dashboard_host) == ("127.0.0.1", "127.0.0.1")
    assert dashboard_url(config).url == "http://127.0.0.1:8501/"
    assert not config.sign_in and not config.auth_proxy and config.retention_days is None


def test_the_collector_and_the_dashboard_have_hosts_of_their_own():
    config = settings({"FOOTFALL_COLLECTOR_HOST": "0.0.0.0", "FOOTFALL_DASHBOARD_PORT": "9000"})
    assert (config.collector_host, config.dashboard_host, dashboard_url(config).url) == (
        "0.0.0.0", "127.0.0.1", "http://127.0.0.1:9000/")


def test_sign_in_needs_the_provider_the_client_and_its_secret():
    env = {"FOOTFALL_OIDC_METADATA_URL": "https://id.example.com/.well-known/openid-configuration",
           "FOOTFALL_OIDC_CLIENT_ID": "footfall", "FOOTFALL_OIDC_CLIENT_SECRET": "s3cret",
           "FOOTFALL_ALLOWED_USERS": " Ana@Example.com, @corp.example ,,", "FOOTFALL_DASHBOARD_URL": "https://ff.corp/"}
    config = settings(env)
    assert config.sign_in and config.allowed_users == ("ana@example.com", "@corp.example")
    assert dashboard_url(config).url == "https://ff.corp/" and config.sign_in_problem is None
    assert not settings({**env, "FOOTFALL_OIDC_CLIENT_SECRET": ""}).sign_in


SIGN_IN = {"FOOTFALL_OIDC_METADATA_URL": "https://id.example.com/.well-known/openid-configuration",
           "FOOTFALL_OIDC_CLIENT_ID": "footfall", "FOOTFALL_OIDC_CLIENT_SECRET": "s3cret",
           "FOOTFALL_ALLOWED_USERS": "@corp.example"}


@pytest.mark.parametrize("given", [["FOOTFALL_OIDC_METADATA_URL"], ["FOOTFALL_ALLOWED_USERS"],
                                   ["FOOTFALL_OIDC_CLIENT_ID", "FOOTFALL_OIDC_CLIENT_SECRET"],
                                   ["FOOTFALL_OIDC_METADATA_URL", "FOOTFALL_OIDC_CLIENT_ID", "FOOTFALL_ALLOWED_USERS"]])
def test_a_sign_in_set_up_in_part_is_a_problem_that_names_what_is_missing(given):
    problem = settings({name: SIGN_IN[name] for name in given}).sign_in_problem
    missing = [name for name in SIGN_IN if name not in given]
    assert problem.startswith("sign-in is only partly set up: ") and "\n" not in problem
    said_missing = problem.split(" set but ")[1].split(";")[0]
    assert all(name in said_missing for name in missing) and not any(name in said_missing for name in given)


def test_trusting_unverified_addresses_without_a_provider_is_a_problem_too():
    assert "FOOTFALL_OIDC_METADATA_URL" in settings({"FOOTFALL_OIDC_ASSUME_VERIFIED": "1"}).sign_in_problem


def test_all_of_sign_in_or_none_of_it_is_no_problem():
    assert settings(SIGN_IN).sign_in_problem is None
    assert settings({**SIGN_IN, "FOOTFALL_OIDC_ASSUME_VERIFIED": "1"}).sign_in_problem is None
    assert settings({}).sign_in_problem is None


def test_names_to_mask_and_retention_are_read_and_checked():
    config = settings({"FOOTFALL_MASKED_NAMES": "X-Internal-Token, customer_pin", "FOOTFALL_RETENTION_DAYS": "90"})
    assert config.masked_names == ("x-internal-token", "customer_pin") and config.retention_days == 90
    with pytest.raises(ValueError, match="FOOTFALL_RETENTION_DAYS"):
        settings({"FOOTFALL_RETENTION_DAYS": "0"})


def test_a_sign_in_lasts_twelve_hours_unless_set_and_its_cookie_key_and_trust_in_a_missing_claim_are_settings():
    config = settings({})
    assert config.session_hours == 12 and config.cookie_secret is None and not config.assume_email_verified
    config = settings({"FOOTFALL_SESSION_HOURS": "0.5", "FOOTFALL_COOKIE_SECRET": "k", "FOOTFALL_OIDC_ASSUME_VERIFIED": "1"})
    assert (config.session_hours, config.cookie_secret, config.assume_email_verified) == (0.5, "k", True)
    for refused in ("0", "-1", "721", "nan", "twelve"):
        with pytest.raises(ValueError, match="FOOTFALL_SESSION_HOURS"):
            settings({"FOOTFALL_SESSION_HOURS": refused})
