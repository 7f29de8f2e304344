"""The command line: parse, call one core function, render its result. Nothing else lives here.

Only click is imported at start-up; every command imports what it needs, so `--version` and `--help` stay fast.
"""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any, Literal, NoReturn

import click

from cherryconf import __version__, console
from cherryconf.cli import helpformat
from cherryconf.errors import BadInput, CherryconfError, ExitCode, StoreError
from cherryconf.i18n import _, ngettext

if TYPE_CHECKING:
    from pathlib import Path

    from cherryconf.domain.endpoints import AppVersion
    from cherryconf.domain.plan import Plan
    from cherryconf.ops import allusers, probe
    from cherryconf.ops.apply import Written
    from cherryconf.paths import Context
    from cherryconf.stores.install import Install


class _PathParam(click.Path):
    """click.Path whose value is a pathlib.Path, pathlib imported only when a command is given a path."""

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        import os
        from pathlib import Path

        return Path(os.fsdecode(super().convert(value, param, ctx)))


class Options:
    # A plain class, as _PathParam: dataclasses and pathlib are not imported for --version and --help.
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
            click.echo(f"cherryconf: {note}", err=True)
        return inst

    @contextlib.contextmanager
    def writing(self, inst: Install) -> Iterator[None]:
        """Hold the install's lock from planning to read-back; what a run killed meanwhile left is finished first."""
        from cherryconf.stores import backup, runlock

        ctx = self.context()
        with runlock.hold(ctx, inst):
            for note in backup.finish_interrupted(ctx, inst):
                click.echo(f"cherryconf: {note}", err=True)
            yield


pass_options = click.make_pass_decorator(Options)


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


def emit(opts: Options, document: dict[str, Any], text: str) -> None:
    """Print the command's result: one JSON document with --json, else the human text."""
    if opts.json:
        from cherryconf.render import dumps

        click.echo(dumps(document))
    elif text:
        click.echo(text)


def confirm(question: str, yes: bool) -> None:
    """Ask before writing; --yes skips it, and without a terminal the user must say --yes."""
    if yes:
        return
    if not sys.stdin.isatty():
        raise BadInput(_("not a terminal, so cherryconf cannot ask for confirmation: add --yes to go ahead"))
    if not click.confirm(question, default=False):
        raise click.Abort


@click.group(cls=helpformat.Group, invoke_without_command=True,
             context_settings={"help_option_names": ["-h", "--help"]},
             help=_("Set up and repair Cherry Studio's LLM providers (OpenAI-compatible gateways on "
                    "chat/completions)."))
@click.option("--data-dir", type=_PathParam(file_okay=False), envvar="CHERRYCONF_DATA_DIR",
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
            ctx.invoke(wizard)
            return
        click.echo(ctx.get_help(), err=True)
        ctx.exit(ExitCode.BAD_INPUT)


@cli.command(help=_("Print a JSON Schema: the 1.x Provider format, or the profile format."))
@json_option
@lang_option
@click.argument("which", type=click.Choice(["provider", "profile"]), default="profile")
def schema(which: str) -> None:
    from cherryconf.formats.schema import schema_text

    click.echo(schema_text("provider" if which == "provider" else "profile"), nl=False)


@cli.command(help=_("Print the app's own cherrystudio:// import link for each provider (no files touched)."))
@json_option
@lang_option
@click.argument("profile_path", metavar="PROFILE", type=_PathParam())
@click.option("--open", "open_it", is_flag=True,
              help=_("Hand each link to the operating system (opens the app), one at a time."))
@pass_options
def link(opts: Options, profile_path: Path, open_it: bool) -> None:
    from cherryconf.domain import routing
    from cherryconf.formats import deeplink, profile

    loaded = profile.load(profile_path)
    links = [(p.id, deeplink.build(p.new_provider)) for p in loaded.providers]
    # No install is read: the URL is the one the newest 1.x app calls for a provider of that id and type.
    urls = {p.id: routing.chat_url(p.new_provider) for p in loaded.providers}
    note = _("Import links carry no models: after importing, add the models in the app, "
             "or use `cherryconf apply` to write them too.")
    emit(opts, {"links": [{"id": i, "link": u, "chat_url": urls[i]} for i, u in links], "note": note,
                "warning": deeplink.KEY_WARNING},
         "\n".join(u for _pid, u in links))
    click.echo(deeplink.KEY_WARNING, err=True)
    if not opts.json:
        for pid, url in urls.items():
            click.echo(_("{id}: chats will go to {url} once imported").format(
                id=pid, url=url or _("(a URL cherryconf cannot tell)")), err=True)
        click.echo(note, err=True)
    for n, (pid, url) in enumerate(links if open_it else []):
        if n and sys.stdin.isatty():
            # The app shows one confirmation at a time: the next link waits until this one is answered.
            click.pause(_("Press any key once Cherry Studio has asked about {asked!r}, to open {next!r}...").format(
                asked=links[n - 1][0], next=pid), err=True)
        deeplink.open_link(url, pid)


@cli.command(help=_("Show the Cherry Studio installs found: data dir, store kind, app version, running or not."))
@json_option
@lang_option
@pass_options
def locate(opts: Options) -> None:
    from cherryconf.stores import install as install_mod

    ctx = opts.context()
    if opts.data_dir is not None:
        found = [install_mod.inspect(opts.data_dir, "--data-dir")]
    else:
        found = install_mod.find_installs(ctx)
    rows = []
    for inst in found:
        rows.append({
            "data_dir": str(inst.data_dir), "store": inst.kind, "app_version": inst.app_version,
            "found_by": inst.found_by, "running": install_mod.running_reason(inst),
        })
    lines = [
        _("{data_dir}\n  store: {store}, app version: {version}, found by: {found_by}, running: {running}").format(
            data_dir=r["data_dir"], store=r["store"], version=r["app_version"] or _("unknown"),
            found_by=r["found_by"], running=r["running"] or _("no"))
        for r in rows
    ]
    if not rows:
        install_mod.resolve(ctx, None)  # raises the error that says where cherryconf looked
    emit(opts, {"installs": rows}, "\n".join(lines))


@cli.command(help=_("List the providers in the store: id, name, type, the URL chats go to, models, key (masked), "
                    "owner."))
@json_option
@lang_option
@pass_options
def providers(opts: Options) -> None:
    from cherryconf import render
    from cherryconf.domain import routing
    from cherryconf.domain.endpoints import parse_version
    from cherryconf.stores import open_store, owners

    inst = opts.install()
    state = open_store(inst).read()
    record = owners.load(opts.context(), inst)
    version = parse_version(inst.app_version)
    items: list[dict[str, Any]] = []
    rows: list[list[str]] = []
    for p in state.providers:
        urls = routing.provider_urls(p, version)
        models = [str(m.get("id")) for m in p.get("models", [])]
        key = render.mask(str(p.get("apiKey", "")))
        owner = record.owner_of(str(p.get("id")))
        items.append({"id": p.get("id"), "name": p.get("name"), "type": p.get("type"), "url": urls.main,
                      "urls_by_model": urls.by_model, "routed_by_id": urls.by_id, "models": models, "apiKey": key,
                      "enabled": p.get("enabled"), "owner": owner})
        shown_key = key if str(p.get("apiKey", "")).strip() else _("(none)")  # --json keeps mask()'s "(none)"
        rows.append([str(p.get("id")), str(p.get("name", "")), str(p.get("type", "")), render.urls_text(urls),
                     str(len(models)), shown_key, owner or "-"])
    emit(opts, {"install": str(inst.data_dir), "store": inst.kind, "providers": items},
         render.table([_("ID"), _("NAME"), _("TYPE"), _("CHAT URL"), _("MODELS"), _("KEY"), _("OWNER")], rows))


def _verify_targets(opts: Options, profile_path: Path | None, wanted: str | None
                    ) -> tuple[list[dict[str, Any]], tuple[int, ...] | None, bool]:
    """The providers to probe, the app version whose URLs to use, and whether the user named them."""
    from cherryconf.domain.endpoints import parse_version
    from cherryconf.ops import target
    from cherryconf.stores import install as install_mod

    if profile_path is None:
        inst = opts.install()
        version = parse_version(inst.app_version)
        if wanted is None and sys.stdin.isatty() and sys.stdout.isatty() and not opts.json:
            return [_choose_provider(inst)], version, True
        return target.from_store(inst, wanted), version, wanted is not None
    try:
        # The URLs depend on the installed app's version; with no install found, the newest rules apply.
        version = parse_version(install_mod.resolve(opts.context(), opts.data_dir).app_version)
    except CherryconfError:
        version = None
    return [target.from_profile(profile_path, wanted, version)], version, True


def _choose_provider(inst: Install) -> dict[str, Any]:
    """Ask which of the store's gateway providers to verify (the ones worth verifying first)."""
    from cherryconf import render, wizard
    from cherryconf.ops import target
    from cherryconf.stores import open_store

    offered = sorted((p for p in open_store(inst).read().providers
                      if p.get("type") in ("openai", "openai-response") and str(p.get("apiHost") or "").strip()),
                     key=lambda p: not target.checkable(p))
    if not offered:
        raise BadInput(_("the store has no OpenAI-compatible provider with a base URL to verify"))
    choices = [wizard.Choice(ngettext("{name} ({id}): {url}, {n} model, key {key}",
                                      "{name} ({id}): {url}, {n} models, key {key}", len(p.get("models", []))).format(
        name=p.get("name"), id=p.get("id"), url=p.get("apiHost"), n=len(p.get("models", [])),
        key=render.mask(str(p.get("apiKey") or "")) or _("none")), p) for p in offered]
    picked: dict[str, Any] = wizard.questionary_ask(wizard.Question("verify", "select", _("Verify which provider?"),
                                                                    choices))
    return picked


@cli.command(help=_("Probe a gateway: which models answer on chat/completions, which on responses (exit 5 when "
                    "the one in use fails, or nothing could be checked)."))
@json_option
@lang_option
@click.argument("profile_path", metavar="[PROFILE]", required=False,
                type=_PathParam(dir_okay=False))
@click.option("--provider", "provider_id", metavar="ID|NAME",
              help=_("The provider to probe, by id or name: from the profile, or from the store when no PROFILE is "
                     "named (default: choose on a terminal; else every enabled provider with a key)."))
@click.option("--model", "models", metavar="M", multiple=True,
              help=_("A model to probe (repeatable; default: the provider's models)."))
@click.option("--all-models", is_flag=True,
              help=_("Probe every chat model the gateway's /models lists, not only the provider's."))
@click.option("--endpoint", type=click.Choice(["chat", "responses", "both"]), default=None,
              help=_("Which endpoint to probe: chat/completions, responses, or both (default: both; with "
                     "--all-models, the one the provider uses)."))
@click.option("--concurrency", type=click.IntRange(1, 64), default=8, show_default=True,
              help=_("The most requests in flight at once: verify starts with fewer, and slows down when the "
                     "gateway rate-limits (it waits as the gateway asks, then asks again)."))
@click.option("--timeout", type=click.FloatRange(0, min_open=True), default=30.0, show_default=True,
              help=_("Seconds to wait for each answer (waits a rate limit asks for are not counted)."))
@click.pass_context
def verify(ctx: click.Context, profile_path: Path | None, provider_id: str | None, models: tuple[str, ...],
           all_models: bool, endpoint: Literal["chat", "responses", "both"] | None, concurrency: int,
           timeout: float) -> None:
    from cherryconf.ops.probe import VerifyInterrupted
    from cherryconf.render import verify as render_verify

    opts: Options = ctx.obj
    if profile_path is not None and provider_id is None and profile_path.suffix == "" \
            and len(profile_path.parts) == 1 and not profile_path.exists():
        # `cherryconf verify apiyi`: a provider's id or name where a profile would be, and no such file.
        profile_path, provider_id = None, str(profile_path)
    providers, version, named = _verify_targets(opts, profile_path, provider_id)
    endpoints: probe.Endpoints = endpoint or ("in_use" if all_models else "both")
    interrupted: VerifyInterrupted | None = None
    if named:
        try:
            report = _probe(providers[0], list(models), endpoints, all_models, concurrency, timeout, version)
        except VerifyInterrupted as e:
            report, interrupted = e.report, e
        document, text = render_verify.report_json(report), render_verify.report_text(report)
        problem = render_verify.problem(report)
    else:
        # Every provider worth checking, one after the other (each at the concurrency asked for).
        reports, texts, not_checked = [], [], {}
        for p in providers:
            try:
                reports.append(_probe(p, list(models), endpoints, all_models, concurrency, timeout, version))
            except BadInput as e:
                not_checked[str(p.get("id"))] = e.message
                texts.append(_("provider {id}: not checked: {reason}").format(id=p.get("id"), reason=e.message))
                continue
            except VerifyInterrupted as e:
                reports.append(e.report)
                interrupted = e
            texts.append(render_verify.report_text(reports[-1]))
            if interrupted:
                break  # the providers after it are not checked: the user stopped the run
        document = {"reports": [render_verify.report_json(r) for r in reports], "not_checked": not_checked}
        text = "\n\n".join(texts)
        problem = render_verify.problems(reports, not_checked) if providers else _(
            "nothing to verify: the store has no enabled provider with a key, models and a gateway URL "
            "(name one with --provider)")
    document["problem"] = problem
    document["interrupted"] = interrupted is not None
    emit(opts, document, text)
    if interrupted is not None:
        # The verdicts so far are above (or in the JSON document); Ctrl-C's exit code all the same.
        click.echo(f"cherryconf: {interrupted.message}", err=True)
        ctx.exit(ExitCode.INTERRUPTED)
    if problem:
        click.echo(f"cherryconf: {problem}", err=True)  # the report says more; this is why the exit is 5
        ctx.exit(ExitCode.PROBLEMS_FOUND)


def _probe(provider: dict[str, Any], models: list[str], endpoints: probe.Endpoints, all_models: bool,
           concurrency: int, timeout: float, version: tuple[int, ...] | None) -> probe.VerifyReport:
    """One provider's probe, showing how far it got on stderr: one live line on a terminal, else a log line now
    and then on a long run (never on stdout: --json stays one document)."""
    import time

    from cherryconf.ops import probe
    from cherryconf.render import verify as render_verify

    stderr = sys.stderr
    live = stderr.isatty()
    started = time.monotonic()
    shown = {"at": started}
    log_every = 15.0  # off a terminal: a line every 15 s at most, none for a short run

    def progress(p: probe.Progress) -> None:
        now = time.monotonic()
        if live:
            if now - shown["at"] < 0.1 and p.done < p.total:
                return  # ten updates a second at most
            # \r and erase-line keep the progress on one line; it is cleared before the report prints.
            stderr.write(f"\r\x1b[K{provider.get('id')}: {render_verify.progress_line(p)}")
        elif now - shown["at"] >= log_every and p.done < p.total:
            stderr.write(f"cherryconf: {provider.get('id')}: {render_verify.progress_line(p)}\n")
        else:
            return
        shown["at"] = now
        stderr.flush()

    if live:
        stderr.write(_("probing {id}: listing the gateway's models").format(id=provider.get("id")))
        stderr.flush()
    try:
        return probe.verify(provider, models=models or None, endpoints=endpoints, concurrency=concurrency,
                            timeout=timeout, app_version=version, all_models=all_models, on_progress=progress)
    finally:
        if live:
            stderr.write("\r\x1b[K")
            stderr.flush()


@cli.command(help=_("Interactive set-up: preset, name, base URL, key, models -> preview -> backup and write."))
@lang_option
@click.option("--preset",
              help=_("A preset from templates/ (apiyi, openrouter, deepseek, siliconflow, newapi, custom)."))
@click.option("--name", help=_("Provider name shown in Cherry Studio."))
@click.option("--id", "provider_id", help=_("Provider id (default: the preset's, or derived from the name)."))
@click.option("--base-url", help=_("The gateway's base URL, in any pasted form."))
@click.option("--api-key-env", metavar="VAR", help=_("Read the API key from this environment variable."))
@click.option("--model", "models", multiple=True, metavar="ID", help=_("A model id to add (repeatable)."))
@click.option("--default-model", metavar="ID", help=_("Also make this model Cherry Studio's default."))
@click.option("--check/--no-check", default=None, help=_("Test the chosen models on chat/completions first."))
@click.option("--save-profile", type=_PathParam(dir_okay=False),
              help=_("Also save the set-up as a profile to apply elsewhere."))
@click.option("--yes", "-y", is_flag=True, help=_("Write without asking for confirmation."))
@pass_options
def wizard(opts: Options, preset: str | None = None, name: str | None = None, provider_id: str | None = None,
           base_url: str | None = None, api_key_env: str | None = None, models: tuple[str, ...] = (),
           default_model: str | None = None, check: bool | None = None, save_profile: Path | None = None,
           yes: bool = False) -> None:
    import os

    from cherryconf import wizard as wizard_mod

    interactive = sys.stdin.isatty() and sys.stdout.isatty()
    flags = wizard_mod.Flags(preset, name, provider_id, base_url, api_key_env, models, default_model, check,
                             save_profile, yes)
    if not interactive and flags == wizard_mod.Flags():
        # Nothing to go on and nobody to ask: one sentence, before the wizard looks for installs or says anything.
        raise BadInput(_("not a terminal, so the wizard cannot ask its questions: use `cherryconf apply PROFILE` "
                         "(or give every answer by flag, see `cherryconf wizard --help`)"))
    w = wizard_mod.Wizard(opts.context(), wizard_mod.questionary_ask, click.echo, interactive,
                          wizard_mod.gateway_models, wizard_mod.gateway_check,
                          spinner=wizard_mod.terminal_spinner if interactive else wizard_mod.no_spinner,
                          env=dict(os.environ))
    w.run(opts.data_dir, flags)


@cli.command(help=_("Find broken providers (responses type on a gateway, an apiHost the app misreads, ...); "
                    "exit 5 if any."))
@json_option
@lang_option
@click.option("--fix", is_flag=True, help=_("Repair what can be repaired (backs up first)."))
@click.option("--yes", "-y", is_flag=True, help=_("Do not ask for confirmation."))
@click.option("--keep", type=click.IntRange(min=1), default=20, show_default=True, help=_("Backups to keep."))
@pass_options
def doctor(opts: Options, fix: bool, yes: bool, keep: int) -> None:
    from cherryconf import render
    from cherryconf.domain.endpoints import parse_version
    from cherryconf.ops import doctor as doctor_mod
    from cherryconf.stores import open_store

    inst = opts.install()
    # --fix writes what it diagnosed: no other cherryconf may write in between.
    with opts.writing(inst) if fix else contextlib.nullcontext():
        store = open_store(inst)
        version = parse_version(inst.app_version)
        found = doctor_mod.diagnose(store.read(), version)
        document: dict[str, Any] = {"install": str(inst.data_dir), "findings": [render.finding_json(f) for f in
                                                                                found.findings],
                                    "fixed": [], "backup": None}
        text = render.findings_text(found.findings)
        if not found.problems:
            emit(opts, document, "\n".join(t for t in (text, _("no problems found")) if t))
            return
        if not fix:
            hint = "\n" + _("run `cherryconf doctor --fix` to repair them") if found.fixable else ""
            emit(opts, document, text + hint)
            click.get_current_context().exit(ExitCode.PROBLEMS_FOUND)
        if found.plan.changed:
            if not opts.json:
                click.echo(text + "\n\n" + _("The fix changes:") + "\n" + render.plan_text(found.plan, version))
            n = len(found.fixable)
            confirm(ngettext("Repair {n} problem in {dir}?", "Repair {n} problems in {dir}?", n).format(
                n=n, dir=inst.data_dir), yes)
        done = doctor_mod.repair(opts.context(), inst, store, found, version, keep)
        remaining = [f for f in done.remaining if f.severity != "note"]
        document["fixed"] = [render.finding_json(f) for f in done.fixed]
        document["backup"] = str(done.backup.path) if done.backup else None
        document["remaining"] = [render.finding_json(f) for f in remaining]
        lines = [ngettext("repaired {n} problem; backup: {backup}", "repaired {n} problems; backup: {backup}",
                          len(done.fixed)).format(n=len(done.fixed), backup=document["backup"])] if done.fixed else []
        if done.fixed:
            lines.append(_("restart Cherry Studio to see the change"))
        if remaining:
            lines.append(_("still to fix by hand:") + "\n" + render.findings_text(remaining))
        emit(opts, document, "\n".join(lines))
        if remaining:
            click.get_current_context().exit(ExitCode.PROBLEMS_FOUND)


@cli.command(help=_("Write the store's providers as a profile (keys as ${VAR} references unless --with-keys)."))
@json_option
@lang_option
@click.option("--provider", "provider_ids", multiple=True, metavar="ID",
              help=_("Export only this provider (repeatable)."))
@click.option("--with-keys", is_flag=True, help=_("Write the keys themselves instead of ${VAR} references."))
@click.option("-o", "--output", type=_PathParam(dir_okay=False), help=_("Write to this file."))
@click.option("--format", "fmt", type=click.Choice(["profile", "cherry"]), default="profile", show_default=True,
              help=_("profile: cherryconf's profile; cherry: Cherry Studio 2.1's provider export (JSON)."))
@pass_options
def export(opts: Options, provider_ids: tuple[str, ...], with_keys: bool, output: Path | None, fmt: str) -> None:
    from cherryconf.domain.endpoints import parse_version
    from cherryconf.formats import cherry_format
    from cherryconf.formats import export as export_mod
    from cherryconf.stores import open_store

    if with_keys and output is None:
        raise BadInput(_("--with-keys writes keys only into a private file, never to the screen: add -o FILE"))
    inst = opts.install()
    state = open_store(inst).read()
    build = cherry_format.to_export if fmt == "cherry" else export_mod.to_profile
    document, notes = build(state.providers, list(provider_ids), with_keys, parse_version(inst.app_version))
    _write_profile(opts, document, notes, with_keys, output, as_json=fmt == "cherry")


@cli.command("import", help=_(
    "Turn providers kept elsewhere into a profile `apply` takes.\n\nSOURCE: a Cherry Studio backup zip, an import "
    "link, a Cherry Studio provider export, a claude-code-router config.json or a cc-switch database, told apart by "
    "their content."))
@json_option
@lang_option
@click.argument("source", required=False)
@click.option("--from-data-dir", "from_data_dir", type=_PathParam(file_okay=False),
              help=_("Import from this Cherry Studio data directory (another machine's or user's); read only."))
@click.option("--all", "take_all", is_flag=True, help=_("Take every provider, also built-in ones without a key."))
@click.option("--with-keys", is_flag=True, help=_("Write the keys themselves instead of ${VAR} references."))
@click.option("-o", "--output", type=_PathParam(dir_okay=False), help=_("Write to this file."))
@pass_options
def import_(opts: Options, source: str | None, from_data_dir: Path | None, take_all: bool, with_keys: bool,
            output: Path | None) -> None:
    from cherryconf.formats import importers
    from cherryconf.formats.importers.build import to_profile

    if with_keys and output is None:
        raise BadInput(_("--with-keys writes keys only into a private file, never to the screen: add -o FILE"))
    found = importers.read(source, from_data_dir)
    document, notes = to_profile(found, take_all, with_keys, _target_version(opts))
    _write_profile(opts, document, notes, with_keys, output)


def _target_version(opts: Options) -> AppVersion | None:
    """The version of the install here, if there is one: a profile is made for the app that will apply it."""
    from cherryconf.domain.endpoints import parse_version
    from cherryconf.stores import install as install_mod

    try:
        return parse_version(install_mod.resolve(opts.context(), opts.data_dir).app_version)
    except CherryconfError:
        return None


def _write_profile(opts: Options, document: dict[str, Any], notes: list[str], with_keys: bool,
                   output: Path | None, as_json: bool = False) -> None:
    import json

    import yaml

    from cherryconf.fsutil import atomic_write

    text = (json.dumps(document, ensure_ascii=False, indent=2) + "\n" if as_json
            else yaml.safe_dump(document, allow_unicode=True, sort_keys=False))
    if output is not None:
        atomic_write(output, text.encode("utf-8"))  # mode 0600: it may hold keys
        notes.append(_("profile written to {path}").format(path=output))
    if opts.json:
        emit(opts, {"profile": None if with_keys else document, "output": str(output) if output else None,
                    "notes": notes}, "")
    elif output is None:
        click.echo(text, nl=False)
    for note in notes if not opts.json else []:
        click.echo(note, err=True)

def _written_text(w: Written, with_changes: bool = True) -> str:
    from cherryconf import render
    from cherryconf.domain.endpoints import parse_version

    if w.backup is None:
        return _("no changes: the store already holds this profile")
    lines = [render.plan_text(w.plan, parse_version(w.install.app_version))] if with_changes else []
    n = len(w.plan.changed_ids)
    lines.append(ngettext("wrote {dir} ({n} provider changed)", "wrote {dir} ({n} providers changed)", n).format(
        dir=w.install.data_dir, n=n))
    lines.append(_("restart Cherry Studio to see the change"))
    lines.append(_("backup: {path}").format(path=w.backup.path))
    return "\n".join(lines)


def _preview_text(p: Plan, check: bool, version: AppVersion | None) -> str:
    from cherryconf import render

    if not p.changed:
        return (_("in step: the store already holds this profile") if check
                else _("no changes: the store already holds this profile"))
    note = (_("(check: applying would change the store as above; nothing written)") if check
            else _("(dry run; nothing written)"))
    return f"{render.plan_text(p, version)}\n{note}"


@cli.command(help=_("Make the store hold the profile's providers (idempotent; backs up first)."))
@json_option
@lang_option
@click.argument("profile_path", metavar="PROFILE", type=_PathParam())
@click.option("--dry-run", is_flag=True, help=_("Print the plan and the diff; write nothing."))
@click.option("--check", is_flag=True,
              help=_("Drift check: write nothing; exit 0 when the store holds the profile, 5 when it would change."))
@click.option("--owner", metavar="NAME",
              help=_("Apply as this owner: its providers become exactly the profile's (a profile's `owner` must "
                     "agree)."))
@click.option("--all-users", is_flag=True, help=_("Apply to every user's install here (as root or Administrator)."))
@click.option("--yes", "-y", is_flag=True, help=_("Do not ask for confirmation."))
@click.option("--via", type=click.Choice(["store", "link"]), default="store", show_default=True,
              help=_("Write the store, or print the app's import links instead."))
@click.option("--keep", type=click.IntRange(min=1), default=20, show_default=True, help=_("Backups to keep."))
@click.pass_context
def apply(ctx: click.Context, profile_path: Path, dry_run: bool, check: bool, owner: str | None, all_users: bool,
          yes: bool, via: str, keep: int) -> None:
    from cherryconf import render
    from cherryconf.domain.endpoints import parse_version
    from cherryconf.formats import profile
    from cherryconf.ops import apply as apply_mod

    opts: Options = ctx.obj
    if via == "link":
        if check or all_users or owner:
            raise BadInput(_("--via link only prints import links: it cannot be combined with --check, --owner or "
                             "--all-users"))
        ctx.invoke(link, profile_path=profile_path, open_it=False)
        return
    document = profile.read(profile_path)  # parsed once: a profile of 1,000 providers is half a megabyte
    profile.with_owner(profile.load(profile_path, document=document), owner)  # a bad one is the first to report
    if all_users:
        _apply_all_users(opts, profile_path, owner, "check" if check else "dry-run" if dry_run else "apply", yes,
                         keep)
        return
    inst = opts.install()
    # Loaded again for the installed version: it decides the form of a `#` apiHost and the URLs shown.
    version = parse_version(inst.app_version)
    # A 2.x store whose version.log says nothing is still the 2.x line, which has no web_search capability.
    line = version or ((2, 0, 0) if inst.kind == "v2" else None)
    loaded = profile.with_owner(profile.load(profile_path, app_version=line, document=document), owner)
    for note in loaded.notes if not opts.json else ():
        click.echo(note, err=True)
    notes = {"notes": list(loaded.notes)} if loaded.notes else {}  # --json: what was left out, and why
    with contextlib.nullcontext() if dry_run or check else opts.writing(inst):
        prepared = apply_mod.prepare(inst, loaded, opts.context())
        p = prepared.plan
        if check or dry_run:
            emit(opts, render.apply_json(inst, p, None, loaded.owner, dry_run=dry_run, check=check) | notes,
                 _preview_text(p, check, version))
            if check and p.changed:
                ctx.exit(ExitCode.PROBLEMS_FOUND)
            return
        if p.changed:
            if not opts.json:
                click.echo(render.plan_text(p, version))
            confirm(_("Write these changes to {dir}?").format(dir=inst.data_dir), yes)
        written = apply_mod.write(opts.context(), prepared, "apply", keep)
    # The JSON document only when it is printed: for a profile of 1,000 providers it takes a tenth of a second.
    emit(opts, render.apply_json(inst, p, written.backup, loaded.owner) | notes if opts.json else {},
         _written_text(written, with_changes=False))


def _apply_all_users(opts: Options, profile_path: Path, owner: str | None, mode: allusers.Mode, yes: bool,
                     keep: int) -> None:
    """--all-users: every user's install, one after the other; one user's failure does not stop the others."""
    from cherryconf import render
    from cherryconf.ops import allusers

    if opts.data_dir is not None:
        raise BadInput(_("--all-users finds every user's install itself: leave out --data-dir"))
    ctx = opts.context()
    allusers.ensure_admin(ctx.system)
    targets, problems = allusers.find(allusers.users(ctx), ctx.system)
    if not targets and not problems:
        raise StoreError(_("no Cherry Studio data found in any user's home on this machine"))
    if mode == "apply" and targets:
        if not opts.json:
            click.echo("\n".join(f"{t.user.name}: {t.install.data_dir}" for t in targets))
        confirm(ngettext("Apply {profile} to this install?", "Apply {profile} to these {n} installs?",
                         len(targets)).format(profile=profile_path.name, n=len(targets)), yes)
    outcomes = problems + allusers.run(targets, profile_path, owner, mode, keep, ctx.system)
    emit(opts, render.all_users_json(outcomes, mode), render.all_users_text(outcomes, mode))
    code = allusers.exit_code(outcomes)
    if code:
        click.get_current_context().exit(code)


@cli.command(help=_("List backups: id, local time, install, reason, size, providers (all installs unless "
                    "--data-dir)."))
@json_option
@lang_option
@pass_options
def backups(opts: Options) -> None:
    from cherryconf import render
    from cherryconf.stores import backup

    ctx = opts.context()
    found = backup.list_backups(ctx, opts.install() if opts.data_dir else None)
    items = [{
        "id": b.id, "time": b.manifest.created_at.isoformat(), "install": b.manifest.install,
        "store": b.manifest.store_kind, "reason": b.manifest.reason, "size": b.size,
        "providers": len(b.manifest.providers), "path": str(b.path),
    } for b in found]
    rows = [[b.id, f"{b.manifest.created_at.astimezone():%Y-%m-%d %H:%M:%S}", b.manifest.install,
             b.manifest.reason, render.size(b.size), str(len(b.manifest.providers))] for b in found]
    emit(opts, {"backups_dir": str(ctx.backups_dir), "backups": items},
         render.table([_("ID"), _("TIME"), _("INSTALL"), _("REASON"), _("SIZE"), _("PROVIDERS")], rows)
         or _("no backups in {dir}").format(dir=ctx.backups_dir))


@cli.command(help=_("Put a backup back (default: the newest), after backing up the present state."))
@json_option
@lang_option
@click.argument("backup_id", metavar="[ID]", required=False)
@click.option("--dry-run", is_flag=True, help=_("Show what would change; write nothing."))
@click.option("--yes", "-y", is_flag=True, help=_("Do not ask for confirmation."))
@click.option("--force", is_flag=True, help=_("Restore a backup taken from another install."))
@click.option("--keep", type=click.IntRange(min=1), default=20, show_default=True, help=_("Backups to keep."))
@pass_options
def restore(opts: Options, backup_id: str | None, dry_run: bool, yes: bool, force: bool, keep: int) -> None:
    from cherryconf import render
    from cherryconf.domain.endpoints import parse_version
    from cherryconf.ops import restore as restore_mod

    ctx = opts.context()
    inst = opts.install()
    with contextlib.nullcontext() if dry_run else opts.writing(inst):
        rp = restore_mod.prepare(ctx, inst, backup_id, force)
        preview = (render.changes_text(rp.changes, rp.restored, parse_version(rp.install.app_version))
                   or _("providers: no differences (other settings may differ)"))
        if not rp.current_readable:
            preview = _("the current store cannot be read; restoring replaces it whole") + "\n" + preview
        document: dict[str, Any] = {
            "backup": rp.backup.id, "install": str(rp.install.data_dir), "dry_run": dry_run,
            "changes": [render.change_json(c) for c in rp.changes], "warning": rp.warning, "pre_restore_backup": None,
        }
        if rp.warning and not opts.json:
            click.echo(_("warning: {warning}").format(warning=rp.warning), err=True)
        if dry_run:
            emit(opts, document, _("restoring {id} would change:").format(id=rp.backup.id) + f"\n{preview}\n"
                 + _("(dry run: nothing written)"))
            return
        if not opts.json:
            click.echo(_("restoring {id}:").format(id=rp.backup.id) + f"\n{preview}")
        confirm(_("Replace the store in {dir} with backup {id}?").format(dir=rp.install.data_dir, id=rp.backup.id),
                yes)
        done = restore_mod.execute(ctx, rp, keep)
    document["pre_restore_backup"] = str(done.pre_restore.path)
    emit(opts, document, _("restored {id}; restart Cherry Studio to see it").format(id=rp.backup.id) + "\n"
         + _("the state from before is in backup: {path}").format(path=done.pre_restore.path))


def _fail(opts: Options | None, message: str, code: int) -> NoReturn:
    from cherryconf.errors import one_line

    message = one_line(message)  # whatever it quotes (a usage error, an unexpected one), it stays one line
    click.echo(f"cherryconf: {message}", err=True)
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
        _fail(options(), _("{error} (see `{command} --help`)").format(error=e.format_message().rstrip(".。"),
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
