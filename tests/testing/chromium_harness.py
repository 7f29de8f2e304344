"""Drive a real headless Chromium to write and read localStorage, for end-to-end tests.

cherryconf edits Cherry Studio 1.x's localStorage, which Chromium keeps in a LevelDB. The only proof that
our LevelDB writes are right is that Chromium itself reads them back, so these helpers let a test:

- seed a profile through Chromium (`write_local_storage`),
- read what Chromium sees (`read_local_storage`),
- shape the LevelDB the way a long-lived install looks, with older versions in `.ldb` tables
  (`compact_history`),
- keep Chromium running so its LevelDB is open and locked (`running_chromium`).

Every page is a local file, so the origin is `file://`, the origin of the packaged Cherry Studio app. A
Chromium profile keeps that localStorage in `<profile>/Default/Local Storage/leveldb`, the same format as
`<userData>/Local Storage/leveldb` of the app.

Only the standard library is used: each session is one `chromium --headless --dump-dom <page>` run. The
page does its work in an inline script, before the load event; `--dump-dom` then prints the DOM and shuts
the browser down. Results travel back in a comment node of the dumped DOM.

What Chromium 156 (Debian) was measured to do, and what the helpers do about it:

- A page that touches localStorage within its first few milliseconds is, in about 1 load in 10, given an
  empty localStorage that is not connected to the database: it reads nothing and its writes are never
  saved (seen with --dump-dom and with pages opened over the DevTools protocol alike, in fresh and in
  warm browsers; 0 in 150 loads once the page waited 50 ms or more first). Every page therefore waits
  `_SETTLE_MS` before its first access, and every result is checked: writes are read back, an empty read
  is repeated.
- "A clean exit flushes localStorage" holds for small changes only. With an 8 MB value, --dump-dom's exit
  raced the commit: nothing or a torn record reached the log (log sizes 30, 2 293 767, 6 586 368 bytes
  instead of 8 967 033). Large writes therefore let Chromium's own commit timer do the work: the browser
  runs with --enable-aggressive-domstorage-flushing (commit 1 s after a change instead of 5 s and more,
  and no rate limit), and the page stays busy until that commit is done.

Limits worth knowing: Chromium's localStorage quota is 10 MiB per origin, counted as 2 bytes per UTF-16
code unit of every key and value, even for Latin-1 text; so one value can hold about 5 M code units.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import signal
import struct
import subprocess
import tempfile
import time
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path

CHROMIUM: str | None = shutil.which("chromium") or shutil.which("chromium-browser")

# The flags shared/README.md prescribes for a headless Chromium run as root (`--no-sandbox` is required as
# root; the others keep Chromium off the network and free of background work), plus one of ours.
CHROMIUM_FLAGS: tuple[str, ...] = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    # Commit localStorage 1 s after a change, without the rate limits that hold back a large commit for
    # minutes: the only way a multi-megabyte write reliably reaches disk (see the module docstring).
    "--enable-aggressive-domstorage-flushing",
)

# Upper bound for one Chromium session. A healthy session takes about 1 s (3 s with an 8 MB value); the
# bound only stops a hung browser from hanging the test suite.
SESSION_TIMEOUT = 60.0

# After the browser process has exited, its helpers (zygotes, renderers, the storage service) exit on
# their own within milliseconds; wait this long for them before killing the stragglers.
_GROUP_EXIT_TIMEOUT = 10.0

# How long a page waits before touching localStorage: earlier accesses sometimes get a disconnected,
# empty storage (see the module docstring). 50 ms sufficed in every trial; 250 ms leaves a margin.
_SETTLE_MS = 250

# Writes whose data exceed this many bytes (Chromium's encoding) wait for the commit timer rather than
# trust the exit. Measured: 1 KB, 100 KB and 1 MB writes survived the exit in 54/54, 25/25 and 25/25
# sessions, 8 MB ones in none of 8.
_SMALL_WRITE_BYTES = 1 << 20

# With --enable-aggressive-domstorage-flushing the commit starts 1 s after the storage service receives
# the first change; the margin covers delivering the change and writing it (8.9 MB: done within 1.2 s).
_COMMIT_WAIT_MS = 1300
_COMMIT_WAIT_MS_PER_MIB = 100

# Attempts before giving up: a write whose read-back differs is redone; an empty read is repeated.
_WRITE_ATTEMPTS = 3
_EMPTY_READ_ATTEMPTS = 3

# Chromium's write_buffer_size for the localStorage LevelDB: a log replayed past it becomes a table on
# open (see compact_history). The filler is big enough to cross it alone.
_MEMTABLE_FLUSH_BYTES = 64 * 1024
_FILLER_KEY = "__chromium_harness_filler__"
_FILLER_VALUE = "f" * 100_000

_RESULT_START = b"<!--@@HARNESS "
_RESULT_END = b" HARNESS@@-->"

# Shared by the pages. harnessBusy blocks the page's main thread, which keeps --dump-dom (and so the
# browser's exit) waiting; the storage service runs elsewhere and carries on. harnessReport puts a status
# and a text into a comment node, where --dump-dom prints it: HTML serialises comment data verbatim (no
# escaping, unlike text) and a comment costs no layout (a 16 MB visible text node took 6 s, a comment
# 2 s). The text must not hold lone surrogates, which UTF-8 output cannot carry: the read page sends
# JSON.stringify output, which escapes them.
_REPORT_JS = """
function harnessBusy(ms) {
  const end = Date.now() + ms;
  while (Date.now() < end) {}
}
function harnessReport(status, text) {
  document.body.appendChild(document.createComment("@@HARNESS " + status + " " + text + " HARNESS@@"));
}
"""

# Items travel as [key, value] pairs, not as an object, so that a key such as "__proto__" stays a key.
# `expect` lets a session first check that the previous session's write reached disk (compact_history):
# if it did not, the page writes nothing and reports STALE.
_WRITE_PAGE = f"""<!doctype html>
<html><head><meta charset="utf-8"><script src="data.js" charset="utf-8"></script></head>
<body><script>
{_REPORT_JS}
function harnessWrite(d) {{
  harnessBusy(d.settleMs);
  for (const [k, v] of d.expect) {{
    if (localStorage.getItem(k) !== v) return ["STALE", k];
  }}
  if (d.clear) localStorage.clear();
  for (const k of d.remove) localStorage.removeItem(k);
  for (const [k, v] of d.items) localStorage.setItem(k, v);
  harnessBusy(d.commitWaitMs);
  return ["OK", String(localStorage.length)];
}}
try {{
  harnessReport(...harnessWrite(window.harnessData));
}} catch (e) {{
  harnessReport("ERR", String((e && e.stack) || e));
}}
</script></body></html>
"""

# JSON.stringify is well-formed since ES2019: it writes a lone surrogate as a \\udXXX escape, which
# Python's json module turns back into the same code point, so even ill-formed strings come back exact.
_READ_PAGE = f"""<!doctype html>
<html><head><meta charset="utf-8"></head>
<body><script>
{_REPORT_JS}
try {{
  harnessBusy({_SETTLE_MS});
  const pairs = [];
  for (let i = 0; i < localStorage.length; i++) {{
    const k = localStorage.key(i);
    pairs.push([k, localStorage.getItem(k)]);
  }}
  harnessReport("OK", JSON.stringify(pairs));
}} catch (e) {{
  harnessReport("ERR", String((e && e.stack) || e));
}}
</script></body></html>
"""

# Touching localStorage makes sure Chromium opens (and locks) the LevelDB, should it ever open it lazily.
_HOLD_PAGE = f"""<!doctype html>
<html><head><meta charset="utf-8"></head>
<body><script>
{_REPORT_JS}
harnessBusy({_SETTLE_MS});
localStorage.getItem("__chromium_harness_hold__");
</script></body></html>
"""


class ChromiumError(RuntimeError):
    """Chromium failed, timed out, or did not store what it was asked to."""


def chromium_available() -> bool:
    return CHROMIUM is not None


def profile_leveldb(profile_dir: Path) -> Path:
    return Path(profile_dir) / "Default" / "Local Storage" / "leveldb"


def write_local_storage(
    profile_dir: Path,
    items: Mapping[str, str],
    *,
    remove: Sequence[str] = (),
    clear: bool = False,
) -> None:
    """Set `items` in the file:// localStorage of `profile_dir` through Chromium, and prove it reached disk.

    Order inside the session: clear (if asked), then remove, then set. A second session then reads
    everything back; unless every item has its value, every removed key is gone and, after `clear`,
    nothing else is left, the write is redone (setting a value that is already there commits nothing),
    and after `_WRITE_ATTEMPTS` tries ChromiumError is raised.
    """
    _write_verified(profile_dir, items, remove=remove, clear=clear, expect=None)


def _write_verified(
    profile_dir: Path,
    items: Mapping[str, str],
    *,
    remove: Sequence[str],
    clear: bool,
    expect: Mapping[str, str | None] | None,
) -> bool:
    """write_local_storage, but first check `expect`; False if that check failed (nothing written)."""
    problems: list[str] = []
    for attempt in range(_WRITE_ATTEMPTS):
        # A retry always waits for the commit timer: the exit may be what lost the first try.
        if not _write_session(profile_dir, items, remove, clear, expect, wait_for_commit=attempt > 0):
            return False
        expect = None  # checked once; a retry must not mistake this session's own write for staleness
        got = read_local_storage(profile_dir)
        problems = [k for k, v in items.items() if got.get(k) != v]
        problems += [k for k in remove if k not in items and k in got]
        if clear:
            problems += [k for k in got if k not in items]
        if not problems:
            return True
    raise ChromiumError(
        f"localStorage did not reach disk as written after {_WRITE_ATTEMPTS} attempts; "
        f"wrong keys: {sorted(problems)[:10]}"
    )


def _write_session(
    profile_dir: Path,
    items: Mapping[str, str],
    remove: Sequence[str],
    clear: bool,
    expect: Mapping[str, str | None] | None,
    *,
    wait_for_commit: bool,
) -> bool:
    """One Chromium session that writes; False if `expect` did not hold (nothing written then)."""
    size = sum(_encoded_len(k) + _encoded_len(v) for k, v in items.items())
    commit_wait = 0
    if wait_for_commit or size > _SMALL_WRITE_BYTES:
        commit_wait = _COMMIT_WAIT_MS + _COMMIT_WAIT_MS_PER_MIB * size // (1 << 20)
    data = {
        "items": list(items.items()),
        "remove": list(remove),
        "clear": clear,
        "expect": list((expect or {}).items()),
        "settleMs": _SETTLE_MS,
        "commitWaitMs": commit_wait,
    }
    status, _ = _run_page(profile_dir, _WRITE_PAGE, data)
    return status == "OK"


def read_local_storage(profile_dir: Path) -> dict[str, str]:
    """Every key and value Chromium sees in the file:// localStorage of `profile_dir`, exactly.

    Exact to the UTF-16 code unit, lone surrogates included. An empty result is only returned once
    `_EMPTY_READ_ATTEMPTS` sessions in a row saw nothing, since a page can be handed a disconnected,
    empty localStorage (see the module docstring).
    """
    attempts = _EMPTY_READ_ATTEMPTS if profile_leveldb(profile_dir).is_dir() else 1
    for _ in range(attempts):
        _, payload = _run_page(profile_dir, _READ_PAGE, None)
        pairs = json.loads(payload.decode("utf-8"))
        if pairs:
            break
    return dict(pairs)


def compact_history(profile_dir: Path, key: str, values: Sequence[str]) -> None:
    """Write `values` to `key`, one Chromium session each, and leave them all in `.ldb` tables.

    Why this makes tables: Chromium opens the localStorage LevelDB with write_buffer_size = 64 KiB
    (components/services/storage/dom_storage/local_storage_impl.cc) and reuse_logs. A session that adds a
    little appends to the same NNNNNN.log, and no table is ever written. But when an open replays a log
    that grows the memtable past 64 KiB, LevelDB writes the memtable to a level-0 `.ldb` table during
    recovery and starts a new log (measured: a 60 000-byte value in the log stays a log on reopen, a
    66 000-byte one becomes 000003.ldb). So:

    - each value is written in its own session; the next session first checks that it reached disk,
      and that session's open turns the log into a table once the log holds more than 64 KiB,
    - unless the last value is that large itself, it is written together with a 100 000-byte filler
      item, so the next open flushes every version still in the log, the last one included; that
      session removes the filler again, and a last one reads everything back.

    Result: `key` = values[-1] and nothing else changed (the filler is gone); every value is in some
    `.ldb` table; the current log holds at most the filler's deletion and Chromium's META records. Call
    write_local_storage afterwards to put a newer version in the log, on top of the tables. LevelDB
    compacts level 0 into level 1 once it holds 4 tables, and that drops shadowed versions: with more
    than three values above 64 KiB only the newest survive in the tables.
    """
    if not values:
        raise ValueError("compact_history needs at least one value")
    # Each step is (items, keys to remove); after step i, state(i) must hold before step i + 1 runs.
    steps: list[tuple[dict[str, str], tuple[str, ...]]] = [({key: v}, ()) for v in values]
    if _encoded_len(values[-1]) <= _MEMTABLE_FLUSH_BYTES + 4096:
        steps[-1] = ({key: values[-1], _FILLER_KEY: _FILLER_VALUE}, ())
        steps.append(({}, (_FILLER_KEY,)))

    def state(i: int) -> dict[str, str | None]:
        items, remove = steps[i]
        return {**items, **dict.fromkeys(remove)}

    # Rather than read each step back in a session of its own, the next step's session checks it and
    # reports STALE if it is not on disk; the step is then redone. The last step is read back.
    i, stale = 0, 0
    while i < len(steps):
        items, remove = steps[i]
        expect = state(i - 1) if i > 0 else None
        if i == len(steps) - 1:
            done = _write_verified(profile_dir, items, remove=remove, clear=False, expect=expect)
        else:
            done = _write_session(profile_dir, items, remove, False, expect, wait_for_commit=stale > 0)
        if done:
            i += 1
            continue
        stale += 1
        if stale > _WRITE_ATTEMPTS:
            raise ChromiumError(f"compact_history: step {i} kept failing to reach disk")
        i -= 1
    tables = [p for p in profile_leveldb(profile_dir).glob("*.ldb") if p.stat().st_size > 0]
    if not tables:
        listing = sorted(p.name for p in profile_leveldb(profile_dir).iterdir())
        raise ChromiumError(f"compact_history: Chromium wrote no .ldb table; leveldb dir holds {listing}")


def leveldb_lock_holder(profile_dir: Path) -> int | None:
    """Pid of the process holding the POSIX write lock on the localStorage LevelDB's LOCK, or None.

    F_GETLK only asks the kernel who holds a conflicting lock; it never takes the lock, so it cannot make
    a Chromium that is opening the database at that moment fail (a probing lockf could). Linux layout of
    struct flock: short l_type, short l_whence, off_t l_start, off_t l_len, pid_t l_pid, padding.
    """
    import fcntl  # Chromium runs in the Linux suite only; the harness module itself loads on Windows too

    lock = profile_leveldb(profile_dir) / "LOCK"
    try:
        fd = os.open(lock, os.O_RDONLY)
    except FileNotFoundError:
        return None
    try:
        query = struct.pack("hhqqi4x", fcntl.F_WRLCK, os.SEEK_SET, 0, 0, 0)
        l_type, _whence, _start, _len, l_pid = struct.unpack("hhqqi4x", fcntl.fcntl(fd, fcntl.F_GETLK, query))
    finally:
        os.close(fd)
    return None if l_type == fcntl.F_UNLCK else l_pid


@contextlib.contextmanager
def running_chromium(profile_dir: Path, *, timeout: float = SESSION_TIMEOUT) -> Iterator[subprocess.Popen[bytes]]:
    """Keep a headless Chromium running on `profile_dir`, its localStorage LevelDB open and locked.

    Returns only once the LOCK is held. On exit the browser gets SIGTERM, which Chromium handles as a
    clean shutdown (exit status 0, LOCK released; like any exit, it may not finish committing a large
    change still pending); only if it has not exited after `timeout` seconds is its group killed.
    """
    _require_chromium()
    with tempfile.TemporaryDirectory(prefix="chromium-harness-") as tmp:
        page = Path(tmp) / "hold.html"
        page.write_text(_HOLD_PAGE, encoding="utf-8")
        # stderr goes to a file, not a pipe: nobody reads a pipe while the block runs, and a full pipe
        # would block Chromium.
        err_path = Path(tmp) / "stderr.txt"
        with err_path.open("wb") as err:
            proc = subprocess.Popen(
                _command(profile_dir, page.as_uri()),
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=err,
                start_new_session=True,  # own process group: its helpers can be reaped as one
            )
        try:
            deadline = time.monotonic() + timeout
            while leveldb_lock_holder(profile_dir) is None:
                if proc.poll() is not None:
                    raise ChromiumError(
                        f"Chromium exited ({proc.returncode}) before locking its LevelDB\n{_tail(err_path)}"
                    )
                if time.monotonic() > deadline:
                    raise ChromiumError(f"Chromium did not lock its LevelDB within {timeout} s\n{_tail(err_path)}")
                time.sleep(0.05)
            yield proc
        finally:
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
                try:
                    proc.wait(timeout=timeout)
                except subprocess.TimeoutExpired:
                    _kill_group(proc)
            _reap_group(proc)


# --- internals -------------------------------------------------------------------------------------


def _require_chromium() -> str:
    if CHROMIUM is None:
        raise ChromiumError("chromium is not installed (apt-get install chromium)")
    return CHROMIUM


def _command(profile_dir: Path, *args: str) -> list[str]:
    return [_require_chromium(), *CHROMIUM_FLAGS, f"--user-data-dir={Path(profile_dir).resolve()}", *args]


def _run_page(profile_dir: Path, page_html: str, data: object | None) -> tuple[str, bytes]:
    """Run one --dump-dom session on `page_html` (with `data` as data.js beside it).

    Returns the page's status (OK or STALE) and payload; raises ChromiumError if Chromium or the page failed.
    """
    with tempfile.TemporaryDirectory(prefix="chromium-harness-") as tmp:
        page = Path(tmp) / "page.html"
        page.write_text(page_html, encoding="utf-8")
        if data is not None:
            (Path(tmp) / "data.js").write_bytes(b"window.harnessData = " + _js_literal(data) + b";\n")
        proc = subprocess.Popen(
            _command(profile_dir, "--dump-dom", page.as_uri()),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            start_new_session=True,
        )
        try:
            out, err = proc.communicate(timeout=SESSION_TIMEOUT)
        except subprocess.TimeoutExpired:
            _kill_group(proc)
            out, err = proc.communicate()
            raise ChromiumError(f"Chromium timed out after {SESSION_TIMEOUT} s\n{_tail_bytes(err)}") from None
        finally:
            # The next session must not start while a helper of this one still holds the LevelDB LOCK:
            # its open would fail, and Chromium answers a failed open by deleting and recreating the
            # database or by keeping localStorage in memory (LocalStorageImpl::OnDatabaseOpened).
            _reap_group(proc)
    if proc.returncode != 0:
        raise ChromiumError(f"Chromium exited with status {proc.returncode}\n{_tail_bytes(err)}")
    # The payload may itself contain the markers (it is user data): take the first start, the last end.
    start, end = out.find(_RESULT_START), out.rfind(_RESULT_END)
    if start < 0 or end < start:
        raise ChromiumError(f"the page reported nothing (did it load?)\n{_tail_bytes(err)}")
    status, _, payload = out[start + len(_RESULT_START) : end].partition(b" ")
    if status == b"ERR":
        raise ChromiumError(f"the page failed: {payload.decode('utf-8', 'replace')}\n{_tail_bytes(err)}")
    return status.decode("ascii"), payload


def _js_literal(data: object) -> bytes:
    """`data` as a UTF-8 JavaScript literal that yields exactly the same strings, lone surrogates too.

    JSON is valid JavaScript (U+2028/2029 included, since ES2019). Non-ASCII stays raw to keep an 8 MB
    CJK value at 3 bytes a character rather than 6 for a \\u escape; only lone surrogates, which UTF-8
    cannot carry, become \\uXXXX escapes, which JavaScript reads back as the same code unit.
    """
    text = json.dumps(data, ensure_ascii=False)
    text = re.sub("[\ud800-\udfff]", lambda m: f"\\u{ord(m.group()):04x}", text)
    return text.encode("utf-8")


def _encoded_len(value: str) -> int:
    """Bytes of Chromium's storage encoding of `value`: Latin-1 if it fits, else UTF-16."""
    if all(ord(c) <= 0xFF for c in value):
        return len(value)
    return len(value.encode("utf-16-le", "surrogatepass"))


def _kill_group(proc: subprocess.Popen[bytes]) -> None:
    # The group is the one start_new_session gave this browser: only its own processes are in it.
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGKILL)
    with contextlib.suppress(subprocess.TimeoutExpired):
        proc.wait(timeout=_GROUP_EXIT_TIMEOUT)


def _reap_group(proc: subprocess.Popen[bytes]) -> None:
    """Wait until no process of the browser's group is alive, killing the group if it lingers."""
    deadline = time.monotonic() + _GROUP_EXIT_TIMEOUT
    killed = False
    while _group_alive(proc.pid):
        if time.monotonic() > deadline:
            if killed:
                raise ChromiumError(f"Chromium's process group {proc.pid} survived SIGKILL")
            _kill_group(proc)
            killed = True
            deadline = time.monotonic() + _GROUP_EXIT_TIMEOUT
        time.sleep(0.02)


def _group_alive(pgid: int) -> bool:
    """Whether a live (not zombie) process is in group `pgid`.

    Read from /proc rather than probed with killpg(pgid, 0): an orphaned helper stays a zombie until
    init reaps it, and a zombie holds no file or lock but would make killpg report the group alive.
    """
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rpartition(")")[2].split()
        except OSError:
            continue  # the process ended while we looked
        # After "pid (comm)": state, ppid, pgrp, ...
        if len(fields) > 2 and fields[0] != "Z" and int(fields[2]) == pgid:
            return True
    return False


def _tail(path: Path, lines: int = 30) -> str:
    try:
        return _tail_bytes(path.read_bytes(), lines)
    except OSError:
        return ""


def _tail_bytes(data: bytes, lines: int = 30) -> str:
    text = data.decode("utf-8", "replace").splitlines()
    return "Chromium stderr (tail):\n" + "\n".join(text[-lines:])
