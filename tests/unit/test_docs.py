"""The repository carries its own documents: no pointer leaves it, no relative link is broken."""

import re
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

# Notes kept outside the repository, which a person who clones kanal does not have. Built from
# parts so that this file does not mention them itself.
OUTSIDE = ("/".join(("..", "shared")),) + tuple(
    f"{name}.md" for name in ("DOMAIN", "ARCHITECTURE", "STYLE", "RECIPES")
)
SKIPPED_DIRS = {".git", "instance", "__pycache__", "node_modules"}
SKIPPED_PREFIXES = ("bots/rasa/models/", "bots/rasa/.rasa/")

_FENCE = re.compile(r"^(```|~~~).*?^\1", re.MULTILINE | re.DOTALL)
_CODE = re.compile(r"`[^`\n]*`")
_LINK = re.compile(r"\[[^\]\n]*\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)")
_SCHEME = re.compile(r"^[a-zA-Z][a-zA-Z0-9+.-]*:")


def repository_files() -> list[str]:
    """Return the repository's files (tracked or new, not ignored), relative to its root."""
    try:
        out = subprocess.run(
            ["git", "ls-files", "--cached", "--others", "--exclude-standard", "-z"],
            cwd=ROOT,
            capture_output=True,
            check=True,
            timeout=60,
        ).stdout.decode()
        names = [n for n in out.split("\0") if n]
    except (OSError, subprocess.SubprocessError):  # not a git checkout: walk the tree
        names = [
            p.relative_to(ROOT).as_posix()
            for p in ROOT.rglob("*")
            if p.is_file()
            and not any(
                part in SKIPPED_DIRS or part.startswith(".venv")
                for part in p.relative_to(ROOT).parts
            )
        ]
    return sorted(
        n
        for n in names
        if not n.startswith(SKIPPED_PREFIXES) and not n.startswith(".venv") and (ROOT / n).is_file()
    )


def markdown_documents() -> list[str]:
    """Return README.md and the documents under docs/."""
    return ["README.md"] + sorted(
        p.relative_to(ROOT).as_posix() for p in (ROOT / "docs").glob("*.md")
    )


def slug(heading: str) -> str:
    """Return the anchor GitHub gives a heading."""
    text = heading.strip().replace("`", "").lower()
    return re.sub(r"[^\w\- ]", "", text).replace(" ", "-")


def anchors(path: Path) -> set[str]:
    text = _FENCE.sub("", path.read_text(encoding="utf-8"))
    return {slug(m) for m in re.findall(r"^#{1,6}\s+(.+?)\s*#*\s*$", text, re.MULTILINE)}


def relative_links(doc: str) -> list[str]:
    """Return the link targets of a markdown document that point inside the repository."""
    text = (ROOT / doc).read_text(encoding="utf-8")
    text = _CODE.sub("", _FENCE.sub("", text))
    return [t for t in _LINK.findall(text) if not _SCHEME.match(t)]


@pytest.mark.unit
def test_no_file_points_at_notes_outside_the_repository():
    found = []
    for name in repository_files():
        data = (ROOT / name).read_bytes()
        if b"\0" in data:
            continue  # binary
        for number, line in enumerate(data.decode("utf-8", "replace").splitlines(), 1):
            found += [f"{name}:{number}: {word}" for word in OUTSIDE if word in line]
    assert not found, "point at docs/domain.md or docs/architecture.md instead:\n" + "\n".join(
        found
    )


@pytest.mark.unit
@pytest.mark.parametrize("doc", markdown_documents())
def test_every_relative_link_in_a_document_reaches_a_file(doc):
    broken = []
    for target in relative_links(doc):
        path, _, anchor = target.partition("#")
        where = ((ROOT / doc).parent / path).resolve() if path else ROOT / doc
        if not where.is_relative_to(ROOT):
            broken.append(f"{target}: leaves the repository")
            continue
        if not where.exists():
            broken.append(f"{target}: no such file")
        elif anchor and where.suffix == ".md" and anchor not in anchors(where):
            broken.append(f"{target}: no heading #{anchor}")
    assert not broken, f"{doc}: " + "; ".join(broken)


def configuration_variables() -> set[str]:
    """Return the environment variables router/config.py reads."""
    source = (ROOT / "router" / "config.py").read_text(encoding="utf-8")
    return set(re.findall(r"env\.get\(\s*[\"']((?:KANAL|TWILIO)_[A-Z0-9_]+)[\"']", source))


@pytest.mark.unit
def test_the_readme_lists_every_configuration_variable():
    names = configuration_variables()
    assert "KANAL_DATABASE_URL" in names  # the pattern still finds what config.py reads
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    missing = sorted(n for n in names if f"`{n}`" not in readme)
    assert not missing, "README.md, Configuration: add " + ", ".join(missing)
