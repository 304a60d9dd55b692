"""`redis-preflight merge DIR... [--report-dir OUT]`: the shards of a fleet as one run's reports.

The judging is verdict/merge.py's; this reads the command line and writes the reports.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import pytest

from redis_preflight.config.redact import Redactor
from redis_preflight.report.files import ReportFiles, write_atomically, write_json
from redis_preflight.report.html import report_html
from redis_preflight.report.junit import junit_xml
from redis_preflight.report.writer import write_pipeline_outputs
from redis_preflight.verdict.merge import MergeError, check_shards, merge, merged_document, read_summaries
from redis_preflight.verdict.summary import usage_error_document


def main(argv: list[str]) -> int:
    """`redis-preflight merge DIR... [--report-dir OUT]`: the shards' reports as one run's."""
    parser = argparse.ArgumentParser(prog="redis-preflight merge", description=main.__doc__)
    parser.add_argument("directories", nargs="+", type=Path, help="each shard's --report-dir")
    parser.add_argument(
        "--report-dir", type=Path, default=Path("reports"), help="where the merged reports go"
    )
    parser.add_argument(
        "--prometheus-file", type=Path, help="write the merged verdict as a node_exporter textfile"
    )
    given = parser.parse_args(argv)

    files = ReportFiles.under(given.report_dir)
    scrub = Redactor().scrub
    try:
        documents = read_summaries(given.directories)
        check_shards(documents, given.directories)
    except MergeError as e:
        write_json(files.summary, usage_error_document(str(e)))
        write_pipeline_outputs(usage_error_document(str(e)), given.prometheus_file, scrub)
        print(f"redis-preflight merge: {e}", file=sys.stderr)
        return int(pytest.ExitCode.USAGE_ERROR)
    summary = merge(documents)
    document = merged_document(summary, documents)
    write_json(files.summary, document)
    write_atomically(files.junit, junit_xml(summary))
    shards = ", ".join(str(d.get("shard") or d["target"]) for d in documents)
    write_atomically(files.html, report_html(summary, [f"merged by redis-preflight merge from {shards}"]))
    write_pipeline_outputs(document, given.prometheus_file, scrub)
    print(f"redis-preflight merged verdict: {document['verdict'].upper()} ({len(summary.targets)} targets)")
    for target, verdict in summary.verdicts().items():
        print(f"{verdict.upper()} {target}")
    for path in files:
        print(f"report: {path}")
    return summary.exit_status(pytest.ExitCode.OK)
