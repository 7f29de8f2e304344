"""Test-only (the Windows lane under Wine; never shipped): psutil's `Process.name()` and `exe()` fail with
WinError 87 for every process under Wine 8.0, which lacks `NtQuerySystemInformation(SystemProcessIdInformation)`.
Imported by a `sitecustomize` in the Windows Python's standard library folder, this module waits for
`psutil._pswindows` to be imported and gives its `Process.exe` a fallback on `QueryFullProcessImageNameW`, the
documented Win32 call, which Wine has (`name()` is the basename of `exe()` in psutil once the fast path fails)."""

from __future__ import annotations

import functools
import importlib.abc
import importlib.machinery
import sys
from typing import Any

_TARGET = "psutil._pswindows"


def _image_name(pid: int) -> str:
    import ctypes
    from ctypes import wintypes

    kernel32 = ctypes.WinDLL("kernel32", use_last_error=True)
    kernel32.OpenProcess.restype = wintypes.HANDLE
    handle = kernel32.OpenProcess(0x1000, False, pid)  # PROCESS_QUERY_LIMITED_INFORMATION
    if not handle:
        raise OSError(ctypes.get_last_error(), "OpenProcess failed")
    try:
        size = wintypes.DWORD(32768)
        buffer = ctypes.create_unicode_buffer(size.value)
        if not kernel32.QueryFullProcessImageNameW(handle, 0, buffer, ctypes.byref(size)):
            raise OSError(ctypes.get_last_error(), "QueryFullProcessImageNameW failed")
        return buffer.value
    finally:
        kernel32.CloseHandle(handle)


def _patch(module: Any) -> None:
    process = module.Process
    original_exe, original_name = process.exe, process.name

    def exe(self: Any) -> str:
        try:
            return original_exe(self)
        except OSError:
            try:
                return _image_name(self.pid)
            except OSError:
                raise module.AccessDenied(self.pid, self._name) from None

    def name(self: Any) -> str:
        try:
            return original_name(self)
        except (OSError, module.AccessDenied):
            return _image_name(self.pid).rpartition("\\")[2]

    # exe is wrapped by psutil's memoize_when_activated: keep its cache_activate/cache_deactivate attributes.
    process.exe = functools.update_wrapper(exe, original_exe)
    process.name = functools.update_wrapper(name, original_name)


class _Finder(importlib.abc.MetaPathFinder):
    def find_spec(self, fullname: str, path: Any, target: Any = None) -> Any:
        if fullname != _TARGET:
            return None
        spec = importlib.machinery.PathFinder.find_spec(fullname, path)
        if spec is None or spec.loader is None:
            return spec
        loader = spec.loader
        original_exec = loader.exec_module  # type: ignore[attr-defined]

        def exec_module(module: Any) -> None:
            original_exec(module)
            _patch(module)

        loader.exec_module = exec_module  # type: ignore[attr-defined]
        return spec


if sys.platform == "win32":
    sys.meta_path.insert(0, _Finder())
