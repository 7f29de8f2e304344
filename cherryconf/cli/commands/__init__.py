"""One module per command. Each imports only click and the command line's own small modules at the top, so
`--help` and `--version` stay fast; what a command needs it imports when it runs.

cherryconf --help lists the commands from HELP alone and runs one by importing its module from COMMANDS
(cli/__init__.py): neither --help nor --version imports a command module."""

from __future__ import annotations

from cherryconf.i18n import _

# Each command's help, the text its own --help shows and the group's list shortens.
HELP = {
    "schema": _("Print a JSON Schema: the 1.x Provider format, or the profile format."),
    "link": _("Print the app's own cherrystudio:// import link for each provider (no files touched)."),
    "locate": _("Show the Cherry Studio installs found: data dir, store kind, app version, running or not."),
    "providers": _("List the providers in the store: id, name, type, the URL chats go to, models, key (masked), "
                   "owner."),
    "verify": _("Probe a gateway: which models answer on chat/completions, which on responses (exit 5 when "
                "the one in use fails, or nothing could be checked)."),
    "wizard": _("Interactive set-up: preset, name, base URL, key, models -> preview -> backup and write."),
    "doctor": _("Find broken providers (responses type on a gateway, an apiHost the app misreads, ...); "
                "exit 5 if any."),
    "export": _("Write the store's providers as a profile (keys as ${VAR} references unless --with-keys)."),
    "import": _("Turn providers kept elsewhere into a profile `apply` takes.\n\nSOURCE: a Cherry Studio backup zip, an "
                "import link, a Cherry Studio provider export, a claude-code-router config.json or a cc-switch "
                "database, told apart by their content."),
    "apply": _("Make the store hold the profile's providers (idempotent; backs up first)."),
    "backups": _("List backups: id, local time, install, reason, size, providers, and what the write after each "
                 "changed (all installs unless --data-dir)."),
    "restore": _("Undo what cherryconf changed since a backup (default: the newest), and only that; --whole puts the "
                 "whole store back as it was."),
    "key": _("Keep API keys in the system keychain."),
    "completion": _("Print the shell completion script for bash, zsh or fish (Tab completes commands and options)."),
}

# Where each command is defined: module, function.
COMMANDS = {
    "schema": ("cherryconf.cli.commands.schema", "schema"),
    "link": ("cherryconf.cli.commands.link", "link"),
    "locate": ("cherryconf.cli.commands.locate", "locate"),
    "providers": ("cherryconf.cli.commands.providers", "providers"),
    "verify": ("cherryconf.cli.commands.verify", "verify"),
    "wizard": ("cherryconf.cli.commands.wizard", "wizard"),
    "doctor": ("cherryconf.cli.commands.doctor", "doctor"),
    "export": ("cherryconf.cli.commands.export", "export"),
    "import": ("cherryconf.cli.commands.export", "import_"),
    "apply": ("cherryconf.cli.commands.apply", "apply"),
    "backups": ("cherryconf.cli.commands.backups", "backups"),
    "restore": ("cherryconf.cli.commands.restore", "restore"),
    "key": ("cherryconf.cli.commands.key", "key"),
    "completion": ("cherryconf.cli.commands.completion", "completion"),
}
