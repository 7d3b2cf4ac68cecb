"""One source for the board types and states: the API's vocabulary. The CRD, the board
registry, the status models and the runner all agree with it; a new board type added in one
place and not the others fails here."""

from __future__ import annotations

import pkgutil
from pathlib import Path
from typing import get_args

import yaml

import jobscrape.boards
from jobscrape.api import vocabulary
from jobscrape.api.crd import render_crd
from jobscrape.api.spec import TOKEN_ALPHABETS, Board
from jobscrape.api.status import BoardStatus, LastRun
from jobscrape.boards import ATS_TYPES, BOARD_TYPES, get_adapter

ROOT = Path(__file__).resolve().parents[3]
NOT_ADAPTERS = {"base", "normalise", "microdata", "paytext"}  # helpers of the adapters


def _crd_schema() -> dict:
    crd = yaml.safe_load((ROOT / "crds" / "jobsources.jobscrape.io.yaml").read_text())
    return crd["spec"]["versions"][0]["schema"]["openAPIV3Schema"]["properties"]


def test_board_registry_and_api_agree() -> None:
    """Every board type of the API has its adapter module in jobscrape/boards/, and every
    adapter module there is a board type of the API."""
    modules = {m.name for m in pkgutil.iter_modules(jobscrape.boards.__path__)} - NOT_ADAPTERS
    assert modules == set(vocabulary.BOARD_TYPES), (
        "jobscrape/boards/ and jobscrape.api.vocabulary.BoardType disagree: "
        f"adapters without a type {sorted(modules - set(vocabulary.BOARD_TYPES))}, "
        f"types without an adapter {sorted(set(vocabulary.BOARD_TYPES) - modules)}")
    assert BOARD_TYPES == vocabulary.BOARD_TYPES and ATS_TYPES == vocabulary.ATS_TYPES
    for kind in vocabulary.BOARD_TYPES:
        assert get_adapter(kind).__name__ == f"jobscrape.boards.{kind}"  # type: ignore[attr-defined]


def test_crd_enums_come_from_the_vocabulary() -> None:
    for props in (_crd_schema(), render_crd()["spec"]["versions"][0]["schema"]
                  ["openAPIV3Schema"]["properties"]):
        board = props["spec"]["properties"]["boards"]["items"]
        assert board["properties"]["type"]["enum"] == list(vocabulary.BOARD_TYPES)
        status = props["status"]["properties"]
        assert status["boards"]["items"]["properties"]["state"]["enum"] == list(
            vocabulary.BOARD_STATES)
        assert status["lastRun"]["properties"]["result"]["enum"] == list(
            vocabulary.RUN_RESULTS)
        remote = props["spec"]["properties"]["filters"]["properties"]["remote"]
        assert remote["enum"] == list(vocabulary.REMOTE_FILTERS)
        rules = " ".join(r["rule"] + r["message"] for r in board["x-kubernetes-validations"])
        for kind in vocabulary.URL_TYPES:
            assert f"'{kind}'" in rules
        assert ", ".join(vocabulary.ATS_TYPES) in rules


def test_models_use_the_vocabulary() -> None:
    assert Board.model_fields["type"].annotation is vocabulary.BoardType
    assert set(TOKEN_ALPHABETS) == set(vocabulary.BOARD_TYPES)
    assert set(get_args(BoardStatus.model_fields["state"].annotation)) >= {
        vocabulary.BoardState}
    assert set(get_args(LastRun.model_fields["result"].annotation)) >= {vocabulary.RunResult}
    assert set(vocabulary.OK_STATES) < set(vocabulary.BOARD_STATES)
    assert set(vocabulary.URL_TYPES) | set(vocabulary.ATS_TYPES) == set(vocabulary.BOARD_TYPES)
