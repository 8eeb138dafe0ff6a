"""What an edit changed in a post, as a reader can follow it: the Markdown source, line by line,
with the words that changed inside a changed line marked.

difflib (the standard library) finds the changes; this module only shapes them for the page.
Long stretches that did not change are folded to a few lines of context around each change.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass, field

# Unchanged lines kept around each change; longer unchanged stretches are folded.
CONTEXT_LINES = 2
# Words and the spaces between them, so that joined back together they give the line again.
WORDS = re.compile(r"\S+|\s+")


@dataclass(frozen=True)
class Piece:
    kind: str  # "same", "removed" or "added"
    text: str


@dataclass
class Line:
    kind: str  # "same", "removed", "added", "changed" (words marked inside), or "folded"
    pieces: list[Piece] = field(default_factory=list)
    folded: int = 0  # for "folded": how many unchanged lines are not shown


def words_diff(old: str, new: str) -> list[Piece]:
    """One line that changed, as pieces: what stayed, what went, what came."""
    old_words, new_words = WORDS.findall(old), WORDS.findall(new)
    pieces: list[Piece] = []
    matcher = difflib.SequenceMatcher(a=old_words, b=new_words, autojunk=False)
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            pieces.append(Piece("same", "".join(old_words[i1:i2])))
            continue
        if i2 > i1:
            pieces.append(Piece("removed", "".join(old_words[i1:i2])))
        if j2 > j1:
            pieces.append(Piece("added", "".join(new_words[j1:j2])))
    return pieces


def lines_diff(old: str, new: str) -> list[Line]:
    """The body's lines with their changes; a line replaced by one line shows its words' changes."""
    old_lines, new_lines = old.splitlines(), new.splitlines()
    lines: list[Line] = []
    matcher = difflib.SequenceMatcher(a=old_lines, b=new_lines, autojunk=False)
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            lines.extend(Line("same", [Piece("same", text)]) for text in old_lines[i1:i2])
        elif tag == "replace" and i2 - i1 == j2 - j1:
            for old_line, new_line in zip(old_lines[i1:i2], new_lines[j1:j2], strict=True):
                lines.append(Line("changed", words_diff(old_line, new_line)))
        else:
            lines.extend(Line("removed", [Piece("removed", text)]) for text in old_lines[i1:i2])
            lines.extend(Line("added", [Piece("added", text)]) for text in new_lines[j1:j2])
    return fold_unchanged(lines)


def fold_unchanged(lines: list[Line]) -> list[Line]:
    """Keep CONTEXT_LINES unchanged lines on each side of every change; fold the rest."""
    changed = [index for index, line in enumerate(lines) if line.kind != "same"]
    keep = {
        near
        for index in changed
        for near in range(index - CONTEXT_LINES, index + CONTEXT_LINES + 1)
        if 0 <= near < len(lines)
    }
    folded: list[Line] = []
    hidden = 0
    for index, line in enumerate(lines):
        if index in keep:
            if hidden:
                folded.append(Line("folded", folded=hidden))
                hidden = 0
            folded.append(line)
        else:
            hidden += 1
    if hidden:
        folded.append(Line("folded", folded=hidden))
    return folded


@dataclass(frozen=True)
class PostDiff:
    title: list[Piece] | None  # None when the title did not change
    body: list[Line]


def post_diff(*, old_title: str, old_body: str, new_title: str, new_body: str) -> PostDiff:
    title = words_diff(old_title, new_title) if old_title != new_title else None
    return PostDiff(title=title, body=lines_diff(old_body, new_body))
