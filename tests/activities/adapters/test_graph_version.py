"""The Graph API version is a setting with a current default (Meta retires v21.0 on
2027-01-21), an explicit base URL keeps working, and the adapter says which version it speaks."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from activities.adapters.platform import PlatformAdapter
from careflow.errors import ConfigurationError
from careflow.settings import DEFAULT_GRAPH_VERSION, PlatformSettings


def test_the_default_is_a_current_version_on_graphs_host() -> None:
    loaded = PlatformSettings.from_env({})
    assert loaded.meta_graph_base == f"https://graph.facebook.com/{DEFAULT_GRAPH_VERSION}"
    assert loaded.meta_graph_version == DEFAULT_GRAPH_VERSION != "v21.0"


def test_the_version_is_a_setting_and_an_explicit_base_wins() -> None:
    assert (
        PlatformSettings.from_env({"CAREFLOW_META_GRAPH_VERSION": "v25.0"}).meta_graph_base
        == "https://graph.facebook.com/v25.0"
    )
    explicit = {"CAREFLOW_META_GRAPH_BASE": "http://127.0.0.1:8090/v21.0"}
    assert PlatformSettings.from_env(explicit).meta_graph_base == "http://127.0.0.1:8090/v21.0"
    unversioned = {"CAREFLOW_META_GRAPH_BASE": "http://proxy.internal/graph/"}
    both = {**unversioned, "CAREFLOW_META_GRAPH_VERSION": "v24.0"}
    assert PlatformSettings.from_env(both).meta_graph_base == "http://proxy.internal/graph/v24.0"
    assert PlatformSettings.from_env(unversioned).meta_graph_version == DEFAULT_GRAPH_VERSION


@pytest.mark.parametrize(
    ("env", "says"),
    [
        ({"CAREFLOW_META_GRAPH_VERSION": "21"}, "is not a Graph API version"),
        (
            {
                "CAREFLOW_META_GRAPH_VERSION": "v25.0",
                "CAREFLOW_META_GRAPH_BASE": "https://graph.facebook.com/v21.0",
            },
            "names Graph API v21.0 but CAREFLOW_META_GRAPH_VERSION is v25.0",
        ),
    ],
)
def test_a_version_careflow_cannot_use_is_a_configuration_error(
    env: dict[str, str], says: str
) -> None:
    with pytest.raises(ConfigurationError, match=says):
        PlatformSettings.from_env(env)


def test_the_adapter_logs_the_version_once_at_start(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    settings = PlatformSettings.from_env({"CAREFLOW_META_GRAPH_VERSION": "v25.0"})
    with caplog.at_level(logging.INFO, logger="careflow.activities.platform"):
        PlatformAdapter(settings, tmp_path / "deliveries.sqlite3")
    lines = [r.getMessage() for r in caplog.records if r.name == "careflow.activities.platform"]
    assert lines == ["Meta Graph API v25.0 at https://graph.facebook.com"]
