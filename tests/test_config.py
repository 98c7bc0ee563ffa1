"""Settings are read in one place and invalid values are named."""

from __future__ import annotations

import pytest

from config import SETTINGS, ConfigError, load_config


def test_defaults_give_a_local_setup():
    config = load_config({})
    assert config.storage_connection_string == "UseDevelopmentStorage=true"
    assert str(config.mailbox_dir) == ".local/mailbox"
    assert config.poll_seconds == 10.0
    assert config.local_role == "settings_admin"
    assert config.uses_graph is False


def test_reporting_mailbox_selects_graph():
    config = load_config({"REPORTBACK_REPORTING_MAILBOX": "reports@example.com"})
    assert config.uses_graph is True


def test_accepted_domains_are_split_and_lowered():
    config = load_config(
        {"REPORTBACK_ACCEPTED_DOMAINS": " Example.com, ,contoso.EXAMPLE "}
    )
    assert config.accepted_domains == ("example.com", "contoso.example")


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        (
            "REPORTBACK_POLL_SECONDS",
            "soon",
            "REPORTBACK_POLL_SECONDS='soon' is invalid: expected a positive number",
        ),
        (
            "REPORTBACK_POLL_SECONDS",
            "0",
            "REPORTBACK_POLL_SECONDS='0' is invalid: expected a positive number",
        ),
        (
            "REPORTBACK_LOCAL_ROLE",
            "admin",
            "REPORTBACK_LOCAL_ROLE='admin' is invalid: expected reader, reviewer "
            "or settings_admin",
        ),
        (
            "REPORTBACK_STORAGE_PREFIX",
            "Test-1",
            "REPORTBACK_STORAGE_PREFIX='Test-1' is invalid: use lowercase letters "
            "and digits only",
        ),
    ],
)
def test_invalid_setting_is_named(name, value, message):
    with pytest.raises(ConfigError) as error:
        load_config({name: value})
    assert str(error.value) == message


def test_every_setting_has_a_description():
    for name, (_default, description) in SETTINGS.items():
        assert description.strip(), name


def test_graph_sending_defaults():
    config = load_config({})
    assert config.sends_per_minute == 30
    assert config.save_to_sent_items is False
    assert config.graph_base_url == "https://graph.microsoft.com/v1.0"


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        (
            "REPORTBACK_SENDS_PER_MINUTE",
            "0",
            "REPORTBACK_SENDS_PER_MINUTE='0' is invalid: expected a whole number "
            "from 1 to 10000",
        ),
        (
            "REPORTBACK_SENDS_PER_MINUTE",
            "2.5",
            "REPORTBACK_SENDS_PER_MINUTE='2.5' is invalid: expected a whole number "
            "from 1 to 10000",
        ),
        (
            "REPORTBACK_SAVE_TO_SENT_ITEMS",
            "yes",
            "REPORTBACK_SAVE_TO_SENT_ITEMS='yes' is invalid: expected true or false",
        ),
        (
            "REPORTBACK_GRAPH_BASE_URL",
            "graph.microsoft.com/v1.0",
            "REPORTBACK_GRAPH_BASE_URL='graph.microsoft.com/v1.0' is invalid: "
            "expected https://host/version, or http://127.0.0.1:port/version for a "
            "local stand-in",
        ),
    ],
)
def test_invalid_graph_setting_is_named(name, value, message):
    with pytest.raises(ConfigError) as caught:
        load_config({name: value})
    assert str(caught.value) == message


@pytest.mark.parametrize(
    "url",
    ["http://127.0.0.1:8089/v1.0", "http://localhost:1/v1.0", "http://[::1]:2/v1.0"],
)
def test_loopback_http_graph_url_is_accepted(url):
    assert load_config({"REPORTBACK_GRAPH_BASE_URL": url}).graph_base_url == url


def test_http_graph_url_to_another_host_is_rejected():
    with pytest.raises(ConfigError, match="REPORTBACK_GRAPH_BASE_URL='http://graph"):
        load_config({"REPORTBACK_GRAPH_BASE_URL": "http://graph.example.com/v1.0"})
