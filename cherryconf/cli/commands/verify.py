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
@click.option("--model", "models", metavar="M", multiple=True, help=_("A model to probe (repeatable; default: all)."))
@click.option("--endpoint", type=click.Choice(["chat", "responses", "both"]), default="both", show_default=True,
              help=_("Which endpoint to probe: chat/completions, responses, or both."))
@click.option("--concurrency", type=click.IntRange(1, 16), default=4, show_default=True,
              help=_("Requests in flight at once (kept low: gateways rate-limit bursts)."))
@click.option("--timeout", type=click.FloatRange(0, min_open=True), default=30.0, show_default=True,
              help=_("Seconds to wait for each answer."))
@click.pass_context
def verify(ctx: click.Context, profile_path: Path | None, provider_id: str | None, models: tuple[str, ...],
           endpoint: Literal["chat", "responses", "both"], concurrency: int, timeout: float) -> None:
    from cherryconf.ops.result import Result
    from cherryconf.render import verify as render_verify

    opts: Options = ctx.obj
    if profile_path is not None and provider_id is None and profile_path.suffix == "" \
            and len(profile_path.parts) == 1 and not profile_path.exists():
        # `cherryconf verify apiyi`: a provider's id or name where a profile would be, and no such file.
        profile_path, provider_id = None, str(profile_path)
    providers, version, named = _verify_targets(opts, profile_path, provider_id)
    if named:
        report = _probe(providers[0], list(models), endpoint, concurrency, timeout, version)
        document, text = render_verify.report_json(report), render_verify.report_text(report)
        problem = render_verify.problem(report)
    else:
        # Every provider worth checking, one after the other (each at the concurrency asked for).
        reports, texts, not_checked = [], [], {}
        for p in providers:
            try:
                reports.append(_probe(p, list(models), endpoint, concurrency, timeout, version))
                texts.append(render_verify.report_text(reports[-1]))
            except BadInput as e:
                not_checked[str(p.get("id"))] = e.message
                texts.append(_("provider {id}: not checked: {reason}").format(id=p.get("id"), reason=e.message))
        document = {"reports": [render_verify.report_json(r) for r in reports], "not_checked": not_checked}
        text = "\n\n".join(texts)
        problem = render_verify.problems(reports, not_checked) if providers else _(
            "nothing to verify: the store has no enabled provider with a key, models and a gateway URL "
            "(name one with --provider)")
    document["problem"] = problem
    emit(opts, Result(document, text, ExitCode.PROBLEMS_FOUND if problem else ExitCode.OK, problem))


def _probe(provider: dict[str, Any], models: list[str], endpoint: Literal["chat", "responses", "both"],
           concurrency: int, timeout: float, version: tuple[int, ...] | None) -> probe.VerifyReport:
    """One provider's probe, with a progress line on a terminal's stderr."""
    from cherryconf.ops import probe
    from cherryconf.render import verify as render_verify

    stderr = sys.stderr
    live = stderr.isatty()
    done = 0
    expected = len(set(models) or provider.get("models", [])) * (2 if endpoint == "both" else 1)

    def progress(result: probe.ProbeResult) -> None:
        nonlocal done
        done += 1
        # \r and erase-line keep the progress on one line; it is cleared before the report prints.
        stderr.write(f"\r\x1b[K{render_verify.progress_line(done, expected, result)}")
        stderr.flush()

    if live:
        stderr.write(_("probing {id} 0/{total}: listing the gateway's models").format(id=provider.get("id"),
                                                                                       total=expected))
        stderr.flush()
    try:
        return probe.verify(provider, models=models or None, endpoints=endpoint, concurrency=concurrency,
                            timeout=timeout, app_version=version, on_result=progress if live else None)
    finally:
        if live:
            stderr.write("\r\x1b[K")
            stderr.flush()
