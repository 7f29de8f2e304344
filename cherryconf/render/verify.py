"""Human text and --json for `verify`: the model x endpoint table, the verdict, and how to fix what fails."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from cherryconf import console
from cherryconf.domain.endpoints import wrong_base_hint
from cherryconf.i18n import _, ngettext
from cherryconf.ops.probe import ENDPOINT_PATH, Outcome, ProbeEndpoint, ProbeResult, Progress, Reason, VerifyReport
from cherryconf.redact import mask_url
from cherryconf.render import table

OUTCOME_TEXT: dict[Outcome, str] = {"pass": _("pass"), "fail": _("fail"), "inconclusive": _("inconclusive"),
                                     "not_probed": _("not probed")}
_OUTCOME_COLOUR: dict[Outcome, str] = {"pass": console.GOOD, "fail": console.BAD, "inconclusive": console.CHANGE,
                                       "not_probed": console.CHANGE}

REASON_TEXT: dict[Reason, str] = {
    "ok": _("ok"),
    "bad_key": _("key refused"),
    "unknown_model": _("unknown model"),
    "endpoint_not_served": _("endpoint not served"),
    "no_channel": _("no channel for the group"),
    "quota_or_rate_limit": _("quota or rate limit"),
    "timeout": _("timeout"),
    "network": _("network error"),
    "html_not_json": _("HTML, not JSON"),
    "redirect": _("redirected"),
    "http_error": _("HTTP error"),
    "no_output": _("no output"),
    "key_rejected": _("key already rejected"),
}

# What to do about models that fail for each reason on the endpoint the provider uses.
_REMEDY: dict[Reason, str] = {
    "bad_key": _("the gateway refuses the API key: check it (and that it may use these models)"),
    "unknown_model": _("the gateway does not know these model ids: check their spelling, or remove them"),
    "endpoint_not_served": _("the gateway does not serve this endpoint for these models"),
    "no_channel": _("the key's group has no channel for these models: ask the gateway's admin, or remove them"),
    "quota_or_rate_limit": _("the account is out of quota or rate limited: top up, or wait and run again"),
    "html_not_json": _("the base URL answers with a web page: check the provider's apiHost"),
    "redirect": _("the base URL redirects: put the address it redirects to in apiHost"),
    "http_error": _("the gateway answered with an error: see the details above"),
    "no_output": _("the gateway answered without any output: see the details above"),
}
_KEY_REMEDY = _("the gateway rejected the API key: give the right one (in a profile, the environment variable its "
                "apiKey names, or `cherryconf key set REF` for a keyring: key; for a stored provider, its key in "
                "Cherry Studio's settings), then run verify again")


def _ms(value: float | None) -> str:
    return "-" if value is None else f"{value:.0f} ms"


def cell(r: ProbeResult) -> str:
    """One table cell: `pass 520 ms (first token 310 ms)`, `fail: no channel for the group (503)`."""
    if r.outcome == "pass":
        first = " " + _("(first token {ms})").format(ms=_ms(r.ttft_ms)) if r.ttft_ms is not None else ""
        return f"{console.paint(OUTCOME_TEXT['pass'], console.GOOD)} {_ms(r.total_ms)}{first}"
    reason = REASON_TEXT[r.reason] if r.status is None else _("{reason} ({status})").format(
        reason=REASON_TEXT[r.reason], status=r.status)
    # The colon (and the brackets of the status): full-width ones in Chinese.
    return _("{outcome}: {reason}").format(outcome=console.paint(OUTCOME_TEXT[r.outcome],
                                                                  _OUTCOME_COLOUR[r.outcome]), reason=reason)


def report_text(report: VerifyReport) -> str:
    """The table, the gateway's messages for what did not pass, the /models notes, the verdict and the fix."""
    endpoints = [e for e in ENDPOINT_PATH if report.on(e)]
    headers = [_("MODEL"), _("LISTED")]
    for e in endpoints:
        headers.append(ENDPOINT_PATH[e].upper() + (" " + _("(in use)") if e == report.configured_endpoint else ""))
    by_key = {(r.model, r.endpoint): r for r in report.results}
    rows = []
    for model in report.models:
        listed = "?" if report.listed_models is None else (_("no") if model in report.unlisted else _("yes"))
        rows.append([model, listed, *(cell(by_key[(model, e)]) if (model, e) in by_key else _("not probed")
                                      for e in endpoints)])
    lines = [_("provider {id} (type {type})").format(id=report.provider_id, type=report.provider_type)]
    lines += [f"  {ENDPOINT_PATH[e]}: {mask_url(report.url_chat if e == 'chat' else report.url_responses)}"
              for e in endpoints]
    lines += ["", table(headers, rows)]
    problems = [r for r in report.results if r.outcome not in ("pass", "not_probed")]
    if problems:
        lines += ["", _("details:"), *_detail_lines(problems)]
    shared = {r.detail for r in problems}
    if report.listed_models is None and len(shared) == 1 and shared.pop() in report.models_detail:
        lines += ["", _("note: /models failed the same way; the LISTED column is unknown")]
    elif report.listed_models is None:
        lines += ["", _("note: {detail}; the LISTED column is unknown").format(detail=report.models_detail)]
    elif report.unlisted:
        lines += ["", _("note: the gateway's /models does not list {models}").format(
            models=", ".join(report.unlisted))]
    if report.skipped:
        lines += ["", _("not probed (not chat models): {models}; name them with --model to probe").format(
            models=", ".join(report.skipped))]
    hints = _hint_lines(report)
    if hints:
        lines += ["", *hints]
    if report.rate_limited:
        lines += ["", ngettext("the gateway rate-limited {n} request; it was sent again after the wait it asked "
                               "for ({s:.0f} s of waiting in all)",
                               "the gateway rate-limited {n} requests; each was sent again after the wait it asked "
                               "for ({s:.0f} s of waiting in all)", report.rate_limited).format(
            n=report.rate_limited, s=report.waited_s)]
    if report.interrupted:
        lines += ["", _("interrupted: {done} of {total} probes done; the verdict below covers those only").format(
            done=len(report.results), total=report.planned)]
    verdict = (console.BAD if report.failing_on_configured_endpoint()
               else console.CHANGE if report.unchecked() or report.interrupted else console.GOOD)
    lines += ["", console.paint(report.verdict(), verdict)]
    todo = fixes(report)
    if todo and (report.key_rejected or report.base_url_wrong()):
        lines += ["", _("to fix:")]
        lines += [f"  {line}" for line in todo]
    elif todo:
        where = ENDPOINT_PATH[report.configured_endpoint]
        n = len(report.failing_on_configured_endpoint())
        lines += ["", ngettext("to fix ({n} model fails on {endpoint}, the endpoint in use):",
                               "to fix ({n} models fail on {endpoint}, the endpoint in use):", n).format(
            n=n, endpoint=where)]
        lines += [f"  {line}" for line in todo]
    return "\n".join(lines)


def _detail_lines(problems: list[ProbeResult]) -> list[str]:
    """One line per problem; one in all when every probe failed alike (a refused connection, a rejected key)."""
    if len(problems) > 1 and len({r.detail for r in problems}) == 1:
        return ["  " + _("each of the {n} probes sent: {detail}").format(
            n=len(problems), detail=problems[0].detail)]
    return ["  " + _("{model} on {endpoint}: {detail}").format(
        model=r.model, endpoint=ENDPOINT_PATH[r.endpoint], detail=r.detail) for r in problems]


def _hint_lines(report: VerifyReport) -> list[str]:
    """The gateway's own endpoint hints for models that did not pass everywhere (a hint: the probe decides)."""
    unsure = {r.model for r in report.results if r.outcome != "pass"}
    return [_("hint: the gateway's /models says {model} supports: {endpoints}").format(
                model=model, endpoints=", ".join(types) or _("nothing"))
            for model, types in report.endpoint_hints.items() if model in unsure]


def fixes(report: VerifyReport) -> list[str]:
    """How to fix the models that fail on the endpoint the provider uses, one line per remedy; [] when none fail."""
    if report.key_rejected:
        return [_KEY_REMEDY]
    if report.base_url_wrong():
        return [_("the base URL {base}: {hint}").format(base=report.base_url,
                                                        hint=wrong_base_hint(report.base_url))]
    failing = report.failing_on_configured_endpoint()
    if not failing:
        return []
    configured = report.configured_endpoint
    other: ProbeEndpoint = "chat" if configured == "responses" else "responses"
    answer_elsewhere = {r.model for r in report.on(other) if r.outcome == "pass"}
    if configured == "responses" and {r.model for r in failing} <= answer_elsewhere:
        return [_("these models answer on chat/completions: run `cherryconf doctor --fix`, or change the provider's "
                  "type to openai (Cherry Studio: Settings > Model Provider > {id})").format(id=report.provider_id)]
    lines = []
    for reason in dict.fromkeys(r.reason for r in failing):
        models = ", ".join(r.model for r in failing if r.reason == reason)
        remedy = _REMEDY.get(reason, _("see the details above"))
        if reason == "endpoint_not_served" and configured == "responses":
            remedy = _("the gateway does not serve responses for these: run `cherryconf doctor --fix` (type openai)")
        lines.append(_("{models}: {remedy}").format(models=models, remedy=remedy))
    return lines


def problem(report: VerifyReport) -> str | None:
    """Why verify exits 5 for this provider, in one sentence; None when the endpoint in use answers."""
    where = ENDPOINT_PATH[report.configured_endpoint]
    failing = report.failing_on_configured_endpoint()
    if report.key_rejected:
        return _("provider {id}: the gateway rejected the API key ({detail})").format(id=report.provider_id,
                                                                                       detail=report.key_rejected)
    if report.base_url_wrong():
        return _("provider {id}: every request got 404, /models too: the base URL {base} is probably "
                 "wrong").format(id=report.provider_id, base=report.base_url)
    if failing:
        return ngettext("provider {id}: {n} of {total} model fails on {endpoint}, the endpoint it uses",
                        "provider {id}: {n} of {total} models fail on {endpoint}, the endpoint it uses",
                        len(report.models)).format(id=report.provider_id, n=len(failing), total=len(report.models),
                                                   endpoint=where)
    if report.unchecked() and (why := report.no_answer()):
        return _("provider {id}: nothing could be checked on {endpoint}: {why}").format(
            id=report.provider_id, endpoint=where, why=why)
    if report.unchecked():
        return _("provider {id}: nothing could be checked: no answer on {endpoint} (timeout or network "
                 "error)").format(id=report.provider_id, endpoint=where)
    return None


def problems(reports: list[VerifyReport], not_checked: dict[str, str]) -> str | None:
    """Why verify of several providers exits 5: which failed, which could not be checked; None when all answer."""
    failed = [_("{id} (key rejected)").format(id=r.provider_id) if r.key_rejected else
              ngettext("{id} ({n} model)", "{id} ({n} models)", len(r.failing_on_configured_endpoint())).format(
                  id=r.provider_id, n=len(r.failing_on_configured_endpoint())) for r in reports
              if r.key_rejected or r.failing_on_configured_endpoint()]
    unchecked = [r.provider_id for r in reports
                 if not r.key_rejected and not r.failing_on_configured_endpoint() and r.unchecked()]
    unchecked += list(not_checked)
    parts = ([_("failed: {ids}").format(ids=", ".join(failed))] if failed else []) + (
        [_("could not be checked: {ids}").format(ids=", ".join(unchecked))] if unchecked else [])
    return _("verify found problems ({parts})").format(parts="; ".join(parts)) if parts else None


def progress_line(p: Progress) -> str:
    """`probing 120/500, 19.8 req/s, about 19 s left` (or the wait the gateway asked for)."""
    parts = [_("probing {done}/{total}").format(done=p.done, total=p.total)]
    if p.rate:
        parts.append(_("{rate:.1f} req/s").format(rate=p.rate))
    if p.waiting_s >= 0.5:
        parts.append(_("rate limited: waiting {s:.0f} s").format(s=p.waiting_s))
    elif p.eta_s is not None and p.done < p.total:
        parts.append(_("about {time} left").format(time=_duration(p.eta_s)))
    if p.retries:
        parts.append(ngettext("{n} retry", "{n} retries", p.retries).format(n=p.retries))
    line = parts[0]
    for part in parts[1:]:
        # The comma between the parts: a full-width one in Chinese.
        line = _("{line}, {part}").format(line=line, part=part)
    return line


def _duration(seconds: float) -> str:
    minutes, secs = divmod(round(seconds), 60)
    return _("{m} min {s} s").format(m=minutes, s=secs) if minutes else _("{s} s").format(s=secs)


def report_json(report: VerifyReport) -> dict[str, Any]:
    """The --json document: the report's data, the endpoint in use, the verdict and what fails there."""
    document = asdict(report)
    document["configured_endpoint"] = report.configured_endpoint
    document["verdict"] = report.verdict()
    document["failing_on_configured_endpoint"] = [r.model for r in report.failing_on_configured_endpoint()]
    document["fix"] = fixes(report)
    document["base_url_wrong"] = report.base_url_wrong()
    return document
