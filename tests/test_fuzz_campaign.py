"""Arbitrary YAML and mutations of real campaigns never raise anything but our own error."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from campaign.bundle import load_bundle
from campaign.errors import InvalidInput
from campaign.render_check import validated
from tests.campaign_copy import MINIMAL
from tests.conftest import SMARTNATION

EXAMPLES_RUN = int(os.environ.get("WAVECAST_FUZZ_EXAMPLES", "60"))
CAMPAIGNS = [MINIMAL] + ([SMARTNATION] if (SMARTNATION / "campaign.yaml").exists() else [])

scalars = st.one_of(
    st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False), st.text(max_size=20), st.dates()
)
documents = st.recursive(
    scalars,
    lambda children: st.one_of(
        st.lists(children, max_size=4), st.dictionaries(st.text(max_size=10), children, max_size=4)
    ),
    max_leaves=20,
)


def load_never_crashes(directory: Path) -> None:
    try:
        validated(load_bundle(directory))
    except InvalidInput as exc:
        assert exc.problems, "an InvalidInput must carry at least one problem"
        for problem in exc.problems:
            assert problem.line >= 1 and problem.column >= 1 and problem.message


@settings(
    max_examples=EXAMPLES_RUN,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(document=documents)
def test_arbitrary_yaml_documents(tmp_path_factory, document) -> None:  # type: ignore[no-untyped-def]
    directory = tmp_path_factory.mktemp("doc")
    (directory / "campaign.yaml").write_text(yaml.safe_dump(document, allow_unicode=True), encoding="utf-8")
    load_never_crashes(directory)


@settings(max_examples=EXAMPLES_RUN, deadline=None)
@given(data=st.binary(max_size=300))
def test_binary_garbage(tmp_path_factory, data: bytes) -> None:  # type: ignore[no-untyped-def]
    directory = tmp_path_factory.mktemp("bin")
    (directory / "campaign.yaml").write_bytes(data)
    load_never_crashes(directory)


@settings(max_examples=EXAMPLES_RUN * 2, deadline=None)
@given(
    which=st.sampled_from(CAMPAIGNS),
    position=st.floats(min_value=0, max_value=1),
    cut=st.integers(min_value=0, max_value=40),
    insert=st.sampled_from(
        [
            "",
            ":",
            "- ",
            "  ",
            "\n",
            "{",
            "]",
            "&a ",
            "*a",
            "!!python/none ",
            "\t",
            "'",
            '"',
            "2023-13-45",
            "~",
            "{{",
            "{% if %}",
            "x" * 5,
            "\x85",
            "\u2028",
        ]
    ),
    target=st.sampled_from(["campaign.yaml", "message"]),
)
def test_mutations_of_real_campaigns(
    tmp_path_factory,
    which: Path,
    position: float,
    cut: int,  # type: ignore[no-untyped-def]
    insert: str,
    target: str,
) -> None:
    directory = tmp_path_factory.mktemp("mut") / which.name
    shutil.copytree(which, directory)
    if target == "campaign.yaml":
        path = directory / "campaign.yaml"
    else:
        files = sorted((directory / "messages").rglob("*.md"))
        path = files[int(position * (len(files) - 1))]
    text = path.read_text(encoding="utf-8")
    at = int(position * len(text))
    path.write_text(text[:at] + insert + text[at + cut :], encoding="utf-8")
    load_never_crashes(directory)
