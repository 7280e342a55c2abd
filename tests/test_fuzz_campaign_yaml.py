"""Campaign YAML with anchors and aliases (defined, undefined, recursive, multiplied: billion laughs),
tags (unsafe and unknown), merge keys, deep nesting and documents near and past the size limit.

tests/test_fuzz_campaign.py covers documents PyYAML itself can write; these are the ones a hostile
or careless hand writes. Each ends in InvalidInput with positioned problems, or in a campaign,
within a few seconds.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from campaign.bundle import load_bundle
from campaign.errors import InvalidInput
from campaign.render_check import validated
from tests.campaign_copy import MINIMAL
from tests.fuzz_cases import EXAMPLES, counter, no_hang

HANG_SECONDS = 30
ANCHORS = ["a", "b", "c"]
TAGS = [
    "!!timestamp ",
    "!!bool ",
    "!!python/object/apply:os.system ",
    "!!python/name:os.system ",
    "!!binary ",
    "!!set ",
    "!!omap ",
    "!custom ",
    "!!str ",
    "!!int ",
    "!<tag:yaml.org,2002:str> ",
]
scalars = st.one_of(
    st.sampled_from(
        [
            "x",
            "1",
            "-1.5e3",
            "null",
            "~",
            "true",
            "no",
            "2023-06-12T10:00:00",
            "'quoted'",
            '"dq"',
            "nl",
            "mini",
            "<<",
            "=",
            "0x1f",
            ".inf",
        ]
    ),
    st.text(st.characters(min_codepoint=0x30, max_codepoint=0x7A), min_size=1, max_size=6),
)


def nodes() -> st.SearchStrategy[str]:
    return st.recursive(
        scalars,
        lambda inner: st.one_of(
            st.lists(inner, max_size=4).map(lambda xs: "[" + ", ".join(xs) + "]"),
            st.lists(st.tuples(st.sampled_from(["k", "id", "<<", "name", "x"]), inner), max_size=4).map(
                lambda kv: "{" + ", ".join(f"{k}: {v}" for k, v in kv) + "}"
            ),
            st.tuples(st.sampled_from(ANCHORS), inner).map(lambda t: f"&{t[0]} {t[1]}"),
            st.sampled_from(ANCHORS).map(lambda a: f"*{a}"),
            st.tuples(st.sampled_from(TAGS), inner).map(lambda t: t[0] + t[1]),
        ),
        max_leaves=12,
    )


def laughs(levels: int, width: int) -> str:
    """The billion-laughs document: each level repeats the one before `width` times."""
    lines = ['l0: &l0 ["lol"]']
    for i in range(1, levels + 1):
        lines.append(f"l{i}: &l{i} [" + ", ".join([f"*l{i - 1}"] * width) + "]")
    return "\n".join(lines) + "\n"


@st.composite
def documents(draw: st.DrawFn) -> str:
    minimal = (MINIMAL / "campaign.yaml").read_text(encoding="utf-8")
    kind = draw(st.sampled_from(["node", "languages", "extra", "laughs", "deep", "huge", "many keys"]))
    if kind == "node":
        return "schema_version: 1\nanything: " + draw(nodes()) + "\n"
    if kind == "languages":
        return minimal.replace("languages: [nl, fr, de, en]", "languages: " + draw(nodes()), 1)
    if kind == "extra":
        return minimal + "x_extra: " + draw(nodes()) + "\n"
    if kind == "laughs":
        return minimal + laughs(draw(st.integers(1, 12)), draw(st.integers(1, 12)))
    if kind == "deep":
        depth = draw(st.integers(10, 20_000))
        opener, closer = draw(st.sampled_from([("[", "]"), ("{a: ", "}")]))
        return "schema_version: 1\nx: " + opener * depth + "1" + closer * draw(st.sampled_from([depth, depth // 2]))
    if kind == "huge":
        size = draw(st.sampled_from([1_000_000, 2 * 1024 * 1024 - 200, 2 * 1024 * 1024 + 10, 5_000_000]))
        return minimal + "# " + "x" * size + "\n"
    keys = draw(st.integers(1_000, 60_000))
    return minimal + "x_many:\n" + "".join(f"  k{i}: {i}\n" for i in range(keys))


@settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(document=documents())
def test_hostile_yaml_is_refused_with_positions_or_loaded(
    tmp_path_factory: pytest.TempPathFactory, request: pytest.FixtureRequest, document: str
) -> None:
    counter(request.config, "campaign YAML (anchors, tags, size)")["campaign YAML (anchors, tags, size)"] += 1
    directory = tmp_path_factory.mktemp("yaml") / "minimal"
    shutil.copytree(MINIMAL, directory)
    (directory / "campaign.yaml").write_text(document, encoding="utf-8")
    with no_hang(HANG_SECONDS, "loading"):
        try:
            validated(load_bundle(directory))
        except InvalidInput as exc:
            assert exc.problems
            event("refused: " + exc.problems[0].message[:40])
            for problem in exc.problems:
                assert problem.line >= 1 and problem.column >= 1 and problem.message
            return
    event("loaded")


def test_file_of_the_size_limit_and_one_byte_more(tmp_path: Path) -> None:
    """A document at the limit is read; one byte over is refused with the limit named."""
    from campaign.load import MAX_FILE_BYTES

    directory = tmp_path / "minimal"
    shutil.copytree(MINIMAL, directory)
    text = (MINIMAL / "campaign.yaml").read_text(encoding="utf-8")
    padding = MAX_FILE_BYTES - len(text.encode()) - 3
    (directory / "campaign.yaml").write_text(text + "#" + "x" * padding + "\n", encoding="utf-8")
    assert (directory / "campaign.yaml").stat().st_size == MAX_FILE_BYTES - 1
    load_bundle(directory)
    (directory / "campaign.yaml").write_text(text + "#" + "x" * (padding + 2) + "\n", encoding="utf-8")
    with pytest.raises(InvalidInput, match="too large"):
        load_bundle(directory)


@pytest.mark.parametrize("value", ["!!timestamp x", "!!bool maybe"])
def test_explicit_scalar_tag_with_an_impossible_value_is_refused(tmp_path: Path, value: str) -> None:
    directory = tmp_path / "minimal"
    shutil.copytree(MINIMAL, directory)
    text = (MINIMAL / "campaign.yaml").read_text(encoding="utf-8")
    (directory / "campaign.yaml").write_text(text.replace("  id: mini\n", f"  id: {value}\n", 1), encoding="utf-8")
    with pytest.raises(InvalidInput) as caught:
        load_bundle(directory)
    assert any(p.line == 3 and "cannot read value" in p.message for p in caught.value.problems)
