/* Test-only (the Windows lane under Wine; never shipped): Wine 8.0's bcryptprimitives.dll lacks ProcessPrng,
 * which every Rust extension built with Rust >= 1.78 imports (pydantic-core, rpds-py, cramjam), so they fail to
 * load. This DLL, installed in the Wine prefix's system32 as bcryptprimitives.dll, supplies it on top of
 * advapi32's RtlGenRandom (SystemFunction036), which Wine has. */
#include <windows.h>

BOOLEAN WINAPI SystemFunction036(PVOID buffer, ULONG length);

__declspec(dllexport) BOOL WINAPI ProcessPrng(PBYTE data, SIZE_T size)
{
    while (size > 0) {
        ULONG chunk = size > 0x7fffffff ? 0x7fffffff : (ULONG)size;
        if (!SystemFunction036(data, chunk))
            return FALSE;
        data += chunk;
        size -= chunk;
    }
    return TRUE;
}
