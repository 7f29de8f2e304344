"""Windows file privacy: a protected DACL that lets only the current user (and SYSTEM) in.

On POSIX cherryconf gives backups and key-holding files mode 0600 (directories 0700). On Windows `chmod` only
toggles the read-only flag, so the same promise is kept with the file's security descriptor instead: its DACL
is replaced by one granting full control to the user running cherryconf and to SYSTEM (as Windows' own profile
folders do), marked protected so that nothing is inherited from the folder it sits in (a backup or an export
written under a shared folder stays private). Uses advapi32 through ctypes: no dependency, nothing loaded on
POSIX. Everything is defined on Windows only (fsutil calls it under the same test), so mypy checks it with
`--platform win32` and skips it elsewhere.
"""

from __future__ import annotations

import ctypes
import sys
from pathlib import Path

if sys.platform == "win32":
    from ctypes import wintypes

    _advapi32 = ctypes.WinDLL("advapi32", use_last_error=True)
    _kernel32 = ctypes.WinDLL("kernel32", use_last_error=True)
    _kernel32.GetCurrentProcess.restype = wintypes.HANDLE
    _kernel32.LocalFree.argtypes = [wintypes.HLOCAL]
    _advapi32.OpenProcessToken.argtypes = [wintypes.HANDLE, wintypes.DWORD, ctypes.POINTER(wintypes.HANDLE)]
    _advapi32.GetTokenInformation.argtypes = [wintypes.HANDLE, ctypes.c_int, ctypes.c_void_p, wintypes.DWORD,
                                              ctypes.POINTER(wintypes.DWORD)]
    _advapi32.ConvertSidToStringSidW.argtypes = [ctypes.c_void_p, ctypes.POINTER(wintypes.LPWSTR)]
    _advapi32.ConvertStringSecurityDescriptorToSecurityDescriptorW.argtypes = [
        wintypes.LPCWSTR, wintypes.DWORD, ctypes.POINTER(ctypes.c_void_p), ctypes.POINTER(wintypes.ULONG)]
    _advapi32.SetFileSecurityW.argtypes = [wintypes.LPCWSTR, wintypes.DWORD, ctypes.c_void_p]
    _advapi32.GetFileSecurityW.argtypes = [wintypes.LPCWSTR, wintypes.DWORD, ctypes.c_void_p, wintypes.DWORD,
                                           ctypes.POINTER(wintypes.DWORD)]
    _advapi32.ConvertSecurityDescriptorToStringSecurityDescriptorW.argtypes = [
        ctypes.c_void_p, wintypes.DWORD, wintypes.DWORD, ctypes.POINTER(wintypes.LPWSTR),
        ctypes.POINTER(wintypes.ULONG)]

    _TOKEN_QUERY = 0x0008
    _TOKEN_USER = 1
    _DACL = 0x4  # DACL_SECURITY_INFORMATION
    _PROTECTED_DACL = 0x80000000  # PROTECTED_DACL_SECURITY_INFORMATION
    _SDDL_REVISION_1 = 1

    _user_sid: list[str] = []

    def _check(ok: object, what: str) -> None:
        if not ok:
            raise ctypes.WinError(ctypes.get_last_error(), what)

    def user_sid() -> str:
        """The SID of the user this process runs as, e.g. S-1-5-21-...-1001 (looked up once)."""
        if not _user_sid:
            token = wintypes.HANDLE()
            _check(_advapi32.OpenProcessToken(_kernel32.GetCurrentProcess(), _TOKEN_QUERY, ctypes.byref(token)),
                   "OpenProcessToken")
            try:
                size = wintypes.DWORD()
                _advapi32.GetTokenInformation(token, _TOKEN_USER, None, 0, ctypes.byref(size))
                buffer = ctypes.create_string_buffer(size.value)
                _check(_advapi32.GetTokenInformation(token, _TOKEN_USER, buffer, size, ctypes.byref(size)),
                       "GetTokenInformation")
                sid = ctypes.cast(buffer, ctypes.POINTER(ctypes.c_void_p))[0]  # TOKEN_USER.User.Sid
                text = wintypes.LPWSTR()
                _check(_advapi32.ConvertSidToStringSidW(sid, ctypes.byref(text)), "ConvertSidToStringSidW")
                _user_sid.append(str(text.value))
                _kernel32.LocalFree(text)
            finally:
                _kernel32.CloseHandle(token)
        return _user_sid[0]

    def private_sddl(directory: bool) -> str:
        """The DACL of a private file or directory, in SDDL: protected; the user and SYSTEM only."""
        inherit = "OICI" if directory else ""
        return f"D:P(A;{inherit};FA;;;{user_sid()})(A;{inherit};FA;;;SY)"

    def make_private(path: Path, directory: bool = False) -> None:
        """Replace `path`'s DACL with `private_sddl(directory)` (the descriptor's control bits carry the
        protection, so no ACE is inherited from the parent folder)."""
        descriptor = ctypes.c_void_p()
        _check(_advapi32.ConvertStringSecurityDescriptorToSecurityDescriptorW(
            private_sddl(directory), _SDDL_REVISION_1, ctypes.byref(descriptor), None),
            "ConvertStringSecurityDescriptorToSecurityDescriptorW")
        try:
            _check(_advapi32.SetFileSecurityW(str(path), _DACL | _PROTECTED_DACL, descriptor),
                   f"SetFileSecurityW({path})")
        finally:
            _kernel32.LocalFree(descriptor)

    def dacl_sddl(path: Path) -> str:
        """`path`'s DACL as SDDL (what `icacls` shows, raw): how a test checks who may open a file."""
        needed = wintypes.DWORD()
        _advapi32.GetFileSecurityW(str(path), _DACL, None, 0, ctypes.byref(needed))
        buffer = ctypes.create_string_buffer(max(needed.value, 1))
        _check(_advapi32.GetFileSecurityW(str(path), _DACL, buffer, needed, ctypes.byref(needed)),
               f"GetFileSecurityW({path})")
        text = wintypes.LPWSTR()
        _check(_advapi32.ConvertSecurityDescriptorToStringSecurityDescriptorW(
            buffer, _SDDL_REVISION_1, _DACL, ctypes.byref(text), None),
            "ConvertSecurityDescriptorToStringSecurityDescriptorW")
        try:
            return str(text.value)
        finally:
            _kernel32.LocalFree(text)
