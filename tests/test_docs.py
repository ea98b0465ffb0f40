"""Every example in the README and in docs/ runs, for the region it says it is for.

The examples are read from the Markdown itself (its fenced code blocks, through
markdown-it-py), so an example is tested the moment it is written:

- every `curl` command is run against a live `placeintel serve` of the demo build,
  as `make run` serves it, its `http://127.0.0.1:5000` rewritten to the test server's
  address, and must answer 200 with data (features, collections, or a non-empty body).
  A block whose info string names Greater Manchester (```` ```sh greater-manchester ````)
  runs against a Greater Manchester build instead, when the real files are present;
- every read-only `placeintel` command for the demo (`explain`, `releases`, `map`,
  `validate`) runs against the demo build and must succeed;
- every Python example runs top to bottom, against the same server;
- each block of `curl` examples says which region it is for, and every `placeintel`
  command names a region that exists (or a placeholder such as `REGION`).
"""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import subprocess
import sys
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from markdown_it import MarkdownIt

from placeintel import build
from placeintel.cli import main as cli
from placeintel.region import DATASETS_DIR
from tests.conftest import ROOT, running_server

DOCUMENTS = [
    ROOT / "README.md",
    *sorted((ROOT / "docs").glob("*.md")),
    ROOT / "notebooks/README.md",
]
#: The address every example uses: `make run`'s.
EXAMPLE_HOSTS = ("http://127.0.0.1:5000", "http://localhost:5000")
DEMO, GM = "demo", "greater-manchester"
REGIONS = {p.name for p in DATASETS_DIR.iterdir() if (p / "region.yml").is_file()}
#: The reader's own region in docs/add-your-dataset.md, which is about making one.
HYPOTHETICAL_REGIONS = {"my-borough"}
#: Commands that only read a release (or the sources), so the docs' examples of them run.
READ_ONLY = {"explain", "releases", "map", "validate"}
#: curl's options that change nothing about the request this test makes.
QUIET = {"-s", "-S", "-f", "-L", "-sS", "-fsS", "-sSf", "--silent", "--show-error", "--fail"}
QUIET |= {"--location", "--compressed", "-i", "--include", "-v", "--verbose"}


@dataclass(frozen=True)
class Example:
    """One example from one code block of one document."""

    document: Path
    line: int  # 1-based, of the block's first line
    region: str  # from the block's info string; the demo unless it names another
    text: str  # the command (continuation lines joined) or the whole block
    context: str  # the prose just before the block

    @property
    def id(self) -> str:
        return f"{self.document.relative_to(ROOT)}:{self.line}:{self.text[:60]}"


def _blocks() -> Iterator[tuple[Path, int, str, str, str]]:
    """(document, line, language, info words after it, content, prose before) per fence."""
    for document in DOCUMENTS:
        tokens = MarkdownIt().parse(document.read_text(encoding="utf-8"))
        prose = ""
        for token in tokens:
            if token.type == "inline":
                prose = token.content
            elif token.type == "fence":
                language, *rest = token.info.split() or [""]
                yield document, token.map[0] + 1, language, rest, token.content, prose


def _examples(predicate, languages=("sh", "bash", "console", "shell", "")) -> list[Example]:
    found = []
    for document, line, language, rest, content, prose in _blocks():
        if language not in languages:
            continue
        region = rest[0] if rest else DEMO
        if language == "python":
            found.append(Example(document, line, region, content, prose))
            continue
        for command in re.sub(r"\\\n", " ", content).splitlines():
            command = command.strip().removeprefix("$ ")
            if predicate(command):
                found.append(Example(document, line, region, command, prose))
    return found


CURLS = _examples(lambda command: command.startswith("curl "))
COMMANDS = _examples(lambda command: re.match(r"(\.venv/bin/)?placeintel\s", command) is not None)
PYTHON = _examples(lambda command: True, languages=("python",))
DEMO_COMMANDS = [
    e
    for e in COMMANDS
    if (words := shlex.split(e.text, comments=True))[1:2]
    and words[1] in READ_ONLY
    and words[2:3] == [DEMO]
]


def test_the_examples_were_found() -> None:
    """A parser that finds nothing would make every test below pass vacuously."""
    assert len(CURLS) >= 8 and len(COMMANDS) >= 15 and len(PYTHON) >= 1
    assert len(DEMO_COMMANDS) >= 3
    assert {e.region for e in CURLS} == {DEMO, GM}


# --- which region -----------------------------------------------------------------------


@pytest.mark.parametrize("example", CURLS, ids=lambda e: e.id)
def test_each_api_example_says_which_region_it_is_for(example: Example) -> None:
    assert example.region in REGIONS, f"{example.id}: unknown region {example.region!r}"
    said = {DEMO: r"\bdemo\b", GM: r"Greater Manchester"}[example.region]
    assert re.search(said, example.context, re.IGNORECASE), (
        f"{example.id}: the text before this block does not say it is for the "
        f"{example.region} region: {example.context!r}"
    )


@pytest.mark.parametrize("example", COMMANDS, ids=lambda e: e.id)
def test_each_command_names_a_region_that_exists(example: Example) -> None:
    words = shlex.split(example.text, comments=True)
    if words[1:2] in ([], ["--help"], ["--version"]):
        return
    command = cli.commands.get(words[1])
    assert command is not None, f"{example.id}: no command {words[1]!r}"
    takes_region = [p.name for p in command.params][:1] == ["region"]
    if not takes_region or len(words) < 3 or words[2].startswith("-"):
        return
    region = words[2]
    assert region in REGIONS | HYPOTHETICAL_REGIONS or region.isupper(), (
        f"{example.id}: {region!r} is not a region (one of {sorted(REGIONS)}, or a placeholder)"
    )


def test_the_docs_say_how_to_use_the_virtual_environment() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert "source .venv/bin/activate" in readme and ".venv/bin/placeintel" in readme
    assert ".venv/bin/" in (ROOT / "docs/analysts.md").read_text(encoding="utf-8")


# --- they answer --------------------------------------------------------------------------


@pytest.fixture(scope="module")
def gm_server(realdata: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """Greater Manchester built from the real files and served (skipped without them)."""
    releases = tmp_path_factory.mktemp("gm-releases")
    build(GM, releases, data_dir=realdata, echo=lambda line: None)
    with running_server(releases, region=GM) as url:
        yield url


@pytest.mark.parametrize("example", CURLS, ids=lambda e: e.id)
def test_each_curl_example_returns_data(example: Example, request: pytest.FixtureRequest) -> None:
    base = request.getfixturevalue("gm_server" if example.region == GM else "server")
    words = [_rehost(word, base) for word in shlex.split(example.text, comments=True)]
    assert any(word.startswith(base) for word in words), f"{example.id}: no example address"
    status, body = _fetch(_request(words))
    assert status == 200, f"{example.id}: HTTP {status}: {body[:300]!r}"
    assert _empty(body) is None, f"{example.id}: {_empty(body)}"
    if shutil.which("curl"):  # and as the reader runs it, where curl is installed
        status, body = _curl(words)
        assert status == 200 and _empty(body) is None, f"{example.id}: curl got {status}"


@pytest.mark.parametrize("example", DEMO_COMMANDS, ids=lambda e: e.id)
def test_each_read_only_demo_command_runs(
    example: Example, demo_release, releases_dir: Path, tmp_path: Path
) -> None:
    words = shlex.split(example.text, comments=True)
    arguments = words[1:]
    accepts = {o for p in cli.commands[words[1]].params for o in getattr(p, "opts", [])}
    if "--releases" in accepts and "--releases" not in arguments:
        arguments += ["--releases", str(releases_dir)]
    result = subprocess.run(
        [sys.executable, "-m", "placeintel.cli", *arguments],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        timeout=300,
        check=False,
        env=_this_checkout(),
    )
    assert result.returncode == 0, f"{example.id}: {result.stderr}"
    assert result.stdout.strip(), f"{example.id}: printed nothing"
    for option, value in zip(arguments, arguments[1:], strict=False):
        if option == "--output":
            assert (tmp_path / value).stat().st_size > 0, f"{example.id}: wrote no {value}"


@pytest.mark.parametrize("example", PYTHON, ids=lambda e: e.id)
def test_each_python_example_runs(example: Example, server: str, tmp_path: Path) -> None:
    code = _rehost(example.text, server)
    result = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        cwd=tmp_path,  # what it writes ("releases", "map.html") goes here
        timeout=600,
        check=False,
        env={**_this_checkout(), "TMPDIR": str(tmp_path)},
    )
    assert result.returncode == 0, f"{example.id}:\n{result.stderr[-3000:]}"


# --- helpers ------------------------------------------------------------------------------


def _this_checkout() -> dict[str, str]:
    """The environment, with this checkout's package first: the examples run in another
    folder, where `python -m placeintel` would otherwise find whichever one is installed."""
    path = os.pathsep.join(p for p in (str(ROOT), os.environ.get("PYTHONPATH", "")) if p)
    return {**os.environ, "PYTHONPATH": path}


def _rehost(text: str, base: str) -> str:
    for host in EXAMPLE_HOSTS:
        text = text.replace(host, base)
    return text


def _request(words: list[str]) -> urllib.request.Request:
    """The request curl would make for these arguments (the options the docs use).

    curl is not installed on every machine the tests run on, so its arguments are
    read here as curl reads them: `-G` puts the data in the query string, and
    `--data-urlencode name=value` encodes the value only. An option this does not know
    fails the test, so that no example passes without being understood.
    """
    url, data, headers, method, get = None, [], {}, None, False
    words = iter(words[1:])
    for word in words:
        if word in ("-G", "--get"):
            get = True
        elif word == "--data-urlencode":
            data.append(_urlencoded(next(words)))
        elif word in ("-d", "--data", "--data-raw", "--data-ascii", "--data-binary"):
            data.append(next(words))
        elif word in ("-H", "--header"):
            name, value = next(words).split(":", 1)
            headers[name.strip()] = value.strip()
        elif word in ("-X", "--request"):
            method = next(words)
        elif word in QUIET:
            continue
        elif word.startswith("-"):
            raise AssertionError(f"curl option {word} is not known to tests/test_docs.py")
        else:
            url = word
    assert url, "a curl example without a URL"
    body = "&".join(data) if data else None
    if get and body is not None:
        url, body = f"{url}{'&' if '?' in url else '?'}{body}", None
    if body is not None:
        headers.setdefault("Content-Type", "application/x-www-form-urlencoded")
    return urllib.request.Request(
        url, data=None if body is None else body.encode(), headers=headers, method=method
    )


def _urlencoded(argument: str) -> str:
    """curl's `--data-urlencode`: `content`, `=content` or `name=content`."""
    if "@" in argument.split("=", 1)[0]:
        raise AssertionError("--data-urlencode from a file is not known to tests/test_docs.py")
    name, equals, content = argument.partition("=")
    if not equals:
        return urllib.parse.quote(argument, safe="")
    quoted = urllib.parse.quote(content, safe="")
    return f"{name}={quoted}" if name else quoted


def _fetch(request: urllib.request.Request) -> tuple[int, bytes]:
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()


def _curl(words: list[str]) -> tuple[int, bytes]:
    result = subprocess.run(
        [words[0], "-sS", "-w", "\n%{http_code}", *words[1:]],
        capture_output=True,
        timeout=120,
        check=False,
    )
    body, _, status = result.stdout.rpartition(b"\n")
    return int(status or 0), body


def _empty(body: bytes) -> str | None:
    """Why an answer holds no data, or None when it does."""
    if not body.strip():
        return "the answer is empty"
    try:
        document = json.loads(body)
    except ValueError:
        return None  # a page or a file: not empty is enough
    if not document:
        return "the answer is an empty JSON document"
    if isinstance(document, dict):
        for key in ("features", "collections"):
            if key in document and not document[key]:
                return f"the answer has no {key}"
    return None
