"""Every URL Footfall prints or sends starts from one address per service (services.settings'
dashboard_url and collector_url): the setting when it is set, else the port actually served, and
where neither is known, a guess that says so and names the setting that fixes it."""

import os

from conftest import footfall
from factories import payload
from loading import load
from services.settings import collector_url, dashboard_url, settings

GUESSED = "guessed http://127.0.0.1:8501/: set FOOTFALL_DASHBOARD_URL to the address analysts use"


def test_the_process_that_serves_the_dashboard_knows_its_port():
    address = dashboard_url(settings({}), served=("127.0.0.1", 9242))
    assert (address.url, address.note) == ("http://127.0.0.1:9242/", None)
    assert address.at("oauth2callback") == "http://127.0.0.1:9242/oauth2callback"


def test_another_shell_guesses_the_dashboard_s_address_and_says_which_setting_fixes_it():
    assert dashboard_url(settings({})).note == GUESSED
    assert dashboard_url(settings({"FOOTFALL_DASHBOARD_PORT": "9242"})).url == "http://127.0.0.1:9242/"


def test_served_on_every_interface_the_address_analysts_use_is_a_guess():
    assert dashboard_url(settings({}), served=("0.0.0.0", 9242)).note == (
        "guessed http://127.0.0.1:9242/: set FOOTFALL_DASHBOARD_URL to the address analysts use")


def test_a_set_address_wins_over_the_port_served_and_is_no_guess():
    config = settings({"FOOTFALL_DASHBOARD_URL": "https://footfall.corp.example/", "FOOTFALL_COLLECTOR_URL":
                       "https://ingest.corp.example"})
    assert dashboard_url(config, served=("127.0.0.1", 9242)) == dashboard_url(config)
    assert (dashboard_url(config).url, dashboard_url(config).note) == ("https://footfall.corp.example/", None)
    assert (collector_url(config).url, collector_url(config).note) == ("https://ingest.corp.example/", None)


def test_the_collector_s_address_is_guessed_from_its_settings_and_says_so():
    address = collector_url(settings({"FOOTFALL_COLLECTOR_PORT": "9471"}))
    assert address.url == "http://127.0.0.1:9471/"
    assert address.note == "guessed http://127.0.0.1:9471/: set FOOTFALL_COLLECTOR_URL to the address SDKs use"


def test_links_create_says_when_it_guessed_the_dashboard_s_address(conn, db_path):
    load(conn, [payload(user_id="acme")])
    env = {name: value for name, value in os.environ.items() if not name.startswith("FOOTFALL_DASHBOARD")}
    made = footfall("links", "create", "--customer", "acme", db=db_path, env=env)
    assert made.stdout.startswith("http://127.0.0.1:8501/?link=")
    assert GUESSED in made.stderr.splitlines()[-1]

    made = footfall("links", "create", "--customer", "acme", db=db_path,
                    env={**env, "FOOTFALL_DASHBOARD_URL": "https://footfall.corp.example"})
    assert made.stdout.startswith("https://footfall.corp.example/?link=")
    assert "guessed" not in made.stderr
