"""Heavy imports happen only in the command that needs them: a CronJob pod's `jobscrape run`
never loads kopf or the operator. Each check runs in a fresh interpreter."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap

import pytest

HEAVY = ("kopf", "jobscrape.controller", "jobscrape_dev")


def _loaded_after(code: str) -> dict[str, bool]:
    """Which of HEAVY are in sys.modules after running `code` in a new interpreter."""
    probe = textwrap.dedent(code) + textwrap.dedent(f"""
        import json, sys
        print(json.dumps({{m: m in sys.modules for m in {HEAVY!r}}}))
    """)
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                         timeout=120)
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout.strip().splitlines()[-1])


@pytest.mark.parametrize("argv", [["run", "--help"], ["--help"], ["scrape", "--help"],
                                  ["status", "--help"], ["version"]])
def test_cli_without_the_operator_does_not_import_kopf(argv: list[str]) -> None:
    loaded = _loaded_after(f"""
        import contextlib, io
        from jobscrape import cli
        with contextlib.redirect_stdout(io.StringIO()):
            try:
                cli.main({argv!r})
            except SystemExit:
                pass
    """)
    assert loaded == dict.fromkeys(HEAVY, False)


def test_run_parses_its_options_without_the_operator() -> None:
    """`jobscrape run` with every option parsed (the handler not called: it needs a cluster)."""
    loaded = _loaded_after("""
        from jobscrape import cli
        args = cli.build_parser(only="run").parse_args(
            ["run", "--namespace", "jobs", "--name", "x", "--store", "/tmp/x.db"])
        assert args.handler.__module__ == "jobscrape.runner.main"
    """)
    assert loaded == dict.fromkeys(HEAVY, False)


def test_runner_modules_do_not_import_kopf_or_the_controller() -> None:
    loaded = _loaded_after("""
        import jobscrape.runner.main, jobscrape.runner.pipeline, jobscrape.runner.report
        import jobscrape.runner.fetch, jobscrape.scrape, jobscrape.statuscmd
    """)
    assert loaded == dict.fromkeys(HEAVY, False)


def test_operator_help_is_light_and_its_run_loads_kopf() -> None:
    """Even `jobscrape operator --help` needs no kopf; the operator module itself does."""
    loaded = _loaded_after("""
        import contextlib, io
        from jobscrape import cli
        with contextlib.redirect_stdout(io.StringIO()):
            try:
                cli.main(["operator", "--help"])
            except SystemExit:
                pass
    """)
    assert loaded["kopf"] is False and loaded["jobscrape.controller"] is True
    assert _loaded_after("import jobscrape.controller.operator")["kopf"] is True


def test_the_operator_process_never_imports_the_official_client() -> None:
    """What `jobscrape operator` loads before kopf runs: kopf, the handlers, the client and
    the memories, with the official package kept out (controller/main.py)."""
    probe = textwrap.dedent("""
        import json, sys
        from jobscrape.controller import main
        main.without_official_client()
        import kopf
        from jobscrape.controller import apiclient, kopfmemory, operator, watchloop
        print(json.dumps(sorted(m for m, v in sys.modules.items()
                                if v is not None and m.split(".")[0] == "kubernetes")))
    """)
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                         timeout=120)
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout.strip().splitlines()[-1]) == []
    # without the block, kopf itself pulls the official package in
    out = subprocess.run([sys.executable, "-c", "import kopf, sys; "
                          "print('kubernetes.client' in sys.modules)"],
                         capture_output=True, text=True, timeout=120)
    assert out.stdout.strip() == "True"
