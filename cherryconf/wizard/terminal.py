"""The wizard's real world, injected into it by the command line: questionary on a terminal (its only call site),
a spinner, and the gateway calls; tests pass their own."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext
from typing import TYPE_CHECKING, Any

from cherryconf.domain.endpoints import AppVersion
from cherryconf.errors import KeyRejected, Unreachable
from cherryconf.i18n import _, ngettext
from cherryconf.wizard.questions import Question

if TYPE_CHECKING:
    from prompt_toolkit.formatted_text import StyleAndTextTuples

ModelLister = Callable[[str, str, AppVersion | None], list[str]]
ModelChecker = Callable[[dict[str, Any], list[str], AppVersion | None], list[tuple[str, bool, str]]]


def gateway_models(api_host: str, key: str, version: AppVersion | None) -> list[str]:
    from cherryconf.ops import probe

    return probe.list_models({"id": "wizard", "type": "openai", "apiHost": api_host, "apiKey": key},
                             app_version=version)


def gateway_check(provider: dict[str, Any], models: list[str],
                  version: AppVersion | None) -> list[tuple[str, bool, str]]:
    from cherryconf.ops import probe

    report = probe.verify(provider, models=models, endpoints="chat", timeout=30.0, app_version=version)
    if report.results and all(r.reason in ("bad_key", "key_rejected") for r in report.results):
        # Every model refused with 401/403, or not asked after a 401: it is the key, not the models.
        detail = report.key_rejected or report.results[0].detail
        raise KeyRejected(_("the gateway rejected the key ({detail})").format(detail=detail))
    if report.results and all(r.reason == "network" for r in report.results):
        raise Unreachable(report.results[0].detail)  # not one request reached it: the URL, not the models
    return [(r.model, r.outcome == "pass", r.detail or r.reason) for r in report.results]


def questionary_ask(q: Question) -> Any:
    """Ask one question on the terminal; Ctrl-C raises KeyboardInterrupt (exit 130, nothing written)."""
    import questionary

    if q.kind == "confirm":
        return yes_no(q.message, default=bool(q.default)).unsafe_ask()
    if q.kind == "password":
        return questionary.password(q.message).unsafe_ask()
    if q.kind == "text":
        # The default is shown, not put in the edit box: a URL pasted there was appended to the pre-filled one.
        default = str(q.default or "")
        hint = _("(Enter: {default})").format(default=default) if default else None
        answer = questionary.text(q.message, instruction=hint).unsafe_ask()
        if answer.strip() or not default:
            return answer
        questionary.print(f"  {default}", style="fg:ansicyan")  # the line above shows an empty answer
        return default
    # questionary gets each choice's position, not its value: it replaces a None value by the title (so "keep
    # the current default" came back as that sentence), and positions are always plain and distinct.
    if q.kind == "select":
        searchable = len(q.choices) > 8
        # questionary's own hints, in the user's language (questionary has no catalog of its own).
        hint = _("(Use arrow keys, type to filter)") if searchable else _("(Use arrow keys)")
        picked = questionary.select(q.message, [questionary.Choice(c.title, i) for i, c in enumerate(q.choices)],
                                    use_search_filter=searchable, use_jk_keys=False, instruction=hint).unsafe_ask()
        return q.choices[picked].value
    picker = model_picker(q)
    # questionary's own summary ("done (N selections)") is English: its lines are erased, this one said instead.
    picker.application.erase_when_done = True
    picked = [q.choices[i].value for i in sorted(set(picker.unsafe_ask()))]
    shown = ", ".join(picked) if len(picked) <= 3 else ngettext("{n} model", "{n} models", len(picked)).format(
        n=len(picked))
    _answered(q.message, shown or _("none"))
    return picked


def _answered(message: str, answer: str) -> None:
    """An answered question's line, as questionary leaves one: `? message answer`."""
    from prompt_toolkit import print_formatted_text
    from prompt_toolkit.formatted_text import FormattedText
    from questionary.styles import merge_styles_default

    print_formatted_text(FormattedText([("class:qmark", "?"), ("class:question", f" {message} "),
                                        ("class:answer", answer)]), style=merge_styles_default([None]))


def yes_no(message: str, default: bool, **kwargs: Any) -> Any:
    """A yes/no question (a questionary Question) that waits for Enter like every other, in the user's language.

    questionary's confirm took `n` at once, and the Enter typed after it answered the next question. Here y or n
    only choose (shown as the answer), Backspace clears, Enter confirms: the default when nothing was chosen.
    `kwargs` go to prompt_toolkit (tests pass a pipe input and a dummy output)."""
    from prompt_toolkit import PromptSession
    from prompt_toolkit.key_binding import KeyBindings, KeyPressEvent
    from prompt_toolkit.keys import Keys
    from questionary.question import Question as Prompt
    from questionary.styles import merge_styles_default

    words = {True: _("Yes"), False: _("No")}
    hint = _("(Y/n)") if default else _("(y/N)")
    state: dict[str, bool | None] = {"answer": None, "done": False}

    def tokens() -> StyleAndTextTuples:
        shown: StyleAndTextTuples = [("class:qmark", "?"), ("class:question", f" {message} ")]
        if not state["done"]:
            shown.append(("class:instruction", f"{hint} "))
        if state["answer"] is not None:
            shown.append(("class:answer", words[state["answer"]]))
        return shown

    keys = KeyBindings()

    @keys.add(Keys.ControlC, eager=True)
    def interrupt(event: KeyPressEvent) -> None:
        event.app.exit(exception=KeyboardInterrupt, style="class:aborting")

    def choose(answer: bool | None) -> Callable[[KeyPressEvent], None]:
        def handler(_event: KeyPressEvent) -> None:
            state["answer"] = answer
        return handler

    # 是 and 否: what a Chinese input method types for yes and no.
    for key, answer in (("y", True), ("Y", True), ("是", True), ("n", False), ("N", False), ("否", False),
                        (Keys.ControlH, None)):
        keys.add(key)(choose(answer))

    @keys.add(Keys.ControlM, eager=True)
    def confirm(event: KeyPressEvent) -> None:
        if state["answer"] is None:
            state["answer"] = default
        state["done"] = True
        event.app.exit(result=state["answer"])

    @keys.add(Keys.Any)
    def other(_event: KeyPressEvent) -> None:
        """Any other key is ignored: it must not end up in the next question either."""

    return Prompt(PromptSession(tokens, key_bindings=keys, style=merge_styles_default([None]), **kwargs).app)


def model_picker(q: Question, **kwargs: Any) -> Any:
    """questionary's checkbox for a gateway's hundreds of models (its answer: the positions ticked).

    Typing filters by model id or group; Ctrl-A ticks every choice shown (a group: type its name, then Ctrl-A),
    or unticks them when all are ticked. The filter is computed once per keystroke, not once per use.
    `kwargs` go to questionary (the benchmark passes a pipe input and a dummy output)."""
    import questionary
    from prompt_toolkit.key_binding import KeyBindings, KeyPressEvent, merge_key_bindings
    from questionary.prompts.common import InquirerControl

    items: list[Any] = []
    group = None
    for i, c in enumerate(q.choices):
        if c.group != group and c.group is not None:
            items.append(questionary.Separator(f"── {c.group}"))
            group = c.group
        items.append(questionary.Choice(c.title, i, checked=c.checked))
    hint = _("(arrow keys move, <space> ticks, type to filter by model or group, <ctrl-a> ticks all shown)")
    question = questionary.checkbox(q.message, items, use_search_filter=True, use_jk_keys=False,
                                    instruction=hint, **kwargs)
    app = question.application
    control = next(c for c in app.layout.find_all_controls() if isinstance(c, InquirerControl))
    haystack = [f"{c.title}\n{(q.choices[c.value].group or '') if isinstance(c.value, int) else ''}".lower()
                for c in control.choices]
    cache: dict[str, list[Any]] = {}

    def filtered(self: Any) -> list[Any]:
        needle = (self.search_filter or "").lower()
        if not needle:
            return list(self.choices)
        if needle not in cache:
            cache.clear()
            cache[needle] = [c for c, text in zip(self.choices, haystack, strict=True) if needle in text]
        self.found_in_search = bool(cache[needle])
        return cache[needle] or list(self.choices)

    control.__class__ = type("GroupFilter", (type(control),), {"filtered_choices": property(filtered)})
    keys = KeyBindings()

    @keys.add("c-a", eager=True)
    def tick_shown(_event: KeyPressEvent) -> None:
        shown = [c.value for c in control.filtered_choices
                 if not isinstance(c, questionary.Separator) and not c.disabled]
        ticked = set(control.selected_options)
        if all(v in ticked for v in shown):
            control.selected_options = [v for v in control.selected_options if v not in set(shown)]
        else:
            control.selected_options += [v for v in shown if v not in ticked]

    # Added last, so it wins over questionary's own Ctrl-A (which ticks every choice, shown or not).
    app.key_bindings = merge_key_bindings([b for b in (app.key_bindings, keys) if b is not None])
    return question


def no_spinner(_message: str) -> AbstractContextManager[None]:
    return nullcontext()


@contextmanager
def terminal_spinner(message: str) -> Iterator[None]:
    """A spinner on stderr while a request runs (only the wizard on a terminal uses it)."""
    import itertools
    import sys
    import threading

    done = threading.Event()

    def spin() -> None:
        for frame in itertools.cycle("⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏"):
            sys.stderr.write(f"\r{frame} {message}…")
            sys.stderr.flush()
            if done.wait(0.1):
                break
        # Erase to the end of the line: spaces counted by characters leave half of a CJK message behind.
        sys.stderr.write("\r\x1b[K")
        sys.stderr.flush()

    thread = threading.Thread(target=spin, daemon=True)
    thread.start()
    try:
        yield
    finally:
        done.set()
        thread.join()
