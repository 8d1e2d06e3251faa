"""``.ci/opencl`` (sourced by ``.ci/run``): OpenCL is exercised in CI even where the pip PoCL
cannot compile; Debian's pocl-opencl-icd is installed and selected only then.

``python``, ``apt-get``, ``sudo`` and ``id`` are replaced by fakes on the ``PATH``: the fake
``python`` reports OpenCL as irsnn would (usable only where a given .icd is selected through
``OCL_ICD_VENDORS``), the fake ``apt-get`` records its arguments and installs that .icd file.
"""

import shutil
import subprocess
from pathlib import Path

import pytest

SCRIPT = Path(__file__).parents[1] / ".ci" / "opencl"

pytestmark = pytest.mark.skipif(shutil.which("bash") is None, reason="needs bash")

FAKES = {
    # works when the pip PoCL works ($FAKE_PIP_POCL=ok) or the Debian .icd is selected and works
    "python": """#!/bin/sh
cat >/dev/null
if [ "$FAKE_PIP_POCL" = ok ] && [ -z "$OCL_ICD_VENDORS" ]; then
    echo "available: 0:0 pthread-AMD EPYC (Portable Computing Language) *"; exit 0
fi
if [ -n "$OCL_ICD_VENDORS" ] && [ "$OCL_ICD_VENDORS" = "$IRSNN_CI_POCL_ICD" ] &&
   [ -e "$OCL_ICD_VENDORS" ] && [ "$FAKE_DEBIAN_POCL" = ok ]; then
    echo "available: 0:0 pthread-znver5-AMD Ryzen 9 9950X (Portable Computing Language) *"
    exit 0
fi
echo "no OpenCL device works: 0:0 pthread-AMD Ryzen 9 9950X cannot build and run a test \\
kernel (error: unknown target CPU 'generic')"
exit 1
""",
    "apt-get": """#!/bin/sh
echo "apt-get $* [DEBIAN_FRONTEND=$DEBIAN_FRONTEND]" >> "$FAKE_LOG"
case "$*" in *install*pocl-opencl-icd*) echo libpocl.so.2 > "$IRSNN_CI_POCL_ICD";; esac
""",
    "sudo": """#!/bin/sh
echo "sudo $1" >> "$FAKE_LOG"
shift
exec "$@"
""",
    "id": """#!/bin/sh
echo "$FAKE_UID"
""",
}


def ci(tmp_path, pip_pocl, debian_pocl="ok", uid=0, force=False):
    """Source .ci/opencl and run ensure_opencl with the fakes: (exit status, output, what
    was run, OCL_ICD_VENDORS afterwards)."""
    fake_bin = tmp_path / "bin"
    fake_bin.mkdir(exist_ok=True)
    for name, text in FAKES.items():
        (fake_bin / name).write_text(text)
        (fake_bin / name).chmod(0o755)
    log, icd = tmp_path / "log", tmp_path / "vendors" / "pocl.icd"
    icd.parent.mkdir(exist_ok=True)
    env = {"PATH": f"{fake_bin}:/usr/bin:/bin", "FAKE_LOG": str(log), "FAKE_UID": str(uid),
           "FAKE_PIP_POCL": pip_pocl, "FAKE_DEBIAN_POCL": debian_pocl,
           "IRSNN_CI_POCL_ICD": str(icd)}
    if force:
        env["IRSNN_CI_DEBIAN_POCL"] = "1"
    out = subprocess.run(["bash", "-c", f'set -euo pipefail; . "{SCRIPT}"; ensure_opencl; '
                          'echo "VENDORS=${OCL_ICD_VENDORS:-}"'],
                         env=env, capture_output=True, text=True, check=False)
    ran = log.read_text().splitlines() if log.exists() else []
    vendors = next((ln[len("VENDORS="):] for ln in out.stdout.splitlines()
                    if ln.startswith("VENDORS=")), None)
    return out.returncode, out.stdout + out.stderr, ran, vendors


def test_a_working_pip_pocl_costs_one_probe(tmp_path):
    rc, text, ran, vendors = ci(tmp_path, pip_pocl="ok")
    assert rc == 0 and "OpenCL (pip PoCL): available: 0:0 pthread-AMD EPYC" in text
    assert ran == [] and vendors == ""


def test_a_pip_pocl_that_cannot_build_is_replaced_by_debians(tmp_path):
    rc, text, ran, vendors = ci(tmp_path, pip_pocl="fails")
    assert rc == 0, text
    assert "unknown target CPU 'generic'" in text and "pocl-opencl-icd" in text
    assert ran == ["apt-get update -qq [DEBIAN_FRONTEND=noninteractive]",
                   "apt-get install -y -qq --no-install-recommends pocl-opencl-icd "
                   "[DEBIAN_FRONTEND=noninteractive]"]
    icd = str(tmp_path / "vendors" / "pocl.icd")
    assert vendors == icd  # exported: the tests that follow use Debian's PoCL
    assert f"OpenCL (OCL_ICD_VENDORS={icd}): available: 0:0 pthread-znver5" in text


def test_not_root_installs_through_sudo_without_a_prompt(tmp_path):
    rc, text, ran, _ = ci(tmp_path, pip_pocl="fails", uid=1000)
    assert rc == 0, text
    assert ran[0] == "sudo -n" and ran[2] == "sudo -n" and "pocl-opencl-icd" in ran[3]


def test_an_installed_debian_pocl_is_used_without_apt(tmp_path):
    (tmp_path / "vendors").mkdir()
    (tmp_path / "vendors" / "pocl.icd").write_text("libpocl.so.2\n")
    rc, text, ran, vendors = ci(tmp_path, pip_pocl="fails")
    assert rc == 0 and ran == [] and vendors == str(tmp_path / "vendors" / "pocl.icd")


def test_the_debian_path_can_be_forced(tmp_path):
    rc, text, ran, vendors = ci(tmp_path, pip_pocl="ok", force=True)
    assert rc == 0 and "IRSNN_CI_DEBIAN_POCL is set" in text and len(ran) == 2
    assert vendors == str(tmp_path / "vendors" / "pocl.icd")


def test_ci_fails_when_no_pocl_works(tmp_path):
    rc, text, _, vendors = ci(tmp_path, pip_pocl="fails", debian_pocl="fails")
    assert rc != 0 and vendors is None
    assert "error: OpenCL does not work with Debian's PoCL either" in text


def test_ci_run_sources_it_before_the_tests():
    run = (SCRIPT.parent / "run").read_text()
    assert run.index(". .ci/opencl\nensure_opencl\n") < run.index("python -m pytest -q\n")
