"""`cherryconf verify`: probe a gateway, per model and endpoint."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Any, Literal

import click

from cherryconf.cli.base import Options, PathParam, command, emit, json_option, lang_option
from cherryconf.cli.commands import HELP
from cherryconf.errors import BadInput, CherryconfError, ExitCode
from cherryconf.i18n import _, ngettext

if TYPE_CHECKING:
    from pathlib import Path

    from cherryconf.ops import probe
    from cherryconf.stores.install import Install


def _verify_targets(opts: Options, profile_path: Path | None, wanted: str | None
                    ) -> tuple[list[dict[str, Any]], tuple[int, ...] | None, bool]:
    """The providers to probe, the app version whose URLs to use, and whether the user named them."""
    from cherryconf.ops import target
    from cherryconf.stores.install import resolve

    if profile_path is None:
        inst = opts.install()
        version = inst.version
        if wanted is None and sys.stdin.isatty() and sys.stdout.isatty() and not opts.json:
            return [_choose_provider(inst)], version, True
        return target.from_store(inst, wanted), version, wanted is not None
    try:
        # The URLs depend on the installed app's version; with no install found, the newest rules apply.
        version = resolve(opts.context(), opts.data_dir).version
    except CherryconfError:
        version = None
    return [target.from_profile(profile_path, wanted, version)], version, True


def _choose_provider(inst: Install) -> dict[str, Any]:
    """Ask which of the store's gateway providers to verify (the ones worth verifying first)."""
    from cherryconf.ops import target
    from cherryconf.redact import mask
    from cherryconf.stores import open_store
    from cherryconf.wizard.questions import Choice, Question
    from cherryconf.wizard.terminal import questionary_ask

    offered = sorted((p for p in open_store(inst).read().providers
                      if p.get("type") in ("openai", "openai-response") and str(p.get("apiHost") or "").strip()),
                     key=lambda p: not target.checkable(p))
    if not offered:
        raise BadInput(_("the store has no OpenAI-compatible provider with a base URL to verify"))
    choices = [Choice(ngettext("{name} ({id}): {url}, {n} model, key {key}",
                               "{name} ({id}): {url}, {n} models, key {key}", len(p.get("models", []))).format(
        name=p.get("name"), id=p.get("id"), url=p.get("apiHost"), n=len(p.get("models", [])),
        key=mask(str(p.get("apiKey") or "")) or _("none")), p) for p in offered]
    picked: dict[str, Any] = questionary_ask(Question("verify", "select", _("Verify which provider?"), choices))
    return picked


@command(help=HELP["verify"])
@json_option
@lang_option
@click.argument("profile_path", metavar="[PROFILE]", required=False,
                type=PathParam(dir_okay=False))
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
    from cherryconf.ops.result import Result
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
    if interrupted is not None:
        # The verdicts so far are printed (or in the JSON document); Ctrl-C's exit code all the same.
        emit(opts, Result(document, text, ExitCode.INTERRUPTED, interrupted.message))
    emit(opts, Result(document, text, ExitCode.PROBLEMS_FOUND if problem else ExitCode.OK, problem))


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
