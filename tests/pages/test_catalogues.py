"""English is complete: every string marked in the code and templates has its translation."""

from pathlib import Path

from babel.messages.extract import extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parent.parent.parent
SKIP = {".venv", "node_modules", "tests", "bench", "migrations", ".git"}


def marked_strings() -> set[tuple[str | None, str]]:
    """(context, message) of every marked string; the context is pgettext's (e.g. "week" for "Minggu",
    which is also Sunday)."""
    with open(ROOT / "babel.cfg") as cfg:
        method_map, options_map = parse_mapping_cfg(cfg)
    found = set()
    for _file, _line, message, _comments, context in extract_from_dir(
        ROOT, method_map, options_map, directory_filter=lambda path: not (set(Path(path).parts) & SKIP)
    ):
        found.update((context, m) for m in ([message] if isinstance(message, str) else message) if m)
    return found


def test_every_marked_string_has_an_english_translation():
    catalogue = {}
    with open(ROOT / "dispatch" / "translations" / "en" / "LC_MESSAGES" / "messages.po", "rb") as po:
        for message in read_po(po, locale="en"):
            # A plural (ngettext) has a tuple of ids and of strings: each id needs every form translated.
            for msgid in [message.id] if isinstance(message.id, str) else message.id:
                if msgid:
                    catalogue[(message.context, msgid)] = message

    def translated(marked: tuple[str | None, str]) -> bool:
        message = catalogue.get(marked)
        if message is None or message.fuzzy:
            return False
        return all(message.string) if isinstance(message.string, tuple) else bool(message.string)

    marked = marked_strings()
    assert len(marked) > 150  # the pages' strings were found (babel.cfg covers templates and modules)
    missing = sorted((m for m in marked if not translated(m)), key=lambda m: (m[0] or "", m[1]))
    assert missing == [], f"run `make catalogues`, then translate: {missing[:10]}"
