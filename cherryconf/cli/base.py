"""What every command shares: the global options, the one place a result is printed, the confirmation."""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any

import click

from cherryconf import console
from cherryconf.cli import helpformat
from cherryconf.errors import BadInput, one_line
from cherryconf.i18n import _

if TYPE_CHECKING:
    from pathlib import Path

    from cherryconf.ops.result import Result
    from cherryconf.paths import Context
    from cherryconf.stores.install import Install


class PathParam(click.Path):
    """click.Path whose value is a pathlib.Path, pathlib imported only when a command is given a path."""

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        import os
        from pathlib import Path

        return Path(os.fsdecode(super().convert(value, param, ctx)))


class Options:
    # A plain class, as PathParam: dataclasses and pathlib are not imported for --version and --help.
    def __init__(self, data_dir: Path | None, json: bool, debug: bool) -> None:
        self.data_dir = data_dir
        self.json = json
        self.debug = debug

    def context(self) -> Context:
        from cherryconf.paths import Context

        return Context.from_os()

    def install(self) -> Install:
        """The install the command works on, after finishing any restore a crash interrupted."""
        from cherryconf.stores import backup
        from cherryconf.stores import install as install_mod

        ctx = self.context()
        inst = install_mod.resolve(ctx, self.data_dir)
        for note in backup.finish_interrupted(ctx, inst):
            warn(note)
        return inst

    @contextlib.contextmanager
    def writing(self, inst: Install) -> Iterator[None]:
        """Hold the install's lock from planning to read-back; what a run killed meanwhile left is finished first."""
        from cherryconf.ops import session

        with session.held(self.context(), inst) as notes:
            for note in notes:
                warn(note)
            yield


pass_options = click.make_pass_decorator(Options)

# Set by the scripts `cherryconf completion SHELL` prints, when the shell asks for completions (click's protocol).
COMPLETE_VAR = "_CHERRYCONF_COMPLETE"


def _set_json(ctx: click.Context, _param: click.Parameter, value: bool) -> None:
    opts = ctx.find_object(Options)
    if value and opts is not None:
        opts.json = True


# `--json` works before the command (global) and after it, where people tend to type it.
json_option = click.option("--json", is_flag=True, expose_value=False, callback=_set_json,
                           help=_("Print one JSON document on stdout and nothing else there."))


# cherryconf.i18n reads --lang from the command line before click parses it (help texts are built on import);
# the option is here so click accepts it, before the command or after it, and --help shows it.
lang_option = click.option("--lang", type=click.Choice(["zh-CN", "en"], case_sensitive=False), metavar="[zh-CN|en]",
                           expose_value=False,
                           help=_("The language to speak: zh-CN or en (default: CHERRYCONF_LANG, then the "
                                  "system's)."))


def say(text: str, err: bool = False) -> None:
    """Print human text: wrapped to the terminal, in colour where the console says so, control characters
    escaped (see `console.finish`). Every line cherryconf prints for people goes through here; JSON does not."""
    stream = sys.stderr if err else sys.stdout
    colour = console.use_colour(stream)
    click.echo(console.finish(console.fill(text, console.width(stream)), colour), err=err, color=colour)


def warn(message: str, colour: str = console.CHANGE) -> None:
    """`cherryconf: message` on stderr, the prefix in `colour` (a note's yellow, or an error's red)."""
    say(console.paint("cherryconf:", colour) + " " + message, err=True)


def emit(opts: Options, result: Result) -> None:
    """Print the command's result, the one place it is printed: its JSON document with --json, else its text; then
    why it failed, if it did, and end the run with its exit code."""
    if opts.json:
        from cherryconf.render import dumps

        click.echo(dumps(result.data))
    elif result.text:
        say(result.text)
    if result.problem:
        # The result says more; this is why the exit is not 0 (one line, whatever it quotes).
        warn(one_line(result.problem), console.BAD)
    if result.exit_code:
        click.get_current_context().exit(result.exit_code)


def confirm(question: str, yes: bool) -> None:
    """Ask before writing; --yes skips it, and without a terminal the user must say --yes."""
    if yes:
        return
    if not sys.stdin.isatty():
        raise BadInput(_("not a terminal, so cherryconf cannot ask for confirmation: add --yes to go ahead"))
    from cherryconf.wizard.terminal import yes_no

    # The wizard's question, not click's [y/N]: one style everywhere, in the user's language, Enter confirms.
    if not yes_no(question, default=False).unsafe_ask():
        raise click.Abort


def command(name: str | None = None, **attrs: Any) -> Callable[[Callable[..., Any]], helpformat.Command]:
    """click.command with cherryconf's help layout, as the group's own commands get it."""
    return click.command(name, cls=helpformat.Command, **attrs)
