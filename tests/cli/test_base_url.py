"""A base URL that cannot work is refused with one sentence wherever it comes in: profile, flags, doctor.

The case that started it: pasting a gateway's address into the wizard's pre-filled answer gave
`https://vip.apiyi.comhttps://vip.apiyi.com/v1/chat/completions`, which was written and not flagged.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml
from testing.cli import RunCli, fingerprint
from testing.v1state import make_userdata, model, with_provider

DOUBLED = "https://vip.apiyi.comhttps://vip.apiyi.com/v1/chat/completions"
BAD = [
    (DOUBLED, "holds a second http:// or https://: paste one URL only"),
    ("https://vip.apiyi.com/v1/chat/completions/v1", "neither a gateway's base URL nor one of its endpoints"),
    ("https://vip.apiyi.com//v1", "neither a gateway's base URL nor one of its endpoints"),
    ("https://vip.apiyi.com /v1", "contains spaces or control characters"),
]


def one_line(err: str) -> str:
    assert err.startswith("cherryconf: ") and err.count("\n") == 1, err
    return err


@pytest.mark.parametrize(("url", "reason"), BAD)
def test_apply_refuses_the_profile_and_writes_nothing(run_cli: RunCli, tmp_path: Path, url: str, reason: str
                                                      ) -> None:
    ud = make_userdata(tmp_path)
    before = fingerprint(ud)
    path = tmp_path / "p.yaml"
    path.write_text(yaml.safe_dump({"version": 1, "providers": [
        {"id": "apiyi", "apiHost": url, "apiKey": "sk-0123456789", "models": ["gpt-4.1"]}]}))
    code, out, err = run_cli("--data-dir", str(ud), "apply", str(path), "--yes")
    assert (code, out) == (2, "")
    assert one_line(err).startswith(f"cherryconf: p.yaml: providers[0].apiHost: the base URL {url.strip()!r}")
    assert reason in err
    assert fingerprint(ud) == before


@pytest.mark.parametrize(("url", "reason"), BAD)
def test_the_wizards_flag_is_refused_and_nothing_written(run_cli: RunCli, tmp_path: Path, url: str, reason: str
                                                         ) -> None:
    ud = make_userdata(tmp_path)
    before = fingerprint(ud)
    code, _, err = run_cli("--data-dir", str(ud), "wizard", "--preset", "apiyi", "--base-url", url,
                           "--api-key-env", "K", "--model", "gpt-4.1", "--yes", env={"K": "sk-0123456789"})
    assert code == 2
    assert one_line(err).startswith("cherryconf: --base-url: the base URL ") and reason in err
    assert fingerprint(ud) == before


def test_doctor_flags_a_stored_doubled_url_and_cannot_guess_the_fix(run_cli: RunCli, tmp_path: Path) -> None:
    written = {"id": "apiyi", "name": "API易", "type": "openai", "apiKey": "sk-0123456789", "apiHost": DOUBLED,
               "enabled": True, "isSystem": False, "models": [model("gpt-4.1", "apiyi")]}
    ud = make_userdata(tmp_path, with_provider(written))
    before = fingerprint(ud)
    code, out, _ = run_cli("--data-dir", str(ud), "--json", "doctor")
    assert code == 5
    (finding,) = [f for f in json.loads(out)["findings"] if f["provider"] == "apiyi"]
    assert finding["code"] == "bad-api-host" and "second http:// or https://" in finding["message"]
    code, out, _ = run_cli("--data-dir", str(ud), "doctor", "--fix", "--yes")
    assert code == 5 and "still to fix by hand" in out
    assert fingerprint(ud) == before
