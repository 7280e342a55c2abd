"""Templates have bounds: CPU time, the size of every value they make, and their output.

Each payload is written on its own line of a message file; validation must report that file
and line, in seconds and without using memory worth speaking of, whatever the class of growth:
loops that write nothing, recursion, repetition, concatenation, filters that pad or join.
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from jinja2.sandbox import SandboxedEnvironment

from campaign import render_deadline
from campaign.bundle import load_bundle
from campaign.errors import InvalidInput
from campaign.render import RenderFailed, Where, render
from campaign.render_check import validated
from tests.campaign_copy import copy_campaign, edit, line_of
from tests.fuzz_cases import no_hang

MESSAGE = "messages/hello/youth.nl.md"
S = "('x' * 10000)"  # the longest text a single repetition may make

# Loops and recursion that write little or nothing: only the CPU deadline stops them.
CPU = {
    "nested loops writing nothing": f"{{% for a in {S} %}}{{% for b in {S} %}}{{% endfor %}}{{% endfor %}}",
    "three loops deep": f"{{% for a in {S} %}}{{% for b in {S} %}}{{% for c in {S} %}}{{% endfor %}}"
    "{% endfor %}{% endfor %}",
    "macro calling itself twice": "{% macro f(n) %}{% if n %}{{ f(n - 1) }}{{ f(n - 1) }}{% endif %}{% endmacro %}"
    "{{ f(60) }}",
    "sort in a loop": f"{{% for a in {S} %}}{{{{ ({S} ~ 'y')|list|sort|first }}}}{{% endfor %}}",
    "batch in nested loops": f"{{% for a in {S} %}}{{% for row in {S}|batch(3) %}}{{% endfor %}}{{% endfor %}}",
    "sum in a loop": f"{{% for a in {S} %}}{{{{ ([1] * 10000)|sum }}}}{{% endfor %}}",
}
# Values that grow past the bounds: refused before the memory is taken.
GROWTH = {
    "~ doubling in a macro": "{% macro f(s, n) %}{% if n %}{{ f(s ~ s, n - 1) }}{% endif %}{% endmacro %}"
    f"{{{{ f({S}, 40) }}}}",
    "+ doubling a text": f"{{% macro f(s, n) %}}{{% if n %}}{{{{ f(s + s, n - 1) }}}}{{% endif %}}{{% endmacro %}}"
    f"{{{{ f({S}, 40) }}}}",
    "+ doubling a list": "{% macro f(s, n) %}{% if n %}{{ f(s + s, n - 1) }}{% endif %}{% endmacro %}"
    "{{ f([1, 2], 40) }}",
    "list of repeated lists": "{% set a = [1] * 9000 %}{{ [a] * 9000 }}",
    "nested list literals written": f"{{% set a = [{S}] * 50 %}}{{% set b = [a, a, a, a, a] %}}"
    "{% set c = [b, b, b, b, b] %}{{ c }}",
    "nested list through the string filter": f"{{% set a = [{S}] * 90 %}}{{% set b = [a, a, a, a, a, a] %}}"
    "{{ [b, b, b]|string|length }}",
    "join with a long separator": f"{{{{ {S}|list|join({S})|length }}}}",
    "join of a lazy map": f"{{{{ {S}|list|map('replace', 'x', {S})|join|length }}}}",
    "batch padding": "{{ [1]|batch(1000000000, 'x')|list|length }}",
    "wordwrap with a long wrapstring": f"{{{{ ('x ' * 5000)|wordwrap(1, wrapstring={S})|length }}}}",
    "set block capturing a loop": f"{{% set x %}}{{% for a in {S} %}}{{{{ {S} }}}}{{% endfor %}}{{% endset %}}"
    "{{ x|length }}",
    "number squared again and again": "{% macro f(n, k) %}{% if k %}{{ f(n * n, k - 1) }}{% endif %}{% endmacro %}"
    "{{ f(99999, 40) }}",
    "sum of lists": "{{ [[1] * 100] * 50|sum(start=[]) }}",
    "output of a loop": f"{{% for a in {S} %}}{{{{ {S} }}}}{{% endfor %}}",
    "format_list of long texts": f"{{{{ [{S}] * 200|format_list }}}}",
}
CPU_SECONDS_ALLOWED = 8.0  # wall time on a busy machine for the CPU budget
GROWTH_SECONDS_ALLOWED = 3.0


@pytest.fixture
def camp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    directory = copy_campaign(tmp_path)
    monkeypatch.chdir(tmp_path)
    return directory


def add_line(camp: Path, text: str, message: str = MESSAGE) -> int:
    path = camp / message
    edit(path, "message in", f"message in\n\n{text}\n\n")
    return line_of(path, text)


def assert_fails_at(camp: Path, line: int, seconds: float, message: str = MESSAGE) -> str:
    started = time.monotonic()
    with no_hang(30, "validation"), pytest.raises(InvalidInput) as caught:
        validated(load_bundle(camp))
    elapsed = time.monotonic() - started
    found = [p for p in caught.value.problems if p.file == os.path.relpath(camp / message) and p.line == line]
    assert found, f"nothing at {message}:{line}: {[str(p) for p in caught.value.problems]}"
    assert elapsed < seconds, f"took {elapsed:.1f} s"
    return found[0].message


@pytest.fixture
def quick_deadline(monkeypatch: pytest.MonkeyPatch) -> None:
    """A quarter of the CPU budget, so the suite stays fast; the subprocess test below uses the real one."""
    monkeypatch.setattr(render_deadline, "CPU_SECONDS", 0.25)


@pytest.mark.usefixtures("quick_deadline")
@pytest.mark.parametrize("template", CPU.values(), ids=CPU.keys())
def test_template_running_too_long_fails_validation_at_its_line(camp: Path, template: str) -> None:
    line = add_line(camp, template)
    message = assert_fails_at(camp, line, CPU_SECONDS_ALLOWED)
    assert "CPU time" in message or "longer than" in message or "more than" in message, message


@pytest.mark.parametrize("template", GROWTH.values(), ids=GROWTH.keys())
def test_template_growing_a_value_past_the_bounds_fails_validation_at_its_line(camp: Path, template: str) -> None:
    line = add_line(camp, template)
    message = assert_fails_at(camp, line, GROWTH_SECONDS_ALLOWED)
    assert "template" in message, message


def test_ordinary_templates_still_render() -> None:
    context = {"initiatives": [{"title": "a"}, {"title": "b"}], "lang": "en", "wave": {"title": "W"}}
    text = (
        "{{ initiatives|map(attribute='title')|join(', ') }} {{ 6 * 7 }} {{ 'a' ~ 'b' }} {{ [1, 2] + [3] }}"
        "{% macro m(x) %}<{{ x }}>{% endmacro %}{{ m(wave.title) }}{% set y %}{{ 'z' * 3 }}{% endset %}{{ y }}"
        "{{ 'one two three'|wordwrap(4) }}{{ [1, 2, 3]|batch(2, 0)|list }}{{ [1, 2]|sum }}"
    )
    # The bounds change nothing for what stays within them: Jinja's own sandbox gives the same text.
    assert render(text, context, Where("m.md", 1)) == SandboxedEnvironment().from_string(text).render(context)


@pytest.mark.usefixtures("quick_deadline")
def test_the_deadline_holds_outside_the_main_thread() -> None:
    """The web app renders in threads of its own: the bound must hold there too."""
    source = "first\nsecond\n" + CPU["nested loops writing nothing"] + " {# a text not rendered before #}"
    outcome: list[BaseException | str] = []

    def run() -> None:
        try:
            outcome.append(render(source, {}, Where("m.md", 10)))
        except RenderFailed as exc:
            outcome.append(exc)

    started = time.monotonic()
    thread = threading.Thread(target=run)
    thread.start()
    thread.join(timeout=30)
    assert not thread.is_alive() and time.monotonic() - started < CPU_SECONDS_ALLOWED
    (failure,) = outcome
    assert isinstance(failure, RenderFailed)
    assert [(p.file, p.line) for p in failure.problems] == [("m.md", 12)]
    # The thread goes on normally afterwards: nothing of the deadline is left behind in it.
    assert render("{{ 1 + 1 }}", {}, Where("m.md", 1)) == "2"


_MEASURE = """
import runpy, sys
sys.argv = ["wavecast", "validate", sys.argv[1]]
try:
    runpy.run_module("frontends", run_name="__main__")
finally:
    peak = [l for l in open("/proc/self/status") if l.startswith("VmHWM:")][0].split()[1]
    sys.stderr.write(f"\\nPEAK_KB {peak}\\n")
"""


def test_validate_reports_every_heavy_template_in_seconds_and_little_memory(camp: Path) -> None:
    """`wavecast validate` as a user runs it: one heavy payload of each kind in its own file."""
    payloads = {
        "messages/hello/youth.nl.md": CPU["three loops deep"],
        "messages/hello/youth.fr.md": GROWTH["~ doubling in a macro"],
        "messages/hello/youth.de.md": GROWTH["list of repeated lists"],
        "messages/hello/youth.en.md": GROWTH["batch padding"],
        "messages/hello/all.nl.md": CPU["macro calling itself twice"],
        "messages/hello/all.fr.md": GROWTH["set block capturing a loop"],
    }
    lines = {message: add_line(camp, text, message) for message, text in payloads.items()}
    started = time.monotonic()
    done = subprocess.run(
        [sys.executable, "-c", _MEASURE, str(camp)], cwd=camp.parent, capture_output=True, text=True, timeout=120
    )
    elapsed = time.monotonic() - started
    assert done.returncode == 1, done.stderr
    assert "Traceback" not in done.stderr + done.stdout
    for message, line in lines.items():
        assert f"{camp.name}/{message}:{line}:" in done.stderr + done.stdout, (message, done.stderr)
    assert elapsed < 30, f"validate took {elapsed:.1f} s"
    peak_mb = int(done.stderr.rsplit("PEAK_KB", 1)[1].split()[0]) / 1024
    assert peak_mb < 300, f"validate peaked at {peak_mb:.0f} MB"
