"""Offline checks of infra/main.bicep, azd's files and the settings contract.

Nothing here reaches Azure: the template is parsed with pycep-parser and its key
properties are asserted. The contract tests keep the settings the code reads, the
sample settings file, the template's app settings and the README's table in step.
"""

from __future__ import annotations

import ast
import json
import re
import uuid
from pathlib import Path
from typing import Any

import pytest
import yaml
from pycep import BicepParser

from config import SETTINGS
from storage.clients import CONTAINERS, QUEUES, TABLES
from verdicts.http import ROLE_NAMES

PROJECT_DIR = Path(__file__).resolve().parent.parent
INFRA_DIR = PROJECT_DIR / "infra"
BICEP_FILE = INFRA_DIR / "main.bicep"
SAMPLE_SETTINGS_FILE = PROJECT_DIR / "local.settings.sample.json"
README_FILE = PROJECT_DIR / "README.md"

# Variables the code may read that no deployer sets, with who sets them instead.
PLATFORM_SET = {
    # Set by App Service authentication when it is on. It must never be an app
    # setting: with authentication off it would make the app trust forged headers.
    "WEBSITE_AUTH_ENABLED",
}
# Core Tools need it locally; Flex Consumption takes the runtime from the template's
# functionAppConfig instead.
SAMPLE_ONLY = {"FUNCTIONS_WORKER_RUNTIME"}
# A connection string would need the account key; in Azure the host and the app use
# AzureWebJobsStorage__accountName with the managed identity.
LOCAL_ONLY = {"AzureWebJobsStorage"}

# Built-in Azure role definition IDs, from Microsoft's list of built-in roles.
STORAGE_BLOB_DATA_OWNER = "b7e6dc6d-f1e8-4753-8033-0f276bb0955b"
STORAGE_QUEUE_DATA_CONTRIBUTOR = "974c5e8b-45b9-4653-ba55-5f855dd0fb88"
STORAGE_TABLE_DATA_CONTRIBUTOR = "0a9a7e1f-b9d0-4cc4-a60d-0319b160aaa3"
MONITORING_METRICS_PUBLISHER = "3913510d-42f4-4e42-8a64-420c390055eb"

SOURCE_SKIP_DIRS = {".venv", ".venv-checkov", "node_modules", "tests", ".git", ".local"}


@pytest.fixture(scope="module")
def bicep() -> dict[str, Any]:
    return BicepParser(cache=False).parse(file_path=BICEP_FILE)


def resource(bicep: dict[str, Any], name: str) -> dict[str, Any]:
    """Return the config block of the resource with symbolic name ``name``."""
    return bicep["resources"][name]["config"]


def variable(bicep: dict[str, Any], name: str) -> Any:
    return bicep["variables"][name]["value"]


def property_path(value: Any) -> str:
    """Render a pycep property accessor (``a.b.c``) as dotted text."""
    if isinstance(value, str):
        return value
    operands = value["operator"]["operands"]
    return (
        f"{property_path(operands['operand_1'])}.{property_path(operands['operand_2'])}"
    )


def bicep_app_settings(bicep: dict[str, Any]) -> dict[str, Any]:
    return resource(bicep, "appSettings")["properties"]


def sample_settings() -> dict[str, str]:
    return json.loads(SAMPLE_SETTINGS_FILE.read_text())["Values"]


def readme_settings() -> list[str]:
    """Return the variable names of the README's settings table, in order."""
    text = README_FILE.read_text()
    section = text.split("\n## Settings\n", 1)[1].split("\n## ", 1)[0]
    return re.findall(r"^\| `([^`]+)` \|", section, flags=re.MULTILINE)


def _is_environ(node: ast.AST) -> bool:
    if isinstance(node, ast.Attribute):
        return node.attr == "environ"
    return isinstance(node, ast.Name) and node.id == "environ"


def _environ_key(node: ast.AST) -> ast.AST | None:
    """Return the key expression of an environment read, or None if not one."""
    if isinstance(node, ast.Subscript) and isinstance(node.ctx, ast.Load):
        return node.slice if _is_environ(node.value) else None
    if not (isinstance(node, ast.Call) and node.args):
        return None
    func = node.func
    if not isinstance(func, ast.Attribute):
        return None
    if func.attr == "get" and _is_environ(func.value):
        return node.args[0]
    if func.attr == "getenv":
        return node.args[0]
    return None


def environment_reads() -> list[tuple[str, int, str | None]]:
    """Find every read from os.environ outside the tests.

    Returns (file, line, name), with name None when the key is not a string
    literal, so the variable cannot be known without running the code.
    """
    reads = []
    for path in sorted(PROJECT_DIR.rglob("*.py")):
        relative = path.relative_to(PROJECT_DIR)
        if SOURCE_SKIP_DIRS & set(relative.parts):
            continue
        for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
            key = _environ_key(node)
            if key is None:
                continue
            literal = isinstance(key, ast.Constant) and isinstance(key.value, str)
            name = key.value if literal else None
            reads.append((str(relative), node.lineno, name))
    return reads


def code_settings() -> set[str]:
    names = {name for _, _, name in environment_reads() if name is not None}
    return set(SETTINGS) | names - PLATFORM_SET


class TestSettingsContract:
    def test_environment_reads_are_declared(self):
        for file, line, name in environment_reads():
            if file == "config.py":
                continue  # reads each name of SETTINGS through one helper
            assert name is not None, (
                f"{file}:{line} reads an environment variable whose name is not a "
                "string literal; read settings through config.load_config"
            )
            assert name in SETTINGS or name in PLATFORM_SET, (
                f"{file}:{line} reads {name}, which is not in config.SETTINGS; add it "
                "there, to local.settings.sample.json, the README settings table and "
                "the appSettings resource of infra/main.bicep"
            )

    @pytest.mark.parametrize(
        ("file", "read_names", "not_expected"),
        [
            (
                "local.settings.sample.json",
                lambda bicep: set(sample_settings()) - SAMPLE_ONLY,
                set(),
            ),
            (
                "infra/main.bicep (appSettings)",
                lambda bicep: set(bicep_app_settings(bicep)),
                LOCAL_ONLY,
            ),
            ("README.md (settings table)", lambda bicep: set(readme_settings()), set()),
        ],
        ids=["sample", "bicep", "readme"],
    )
    def test_file_lists_every_setting(self, bicep, file, read_names, not_expected):
        listed = read_names(bicep)
        expected = code_settings() - not_expected
        for name in sorted(expected):
            assert name in listed, (
                f"setting {name} is read by the code but missing from {file}"
            )
        for name in sorted(listed):
            assert name in expected, (
                f"{file} lists {name}, which the code does not read "
                "(add it to config.SETTINGS or remove it)"
            )

    def test_storage_connection_string_is_not_an_app_setting(self, bicep):
        settings = bicep_app_settings(bicep)
        assert "AzureWebJobsStorage" not in settings
        assert property_path(settings["AzureWebJobsStorage__accountName"]) == (
            "storage.name"
        )

    def test_auth_flag_is_left_to_the_platform(self, bicep):
        assert "WEBSITE_AUTH_ENABLED" not in bicep_app_settings(bicep)
        assert "WEBSITE_AUTH_ENABLED" not in sample_settings()

    def test_sample_values_are_the_defaults(self):
        values = sample_settings()
        for name, (default, _) in SETTINGS.items():
            assert values[name] == (default or ""), f"{name} in {SAMPLE_SETTINGS_FILE}"
        assert values["FUNCTIONS_WORKER_RUNTIME"] == "python"

    def test_readme_lists_each_setting_once(self):
        names = readme_settings()
        assert len(names) == len(set(names))

    def test_telemetry_settings_come_from_the_template(self, bicep):
        settings = bicep_app_settings(bicep)
        assert property_path(settings["APPLICATIONINSIGHTS_CONNECTION_STRING"]) == (
            "appInsights.properties.ConnectionString"
        )
        assert settings["APPLICATIONINSIGHTS_AUTHENTICATION_STRING"] == (
            "Authorization=AAD"
        )

    def test_deployer_parameters_feed_app_settings(self, bicep):
        settings = bicep_app_settings(bicep)
        assert settings["REPORTBACK_REPORTING_MAILBOX"] == "reportingMailbox"
        assert settings["REPORTBACK_DEFAULT_SENDER"] == "defaultSender"
        assert settings["REPORTBACK_ACCEPTED_DOMAINS"] == "acceptedDomains"
        assert settings["REPORTBACK_POLL_SCHEDULE"] == "pollSchedule"
        assert settings["REPORTBACK_STORAGE_PREFIX"] == ""
        assert settings["REPORTBACK_LOCAL_ROLE"] == "reader"

    def test_pacing_parameters_become_strings(self, bicep):
        settings = bicep_app_settings(bicep)
        assert settings["REPORTBACK_SENDS_PER_MINUTE"] == {
            "function": {
                "type": "string",
                "parameters": {"value_to_convert": "sendsPerMinute"},
            }
        }
        # config.py accepts only lowercase true and false.
        condition = settings["REPORTBACK_SAVE_TO_SENT_ITEMS"]["operator"]
        assert condition["operands"] == {
            "condition": "saveToSentItems",
            "true_value": "true",
            "false_value": "false",
        }


class TestFunctionApp:
    def test_plan_is_flex_consumption(self, bicep):
        plan = resource(bicep, "plan")
        assert plan["sku"] == {"name": "FC1", "tier": "FlexConsumption"}
        assert plan["properties"]["reserved"] is True

    def test_runtime_is_python_311(self, bicep):
        config = resource(bicep, "functionApp")["properties"]["functionAppConfig"]
        assert config["runtime"] == {"name": "python", "version": "3.11"}
        storage = config["deployment"]["storage"]
        assert storage["authentication"] == {"type": "SystemAssignedIdentity"}

    def test_identity_is_system_assigned(self, bicep):
        app = resource(bicep, "functionApp")
        assert app["identity"] == {"type": "SystemAssigned"}

    def test_https_only_with_tls_12(self, bicep):
        properties = resource(bicep, "functionApp")["properties"]
        assert properties["httpsOnly"] is True
        assert properties["siteConfig"]["minTlsVersion"] == "1.2"
        assert properties["siteConfig"]["scmMinTlsVersion"] == "1.2"

    def test_ftp_and_basic_publishing_are_off(self, bicep):
        properties = resource(bicep, "functionApp")["properties"]
        assert properties["siteConfig"]["ftpsState"] == "Disabled"
        for name, policy in (("ftpPublishing", "ftp"), ("scmPublishing", "scm")):
            config = resource(bicep, name)
            assert config["parent"] == "functionApp"
            assert config["name"] == policy
            assert config["properties"] == {"allow": False}

    def test_azd_finds_the_service(self, bicep):
        project = yaml.safe_load((PROJECT_DIR / "azure.yaml").read_text())
        assert project["services"] == {
            "api": {"project": ".", "language": "python", "host": "function"}
        }
        assert project["infra"] == {
            "provider": "bicep",
            "path": "infra",
            "module": "main",
        }
        union_args = resource(bicep, "functionApp")["tags"]["function"]["parameters"]
        assert union_args["arg_1"] == "allTags"
        # pycep keeps the quotes of a quoted object key.
        assert union_args["arg_2"] == {"'azd-service-name'": "api"}

    def test_app_settings_wait_for_role_assignments(self, bicep):
        depends = resource(bicep, "appSettings")["dependsOn"]
        assert set(depends) == {"blobRole", "queueRole", "tableRole", "telemetryRole"}


class TestStorage:
    def test_shared_key_and_public_blob_access_are_off(self, bicep):
        properties = resource(bicep, "storage")["properties"]
        assert properties["allowSharedKeyAccess"] is False
        assert properties["allowBlobPublicAccess"] is False
        assert properties["defaultToOAuthAuthentication"] is True

    def test_https_only_with_tls_12(self, bicep):
        properties = resource(bicep, "storage")["properties"]
        assert properties["supportsHttpsTrafficOnly"] is True
        assert properties["minimumTlsVersion"] == "TLS1_2"

    def test_account_name_fits_naming_rule(self, bicep):
        # uniqueString returns 13 lowercase letters and digits; account names are 3
        # to 24 of them.
        assert variable(bicep, "storageAccountName") == "st${resourceToken}"
        token = variable(bicep, "resourceToken")["function"]
        assert token["type"] == "to_lower"
        inner = token["parameters"]["string_to_change"]["function"]
        assert inner["type"] == "unique_string"

    @pytest.mark.parametrize(
        ("loop", "names_variable", "expected"),
        [
            ("tables", "tableNames", TABLES),
            ("queues", "queueNames", QUEUES),
            ("containers", "containerNames", CONTAINERS),
        ],
    )
    def test_template_creates_what_the_app_uses(
        self, bicep, loop, names_variable, expected
    ):
        detail = resource(bicep, loop)["loop_type"]["detail"]
        assert detail["array_name"] == names_variable
        assert variable(bicep, names_variable) == list(expected)

    def test_poison_queue_is_created(self, bicep):
        assert "notifications-poison" in variable(bicep, "queueNames")

    def test_containers_are_private(self, bicep):
        for name in ("containers", "deploymentContainer"):
            config = resource(bicep, name)
            config = config.get("config", config)
            assert config["properties"] == {"publicAccess": "None"}


class TestRoleAssignments:
    def _assignments(self, bicep) -> dict[str, dict[str, Any]]:
        return {
            name: entry["config"]
            for name, entry in bicep["resources"].items()
            if entry["type"] == "Microsoft.Authorization/roleAssignments"
        }

    def test_only_least_privilege_roles(self, bicep):
        granted = set()
        for config in self._assignments(bicep).values():
            role_variable = config["properties"]["roleDefinitionId"]["function"][
                "parameters"
            ]["resource_name_1"]
            granted.add((config["scope"], variable(bicep, role_variable)))
        assert granted == {
            ("storage", STORAGE_BLOB_DATA_OWNER),
            ("storage", STORAGE_QUEUE_DATA_CONTRIBUTOR),
            ("storage", STORAGE_TABLE_DATA_CONTRIBUTOR),
            ("appInsights", MONITORING_METRICS_PUBLISHER),
        }

    def test_roles_go_to_the_app_identity(self, bicep):
        for name, config in self._assignments(bicep).items():
            properties = config["properties"]
            assert property_path(properties["principalId"]) == (
                "functionApp.identity.principalId"
            ), name
            assert properties["principalType"] == "ServicePrincipal", name


class TestMonitoring:
    def test_app_insights_uses_workspace_without_keys(self, bicep):
        properties = resource(bicep, "appInsights")["properties"]
        assert property_path(properties["WorkspaceResourceId"]) == "logAnalytics.id"
        assert properties["DisableLocalAuth"] is True

    def test_workspace_retention_is_a_parameter(self, bicep):
        properties = resource(bicep, "logAnalytics")["properties"]
        assert properties["retentionInDays"] == "logRetentionDays"


class TestAuthentication:
    def test_every_request_needs_sign_in(self, bicep):
        config = resource(bicep, "authSettings")
        assert config["name"] == "authsettingsV2"
        properties = config["properties"]
        assert properties["platform"] == {"enabled": True}
        assert properties["globalValidation"] == {
            "requireAuthentication": True,
            "unauthenticatedClientAction": "RedirectToLoginPage",
            "redirectToProvider": "azureactivedirectory",
        }
        assert properties["httpSettings"] == {"requireHttps": True}

    def test_entra_id_is_the_provider(self, bicep):
        provider = resource(bicep, "authSettings")["properties"]["identityProviders"][
            "azureActiveDirectory"
        ]
        assert provider["enabled"] is True
        assert provider["registration"]["clientId"] == "authClientId"
        assert provider["validation"]["allowedAudiences"] == [
            "api://${authClientId}",
            "authClientId",
        ]

    def test_app_roles_match_the_api_roles(self):
        roles = json.loads((INFRA_DIR / "app-roles.json").read_text())
        assert [role["value"] for role in roles] == list(ROLE_NAMES)
        ids = [str(uuid.UUID(role["id"])) for role in roles]
        assert len(set(ids)) == len(roles)
        for role in roles:
            assert role["allowedMemberTypes"] == ["User", "Application"]
            assert role["isEnabled"] is True


class TestParameters:
    def test_every_parameter_is_described(self, bicep):
        for name, parameter in bicep["parameters"].items():
            kinds = {decorator["type"] for decorator in parameter["decorators"]}
            assert "description" in kinds, f"parameter {name} has no @description"

    def test_every_string_and_int_parameter_is_limited(self, bicep):
        limits = {"min_length", "max_length", "min_value", "max_value", "allowed"}
        for name, parameter in bicep["parameters"].items():
            if parameter["type"] not in ("string", "int"):
                continue
            kinds = {decorator["type"] for decorator in parameter["decorators"]}
            assert kinds & limits, f"parameter {name} has no limit"

    def test_parameters_file_matches_template(self, bicep):
        values = json.loads((INFRA_DIR / "main.parameters.json").read_text())
        in_file = set(values["parameters"])
        declared = set(bicep["parameters"])
        assert in_file - declared == set()
        required = {
            name for name, p in bicep["parameters"].items() if "default" not in p
        }
        assert required - in_file == set()

    def test_readme_sets_every_azd_variable(self):
        text = (INFRA_DIR / "main.parameters.json").read_text()
        variables = set(re.findall(r"\$\{([A-Z_]+)\}", text))
        documented = set(
            re.findall(
                r"^azd env set ([A-Z_]+) ", README_FILE.read_text(), flags=re.MULTILINE
            )
        )
        # azd sets these two itself from the environment it creates.
        assert variables - documented == {"AZURE_ENV_NAME", "AZURE_LOCATION"}

    def test_outputs_are_upper_snake_case(self, bicep):
        for name in bicep["outputs"]:
            assert re.fullmatch(r"[A-Z][A-Z0-9_]*", name), name

    def test_outputs_include_principal_for_graph_grants(self, bicep):
        output = bicep["outputs"]["REPORTBACK_PRINCIPAL_ID"]
        assert property_path(output["value"]) == "functionApp.identity.principalId"


class TestPackage:
    """The package azd and Core Tools upload leaves out what .funcignore lists."""

    def _ignored(self) -> set[str]:
        lines = (PROJECT_DIR / ".funcignore").read_text().splitlines()
        return {line.strip() for line in lines if line.strip()}

    def test_app_imports_nothing_left_out(self):
        ignored = self._ignored()
        for path in sorted(PROJECT_DIR.rglob("*.py")):
            relative = path.relative_to(PROJECT_DIR)
            if relative.parts[0] in ignored or SOURCE_SKIP_DIRS & set(relative.parts):
                continue
            tree = ast.parse(path.read_text(), filename=str(path))
            for node in ast.walk(tree):
                if isinstance(node, ast.Import):
                    modules = [alias.name for alias in node.names]
                elif isinstance(node, ast.ImportFrom) and node.level == 0:
                    modules = [node.module or ""]
                else:
                    continue
                for module in modules:
                    top = module.split(".")[0]
                    assert top not in ignored, (
                        f"{relative}:{node.lineno} imports {module}, but .funcignore "
                        f"leaves {top} out of the deployed package"
                    )

    @pytest.mark.parametrize(
        "name",
        ["function_app.py", "host.json", "requirements.txt", "templates"],
    )
    def test_runtime_files_are_deployed(self, name):
        assert name in {path.name for path in PROJECT_DIR.iterdir()}
        assert name not in self._ignored()
