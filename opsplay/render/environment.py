"""The sandboxed Jinja2 environment: where templates are found and how their errors read.

Template names (see templates/README.md):
- `sop.md.j2` and the other plain names resolve to the user's `--templates DIR` first,
  then to the shipped templates, so a user file overrides the shipped one by name
  (as MkDocs' `custom_dir`);
- `opsplay/sop.md.j2` always resolves to the shipped template, so an override can
  `{% extends "opsplay/sop.md.j2" %}` and replace only some blocks.
"""

from __future__ import annotations

import functools
import importlib.resources
import re
import traceback
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import jinja2
from jinja2.sandbox import SecurityError
from markupsafe import Markup

from opsplay.errors import TemplateError, UsageError
from opsplay.i18n import N_, _, translate, translations
from opsplay.render.budget import (
    MAX_OUTPUT,
    BudgetedSandbox,
    BudgetExceeded,
    alarm,
    number_too_long,
)
from opsplay.render.filters import bind
from opsplay.text import needs_visible, visible

SHIPPED_PREFIX = "opsplay"
# Python's refusal to turn an int of more than 4,300 digits into text (CVE-2020-10735).
_INT_DIGITS = re.compile(r"integer string conversion|int_max_str_digits")
_HTML_SUFFIXES = (".html.j2", ".htm.j2", ".svg.j2", ".html", ".htm", ".svg", ".xml")


def shipped_templates_dir() -> Path:
    """The folder of the templates that ship with opsplay (package data, or the repository's)."""
    packaged = importlib.resources.files("opsplay") / "templates"
    if isinstance(packaged, Path) and packaged.is_dir():
        return packaged
    repository = Path(__file__).resolve().parents[2] / "templates"  # editable install
    if repository.is_dir():
        return repository
    raise TemplateError(_("the templates shipped with opsplay are missing; reinstall opsplay"))


def _autoescape(name: str | None) -> bool:
    """HTML (and SVG) templates escape every value; Markdown templates do not."""
    return name is not None and name.lower().endswith(_HTML_SUFFIXES)


class Renderer:
    """Renders named templates in a sandbox with the filters bound to one language."""

    def __init__(self, lang: str, templates_dir: Path | None = None) -> None:
        self.shipped = shipped_templates_dir()
        self.user = templates_dir
        loaders: list[jinja2.BaseLoader] = [
            jinja2.PrefixLoader({SHIPPED_PREFIX: jinja2.FileSystemLoader(self.shipped)})
        ]
        if templates_dir is not None:
            if not templates_dir.is_dir():
                raise UsageError(
                    _("--templates {folder}: no such folder").format(folder=templates_dir)
                )
            loaders.append(jinja2.FileSystemLoader(templates_dir))
        loaders.append(jinja2.FileSystemLoader(self.shipped))
        self.env = BudgetedSandbox(
            loader=jinja2.ChoiceLoader(loaders),
            undefined=jinja2.StrictUndefined,
            autoescape=_autoescape,
            trim_blocks=True,
            lstrip_blocks=True,
            keep_trailing_newline=True,
            auto_reload=True,  # a long-lived process sees edited user templates
            extensions=["jinja2.ext.i18n"],
        )
        # The one catalogue: templates say `{{ _("Owner") }}` / `{% trans %}`, as code does.
        self.env.install_gettext_translations(translations(lang), newstyle=True)  # type: ignore[attr-defined]
        self.env.globals["colon"] = translate(N_(": "), lang)
        self.env.filters.update(bind(lang))

    def render(self, name: str, context: Mapping[str, Any]) -> str:
        """Render template `name`; a mistake in it becomes a TemplateError naming file and line."""
        try:
            text = self._render(name, context)
        except BudgetExceeded as error:
            raise TemplateError(
                _("{where}: {problem}").format(
                    where=self._traceback_location(error) or name, problem=error
                )
            ) from None
        except MemoryError:
            raise TemplateError(
                _("{where}: the template needs more memory than there is").format(where=name)
            ) from None
        except jinja2.TemplateSyntaxError as error:
            where = self._where(error.filename, error.lineno, error.name)
            raise TemplateError(
                _("{where}: syntax error: {problem}").format(where=where, problem=error.message)
            ) from None
        except jinja2.TemplateNotFound as error:
            where = self._traceback_location(error)
            prefix = f"{where}: " if where else ""
            raise TemplateError(
                prefix
                + _("template `{name}` not found (looked in {folders})").format(
                    name=error.name, folders=self._searched()
                )
            ) from None
        except SecurityError as error:
            raise TemplateError(
                _("{where}: blocked by the template sandbox: {problem}").format(
                    where=self._traceback_location(error) or name, problem=error
                )
            ) from None
        except jinja2.UndefinedError as error:
            where = self._traceback_location(error) or name
            message = _("{where}: undefined variable: {problem}").format(
                where=where, problem=error.message
            )
            if error.message == "'t' is undefined":  # a template written before the catalogue
                message += " " + _(
                    '(the word table `t` is gone: write `{{ _("Owner") }}` or '
                    '`{% trans %}Owner{% endtrans %}`, and `value|label("status")` for fixed values)'
                )
            raise TemplateError(message) from None
        except RecursionError as error:
            macro = self._macro_recursion(error)
            if macro is not None:
                raise TemplateError(
                    _(
                        "{where}: a macro calls itself without end; give it a condition that "
                        "stops the recursion (`{{% if depth < 5 %}}`)"
                    ).format(where=macro)
                ) from None
            raise TemplateError(
                _(
                    "{name}: templates extend or include each other in a loop; a user template "
                    "that replaces `{name}` extends the shipped one as `{shipped}`"
                ).format(name=name, shipped=f"{SHIPPED_PREFIX}/{name}")
            ) from None
        except ValueError as error:
            if not _INT_DIGITS.search(str(error)):
                raise self._plain(error, name) from None
            raise TemplateError(
                _("{where}: {problem}").format(
                    where=self._traceback_location(error) or name, problem=number_too_long()
                )
            ) from None
        except (
            jinja2.TemplateError,
            ArithmeticError,
            LookupError,
            OSError,
            RuntimeError,
            TypeError,
        ) as error:
            raise self._plain(error, name) from None
        # One trailing newline, whatever the template's whitespace control did at the end.
        return text.rstrip("\n") + "\n"

    def _plain(self, error: BaseException, name: str) -> TemplateError:
        """Jinja's own message (in English: it has no catalogue) with the template and line."""
        message = getattr(error, "message", None) or str(error)
        return TemplateError(f"{self._traceback_location(error) or name}: {message}")

    def _macro_recursion(self, error: RecursionError) -> str | None:
        """`file, line N` of a macro calling itself, or None for templates that include or
        extend each other. Jinja names the frames of a template's own code "top-level
        template code" (or a block's), and those of its macros "template"."""
        frames = [
            f for f in traceback.extract_tb(error.__traceback__) if f.filename.endswith(".j2")
        ]
        in_macros = [f for f in frames if f.name == "template"]
        if len(in_macros) * 2 <= len(frames):
            return None
        return self._where(in_macros[-1].filename, in_macros[-1].lineno)

    def _render(self, name: str, context: Mapping[str, Any]) -> str:
        """The document, built chunk by chunk within the time and output budgets."""
        template = self.env.get_template(name)
        context = _visible_tree(context)
        self.env.start()
        chunks: list[str] = []
        size = 0
        with alarm():
            for chunk in template.generate(context):
                size += len(chunk)
                if size > MAX_OUTPUT:
                    raise BudgetExceeded(
                        _(
                            "the document is longer than {limit} characters; rendering stopped"
                        ).format(limit=MAX_OUTPUT)
                    )
                self.env.tick()
                chunks.append(chunk)
        return "".join(chunks)

    def _searched(self) -> str:
        folders = [str(self.user)] if self.user else []
        return _(", ").join([*folders, _("the shipped templates")])

    def _where(self, filename: str | None, lineno: int | None, name: str | None = None) -> str:
        shown = self._display(filename) if filename else (name or "<template>")
        return _(", ").join([shown, _("line {line}").format(line=lineno)]) if lineno else shown

    def _display(self, filename: str) -> str:
        path = Path(filename)
        try:
            return (
                f"{SHIPPED_PREFIX}/{path.resolve().relative_to(self.shipped.resolve()).as_posix()}"
            )
        except ValueError:
            return filename

    def _traceback_location(self, error: BaseException) -> str | None:
        """`file, line N` of the innermost template frame (Jinja maps frames to template lines)."""
        roots = [self.shipped.resolve(), *([self.user.resolve()] if self.user else [])]
        for frame in reversed(traceback.extract_tb(error.__traceback__)):
            path = Path(frame.filename)
            if frame.filename.endswith(".j2") or any(
                root in path.resolve().parents for root in roots
            ):
                return self._where(frame.filename, frame.lineno)
        return None


def _visible_tree(value: Any, seen: dict[int, Any] | None = None) -> Any:
    """Data with every string's control characters shown escaped (`\\x1b`) and invisible
    characters as `<U+200B>`: text from playbooks and exports never reaches a document as a
    raw terminal escape or a hidden bidi override. Shared
    dicts and lists (`nodes_by_id` holds the nodes) stay shared, walked once."""
    if isinstance(value, str):
        return visible(value) if needs_visible(value) and not isinstance(value, Markup) else value
    if not isinstance(value, (Mapping, list, tuple)):
        return value
    seen = {} if seen is None else seen
    if id(value) in seen:
        return seen[id(value)]
    if isinstance(value, Mapping):
        result: Any = {}
        seen[id(value)] = result
        result.update((key, _visible_tree(item, seen)) for key, item in value.items())
    else:
        result = []
        seen[id(value)] = result
        result.extend(_visible_tree(item, seen) for item in value)
    return result


@functools.lru_cache(maxsize=16)
def get_renderer(lang: str, templates_dir: Path | None = None) -> Renderer:
    """A Renderer per language and template folder, reused so templates compile once per process."""
    return Renderer(lang, templates_dir)
