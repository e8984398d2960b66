"""The nodes' wheelhouse: the pins of requirements.lock, as wheels for the NODES' platform."""

from __future__ import annotations

import os
import subprocess

import pyspark
import pytest
from click.testing import CliRunner

from nodewise_cli import wheelhouse
from nodewise_cli.cli import main

PROJECT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DEBIAN_12 = ("3.11", "x86_64", "glibc-2.36")


def test_node_requirements_are_the_marked_lines(tmp_path):
    lock = tmp_path / "requirements.lock"
    lock.write_text("# comment\npyspark==1.0  # node\nclick==8.0\nnumpy==2.0  # node\n")
    assert wheelhouse.node_requirements(str(lock)) == ["pyspark==1.0", "numpy==2.0"]


def test_the_lock_pins_the_pyspark_the_controller_runs():
    pins = wheelhouse.node_requirements(os.path.join(PROJECT, "requirements.lock"))
    assert f"pyspark=={pyspark.__version__}" in pins
    assert {p.split("==")[0] for p in pins} >= {"pyspark", "py4j", "pyarrow", "numpy", "pandas"}


def test_fingerprint_changes_with_pins_and_target():
    names = {wheelhouse.parse_target(*args).name for args in
             [DEBIAN_12, ("3.12", "x86_64", "glibc-2.36"), ("3.11", "aarch64", "glibc-2.36"),
              ("3.11", "x86_64", "glibc-2.41"), ("3.11", "x86_64", "musl-1.2")]}
    assert len(names) == 5
    prints = {wheelhouse.fingerprint(["a==1"], name) for name in names}
    assert len(prints) == 5
    base = wheelhouse.fingerprint(["a==1"], "cp311-x86_64-glibc-2.36")
    assert base == wheelhouse.fingerprint(["a==1"], "cp311-x86_64-glibc-2.36")
    assert base != wheelhouse.fingerprint(["a==2"], "cp311-x86_64-glibc-2.36")


def test_a_glibc_target_lists_every_older_manylinux_tag():
    tags = wheelhouse.parse_target(*DEBIAN_12).platform_tags()
    # pyarrow 26.0.1 has only a manylinux_2_28 wheel: pip finds it only if that tag is listed
    assert {"manylinux_2_36_x86_64", "manylinux_2_28_x86_64", "manylinux_2_17_x86_64",
            "manylinux2014_x86_64"} <= set(tags)
    assert {f"manylinux_2_{minor}_x86_64" for minor in range(17, 37)} <= set(tags)
    assert "manylinux_2_37_x86_64" not in tags
    assert all(tag.endswith("_x86_64") for tag in tags)
    aarch64 = wheelhouse.parse_target("3.11", "aarch64", "glibc-2.36").platform_tags()
    assert aarch64[0] == "manylinux_2_36_aarch64" and aarch64[-1] == "manylinux2014_aarch64"
    assert len(aarch64) == 36 - 17 + 1 + 1


def test_a_musl_target_lists_its_musllinux_tags():
    target = wheelhouse.parse_target("3.12", "aarch64", "musl-1.2")
    assert target.platform_tags() == ["musllinux_1_2_aarch64", "musllinux_1_1_aarch64"]


def test_pip_gets_the_targets_python_abis_and_every_platform():
    args = wheelhouse.parse_target(*DEBIAN_12).pip_target_args()
    pairs = list(zip(args[::2], args[1::2], strict=True))
    assert ("--python-version", "3.11") in pairs and ("--implementation", "cp") in pairs
    assert {value for option, value in pairs if option == "--abi"} == {"cp311", "abi3", "none"}
    platforms = [value for option, value in pairs if option == "--platform"]
    assert "manylinux_2_28_x86_64" in platforms and platforms[-1] == "any"


@pytest.mark.parametrize("args, named", [
    (["--python-version", "3"], "'3'"),
    (["--python-version", "3.11.2"], "'3.11.2'"),
    (["--machine", "arm64"], "'arm64'"),
    (["--libc", "glibc2.36"], "'glibc2.36'"),
    (["--libc", "musl"], "'musl'"),
])
def test_a_bad_target_value_is_refused_naming_it(args, named, tmp_path):
    lock = tmp_path / "requirements.lock"
    lock.write_text("six==1.16.0  # node\n")
    result = CliRunner().invoke(main, ["wheelhouse", "--lock", str(lock),
                                       "--out-dir", str(tmp_path / "out"), *args])
    assert result.exit_code == 2
    assert f"Invalid value for '{args[0]}'" in result.output and named in result.output
    assert not (tmp_path / "out").exists()


def test_the_defaults_are_this_machines():
    own = wheelhouse.controller_target()
    options = {param.name: param.default for param in main.commands["wheelhouse"].params}
    assert (options["python_version"], options["machine"], options["libc"]) == (
        own.python_version, own.machine, own.libc)


def test_a_foreign_targets_wheelhouse_has_its_wheels_not_the_controllers(tmp_path):
    # Python 3.12 on aarch64: neither is this machine's. MarkupSafe has binary
    # wheels; docopt is sdist-only and pure Python, as pyspark is.
    lock = tmp_path / "requirements.lock"
    lock.write_text("markupsafe==3.0.2  # node\ndocopt==0.6.2  # node\nclick==8.0\n")
    out = tmp_path / "out"
    argv = ["wheelhouse", "--lock", str(lock), "--out-dir", str(out),
            "--python-version", "3.12", "--machine", "aarch64", "--libc", "glibc-2.36"]
    result = CliRunner().invoke(main, argv)
    assert result.exit_code == 0, result.output
    assert result.output.startswith("wheelhouse built: ")
    names = sorted(p.name for p in out.glob("*.whl"))
    assert len(names) == 2, names
    assert names[0].startswith("MarkupSafe-3.0.2-cp312-cp312-") and "aarch64" in names[0]
    assert "x86_64" not in names[0]
    assert names[1] == "docopt-0.6.2-py2.py3-none-any.whl"
    assert (out / "requirements.txt").read_text() == "markupsafe==3.0.2\ndocopt==0.6.2\n"
    stamps = [p.name for p in out.glob(".complete-*")]
    target = wheelhouse.parse_target("3.12", "aarch64", "glibc-2.36")
    assert stamps == [".complete-" + wheelhouse.fingerprint(
        ["markupsafe==3.0.2", "docopt==0.6.2"], target.name)]
    assert sorted(os.listdir(out)) == sorted([*names, "requirements.txt", *stamps])
    again = CliRunner().invoke(main, argv)
    assert again.exit_code == 0 and "built" not in again.output, again.output
    assert again.output.startswith("wheelhouse already complete: ")


def fake_pip(calls, download, wheel=None, wheel_file=None):
    """A stand-in for wheelhouse._pip: `download` and `wheel` are (returncode, stderr)."""
    def run(*args):
        calls.append(args[0])
        code, stderr = download if args[0] == "download" else wheel
        if code == 0 and args[0] == "wheel":
            directory = args[args.index("--wheel-dir") + 1]
            open(os.path.join(directory, wheel_file), "w").close()
        return subprocess.CompletedProcess(args, code, "", stderr)
    return run


def test_an_sdist_that_builds_for_this_machine_only_is_refused(monkeypatch, tmp_path):
    calls = []
    monkeypatch.setattr(wheelhouse, "_pip", fake_pip(
        calls, (1, "ERROR: No matching distribution found for cext==1.0"), (0, ""),
        "cext-1.0-cp313-cp313-linux_x86_64.whl"))
    target = wheelhouse.parse_target(*DEBIAN_12)
    with pytest.raises(wheelhouse.WheelError) as error:
        wheelhouse.fetch_wheel("cext==1.0", target, str(tmp_path))
    message = str(error.value)
    assert "cext==1.0" in message and "cp311-x86_64-glibc-2.36" in message
    assert "cext-1.0-cp313-cp313-linux_x86_64.whl" in message
    assert calls == ["download", "wheel"]
    assert os.listdir(tmp_path) == []


def test_a_pip_failure_other_than_no_wheel_is_not_taken_for_an_sdist(monkeypatch, tmp_path):
    calls = []
    monkeypatch.setattr(wheelhouse, "_pip", fake_pip(
        calls, (1, "ERROR: Could not install packages due to an OSError: disk full")))
    with pytest.raises(wheelhouse.WheelError, match="could not download pkg==1.0 for "
                                                    "cp311-x86_64-glibc-2.36:\n.*disk full"):
        wheelhouse.fetch_wheel("pkg==1.0", wheelhouse.parse_target(*DEBIAN_12), str(tmp_path))
    assert calls == ["download"]


def test_a_pin_with_no_wheel_and_no_sdist_fails_naming_it_and_the_target(tmp_path):
    lock = tmp_path / "requirements.lock"
    lock.write_text("six==1.16.0  # node\nmarkupsafe==0.0.0.1  # node\n")
    result = CliRunner().invoke(main, ["wheelhouse", "--lock", str(lock), "--out-dir",
                                       str(tmp_path / "out"), "--python-version", "3.12",
                                       "--machine", "aarch64", "--libc", "glibc-2.36"])
    assert result.exit_code == 1
    assert "markupsafe==0.0.0.1 has no wheel for cp312-aarch64-glibc-2.36" in result.output
    assert "No matching distribution" in result.output
    assert not (tmp_path / "out").exists()


def test_a_lock_without_node_lines_is_refused(tmp_path):
    lock = tmp_path / "requirements.lock"
    lock.write_text("click==8.0\n")
    with pytest.raises(ValueError, match="marks no package"):
        wheelhouse.build(str(lock), str(tmp_path / "out"))
    assert not (tmp_path / "out").exists()
