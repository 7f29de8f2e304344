"""`cherryconf key set|get|delete|list`: API keys in the OS keychain, for profiles' `keyring:<service>/<name>`."""

from __future__ import annotations

import click

from cherryconf.cli import helpformat
from cherryconf.cli.base import Options, command, emit, json_option, lang_option, pass_options
from cherryconf.cli.commands import HELP
from cherryconf.i18n import _

_REF_HELP = _("REF is keyring:<service>/<name>; <service>/<name> and a bare <name> (in the service cherryconf) "
              "work too.")


@click.group(cls=helpformat.Group, short_help=HELP["key"],
             help=_("Keep API keys in the system keychain (macOS Keychain, Windows Credential Manager, the Secret "
                    "Service) for profiles to name as keyring:<service>/<name>."))
def key() -> None:
    pass


def _read_secret() -> str:
    """The secret from a hidden prompt on a terminal, else from standard input: never from an argument (it would
    show in `ps` and the shell's history)."""
    import sys

    from cherryconf.errors import BadInput

    if sys.stdin.isatty():
        from cherryconf.wizard.questions import Question
        from cherryconf.wizard.terminal import questionary_ask

        secret = str(questionary_ask(Question("api_key", "password", _("API key"),
                                              validate=lambda v: None if str(v).strip() else _("the key is empty"))))
    else:
        secret = sys.stdin.read(64 * 1024 + 1)
        if len(secret) > 64 * 1024:
            raise BadInput(_("standard input holds more than 64 KiB: that is no API key"))
    secret = secret.strip()
    if not secret:
        raise BadInput(_("no key given: type it at the prompt, or pipe it on standard input"))
    if any(ord(c) < 0x20 or ord(c) == 0x7F for c in secret):
        raise BadInput(_("the key contains a line break or another control character"))
    return secret


@key.command("set", cls=helpformat.Command, help=_("Keep a key in the keychain, read from a hidden prompt or "
                                                    "standard input. ") + _REF_HELP)
@json_option
@lang_option
@click.argument("ref", metavar="REF")
@pass_options
def set_(opts: Options, ref: str) -> None:
    from cherryconf.formats import keyref
    from cherryconf.ops import keys
    from cherryconf.ops.result import Result

    parsed = keyref.parse_arg(ref)
    keys.set_key(opts.context(), parsed, _read_secret())
    emit(opts, Result({"ref": str(parsed), "stored": True},
                      _("stored {ref}; a profile names it as `apiKey: {ref}`").format(ref=parsed)))


@key.command("get", cls=helpformat.Command, help=_("Show a key, masked unless --reveal. ") + _REF_HELP)
@json_option
@lang_option
@click.argument("ref", metavar="REF")
@click.option("--reveal", is_flag=True, help=_("Print the whole key (on standard output, for a pipe)."))
@pass_options
def get(opts: Options, ref: str, reveal: bool) -> None:
    from cherryconf.formats import keyref
    from cherryconf.ops.result import Result
    from cherryconf.redact import mask

    parsed = keyref.parse_arg(ref)
    secret = keyref.read(parsed)
    shown = secret if reveal else mask(secret)
    emit(opts, Result({"ref": str(parsed), "key": shown, "revealed": reveal}, shown))


@key.command("delete", cls=helpformat.Command, help=_("Remove a key from the keychain. ") + _REF_HELP)
@json_option
@lang_option
@click.argument("ref", metavar="REF")
@pass_options
def delete(opts: Options, ref: str) -> None:
    from cherryconf.formats import keyref
    from cherryconf.ops import keys
    from cherryconf.ops.result import Result

    parsed = keyref.parse_arg(ref)
    keys.delete_key(opts.context(), parsed)
    emit(opts, Result({"ref": str(parsed), "deleted": True}, _("deleted {ref}").format(ref=parsed)))


@command("list", help=_("List the keys `cherryconf key set` stored (in SERVICE), and whether the keychain holds "
                        "each now."))
@json_option
@lang_option
@click.argument("service", required=False)
@pass_options
def list_(opts: Options, service: str | None) -> None:
    from cherryconf.ops import keys
    from cherryconf.ops.result import Result

    rows = keys.list_keys(opts.context(), service)
    states = {"present": _("present"), "missing": _("missing"), "unreadable": _("keychain locked or unavailable")}
    text = "\n".join(f"{r['ref']}  {states[r['state']]}" for r in rows) or _("no keys stored by cherryconf")
    emit(opts, Result({"keys": rows}, text))


key.add_command(list_)
