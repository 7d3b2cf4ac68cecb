"""The REST knowledge shared without a client library: quantities read exactly as the
official client reads them, and error answers."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st
from kubernetes.utils import parse_quantity as official

from jobscrape.kubeapi import (
    ApiError,
    all_namespaces_path,
    collection_path,
    parse_quantity,
    status_message,
)

SUFFIXES = ["", "n", "u", "m", "k", "K", "M", "G", "T", "P", "E", "Ki", "Mi", "Gi", "Ti",
            "Pi", "Ei", "ki", "mi", "ni", "ui", "i", "x", "KiB", "e3", "E3"]


def _same(text: str | int | float) -> None:
    try:
        want: Decimal | type[Exception] = official(text)
    except ValueError:
        want = ValueError
    if want is ValueError:
        with pytest.raises(ValueError):
            parse_quantity(text)
    else:
        assert str(parse_quantity(text)) == str(want)  # NaN included


@pytest.mark.parametrize("text", ["500m", "1Gi", "1024Mi", "2", "0.5", "1e3", "2E", "1.5Ki",
                                  "", "i", "Gi", "1ki", "1mi", "abc", "1KiB", "-3k", "+1M",
                                  "NaN", "Infinity", "1e999999999k", " 1"])
def test_named_quantities_read_as_the_official_client_reads_them(text: str) -> None:
    _same(text)


@given(st.one_of(st.integers(-10**12, 10**12).map(str),
                 st.decimals(allow_nan=False, allow_infinity=False, places=3).map(str)),
       st.sampled_from(SUFFIXES))
def test_any_number_and_suffix_reads_as_the_official_client_reads_it(number: str,
                                                                      suffix: str) -> None:
    _same(number + suffix)


@given(st.text(max_size=8))
def test_any_text_reads_as_the_official_client_reads_it(text: str) -> None:
    _same(text)


def test_numbers_are_taken_as_they_are() -> None:
    assert parse_quantity(3) == Decimal(3) and parse_quantity(Decimal("0.1")) == Decimal("0.1")


def test_errors_carry_status_and_message() -> None:
    e = ApiError(422, "metadata.uid: field is immutable")
    assert (e.status, e.reason) == (422, "metadata.uid: field is immutable")
    assert str(e) == "(422) metadata.uid: field is immutable"
    assert status_message(b'{"message": "gone"}', "Gone") == "gone"
    assert status_message(b"<html>", "Bad Gateway") == "Bad Gateway"
    assert collection_path("batch/v1", "CronJob", "ns") == "/apis/batch/v1/namespaces/ns/cronjobs"
    with pytest.raises(ValueError, match="no REST path known for v1 Pod"):
        collection_path("v1", "Pod", "ns")
    assert all_namespaces_path("batch/v1", "CronJob") == "/apis/batch/v1/cronjobs"
    assert all_namespaces_path("jobscrape.io/v1alpha1", "JobSource") == (
        "/apis/jobscrape.io/v1alpha1/jobsources")
    with pytest.raises(ValueError, match="no REST path known for v1 Pod"):
        all_namespaces_path("v1", "Pod")
