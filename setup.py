"""The build compiles the gettext catalogues (ledger/locale/*/LC_MESSAGES/*.po → .mo) with Babel,
for a wheel and for an editable install alike. Everything else is in pyproject.toml."""

from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py


def compile_catalogues(root: Path) -> list[Path]:
    from babel.messages.mofile import write_mo
    from babel.messages.pofile import read_po

    written = []
    for po in sorted((root / "ledger" / "locale").glob("*/LC_MESSAGES/*.po")):
        with po.open("rb") as source:
            catalogue = read_po(source, locale=po.parent.parent.name)
        mo = po.with_suffix(".mo")
        with mo.open("wb") as target:
            write_mo(target, catalogue, use_fuzzy=False)
        written.append(mo)
    return written


class BuildWithCatalogues(build_py):
    def run(self) -> None:
        compile_catalogues(Path(__file__).parent)
        super().run()


setup(cmdclass={"build_py": BuildWithCatalogues})
