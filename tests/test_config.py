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
