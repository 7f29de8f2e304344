"""The command line: the group and its global options, the commands (one module each, in commands/), and main(),
the one exit path that maps every outcome to the documented exit code and one sentence.

Only click is imported at start-up; every command imports what it needs, so `--version` and `--help` stay fast.
"""

from __future__ import annotations

import importlib
import os
import sys
from typing import TYPE_CHECKING, NoReturn

import click

from cherryconf import __version__, console
from cherryconf.cli import helpformat
from cherryconf.cli.base import COMPLETE_VAR, Options, PathParam, lang_option
from cherryconf.cli.commands import COMMANDS, HELP
from cherryconf.errors import CherryconfError, ExitCode
from cherryconf.i18n import _

if TYPE_CHECKING:
    from pathlib import Path


class _Group(helpformat.Group):
    """The commands, each imported when it runs or shows its own help. `commands` holds stand-ins that carry only
    their help, which is all the group's --help lists: neither it nor --version imports a command module."""

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name not in COMMANDS:
            return None
        module, name = COMMANDS[cmd_name]
        command: click.Command = getattr(importlib.import_module(module), name)
        return command

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        helpformat.Group(commands=self.commands).format_commands(ctx, formatter)


@click.group(cls=_Group, invoke_without_command=True,
             commands=[helpformat.Command(name, help=text) for name, text in HELP.items()],
             context_settings={"help_option_names": ["-h", "--help"]},
             help=_("Set up and repair Cherry Studio's LLM providers (OpenAI-compatible gateways on "
                    "chat/completions)."))
@click.option("--data-dir", type=PathParam(file_okay=False), envvar="CHERRYCONF_DATA_DIR",
              help=_("Cherry Studio's userData directory (default: find it)."))
@click.option("--json", "as_json", is_flag=True, help=_("Print one JSON document on stdout and nothing else there."))
@click.option("--debug", is_flag=True, help=_("Show the traceback of an unexpected error."))
@lang_option
@click.version_option(__version__, prog_name="cherryconf")
@click.pass_context
def cli(ctx: click.Context, data_dir: Path | None, as_json: bool, debug: bool) -> None:
    ctx.obj = Options(data_dir, as_json, debug)
    if ctx.invoked_subcommand is None:
        if sys.stdin.isatty() and sys.stdout.isatty() and not as_json:
            from cherryconf.cli.commands.wizard import wizard

            ctx.invoke(wizard)
            return
        click.echo(ctx.get_help(), err=True)
        ctx.exit(ExitCode.BAD_INPUT)


def _fail(opts: Options | None, message: str, code: int) -> NoReturn:
    from cherryconf.cli.base import warn
    from cherryconf.errors import one_line

    message = one_line(message)  # whatever it quotes (a usage error, an unexpected one), it stays one line
    warn(message, console.BAD)
    if opts is not None and opts.json:
        from cherryconf.render import dumps

        click.echo(dumps({"error": message, "exit_code": code}))
    sys.exit(code)


def main(argv: list[str] | None = None) -> NoReturn:
    """Entry point: run the CLI and map every outcome to the documented exit code and one sentence."""
    ctx: click.Context | None = None

    def options() -> Options | None:
        obj = getattr(ctx, "obj", None)
        return obj if isinstance(obj, Options) else None

    if os.environ.get(COMPLETE_VAR):
        # The shell asks for completions (a script `cherryconf completion` printed): click answers, nothing runs.
        from click.shell_completion import shell_complete

        sys.exit(shell_complete(cli, {}, "cherryconf", COMPLETE_VAR, os.environ[COMPLETE_VAR]))
    console.setup_streams()
    try:
        with cli.make_context("cherryconf", list(sys.argv[1:] if argv is None else argv)) as ctx:
            cli.invoke(ctx)
        sys.exit(0)
    except click.exceptions.Exit as e:
        sys.exit(e.exit_code)
    except click.exceptions.Abort:
        _fail(options(), _("stopped; nothing was written"), ExitCode.INTERRUPTED)
    except click.UsageError as e:
        # One sentence, like every other bad input, and where to look for the right usage.
        where = e.ctx.command_path if e.ctx else "cherryconf"
        # click joins its sentences with a space, which a Chinese full stop does not take.
        message = e.format_message().replace("。 ", "。").rstrip(".。")
        _fail(options(), _("{error} (see `{command} --help`)").format(error=message,
                                                                      command=where), ExitCode.BAD_INPUT)
    except click.ClickException as e:
        _fail(options(), e.format_message(), e.exit_code)
    except CherryconfError as e:
        _fail(options(), e.message, e.exit_code)
    except KeyboardInterrupt:
        _fail(options(), _("interrupted; nothing was written"), ExitCode.INTERRUPTED)
    except Exception as e:
        opts = options()
        if (opts is not None and opts.debug) or "--debug" in sys.argv:
            raise
        _fail(opts, _("unexpected error: {type}: {error} (run with --debug to see where)").format(
            type=type(e).__name__, error=e), ExitCode.UNEXPECTED)
