"""English is complete: every string marked in the code and templates has its translation."""

from pathlib import Path

from babel.messages.extract import extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parent.parent.parent
SKIP = {".venv", "node_modules", "tests", "bench", "migrations", ".git"}


def marked_strings() -> set[str]:
    with open(ROOT / "babel.cfg") as cfg:
        method_map, options_map = parse_mapping_cfg(cfg)
    found = set()
    for _file, _line, message, _comments, _context in extract_from_dir(
        ROOT, method_map, options_map, directory_filter=lambda path: not (set(Path(path).parts) & SKIP)
    ):
        found.update([message] if isinstance(message, str) else [m for m in message if m])
    return found


def test_every_marked_string_has_an_english_translation():
    with open(ROOT / "dispatch" / "translations" / "en" / "LC_MESSAGES" / "messages.po", "rb") as po:
        catalogue = {m.id: m for m in read_po(po, locale="en") if m.id}
    marked = marked_strings()
    assert len(marked) > 150  # the pages' strings were found (babel.cfg covers templates and modules)
    missing = sorted(m for m in marked if m not in catalogue or not catalogue[m].string or catalogue[m].fuzzy)
    assert missing == [], f"run `make catalogues`, then translate: {missing[:10]}"
