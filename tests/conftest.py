"""Shared fixtures: the real LibreOffice engine, required under CI.

Under CI=true a missing LibreOffice is a failure, never a silent skip: the workbooks are only
known to be right when LibreOffice computes what NumPy computes.
"""

from __future__ import annotations

import os

import pytest


def _require(what: str, found):
    if found:
        return found
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"{what} is required under CI=true but was not found")
    pytest.skip(f"{what} not installed")


@pytest.fixture(scope="session")
def soffice():
    from workbook import libreoffice

    return _require("LibreOffice (soffice)", libreoffice.find_soffice())


@pytest.fixture(scope="session")
def uno_python(soffice):
    from workbook import libreoffice

    return _require("LibreOffice's Python bridge (python3-uno under /usr/bin/python3)", libreoffice.uno_python())


@pytest.fixture(autouse=True, scope="session")
def _private_config_home(tmp_path_factory):
    """No test may read or create the signing key in the real ~/.config/manualml."""
    saved = os.environ.get("XDG_CONFIG_HOME")
    os.environ["XDG_CONFIG_HOME"] = str(tmp_path_factory.mktemp("config-home"))
    yield
    if saved is None:
        os.environ.pop("XDG_CONFIG_HOME", None)
    else:
        os.environ["XDG_CONFIG_HOME"] = saved


@pytest.fixture(scope="session")
def ssconvert():
    from workbook import gnumeric

    return _require("Gnumeric (ssconvert)", gnumeric.find_ssconvert())
