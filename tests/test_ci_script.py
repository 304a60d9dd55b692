"""CI gates style and types before the tests, and runs the test command the README names."""

from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
GATES = (
    "ruff format --check src tests checks benchmarks",
    "ruff check src tests checks benchmarks",
    "mypy",
)
TEST_COMMAND = "python -m pytest tests -n 2"


def commands(script: str) -> list[str]:
    return [
        line.strip() for line in script.splitlines() if line.strip() and not line.lstrip().startswith("#")
    ]


def test_ci_runs_style_and_type_gates_before_the_tests():
    run = commands((ROOT / ".ci" / "run").read_text())
    positions = [run.index(gate) for gate in GATES]
    assert positions == sorted(positions), f"gates out of order in .ci/run: {GATES}"
    assert positions[-1] < run.index(TEST_COMMAND), ".ci/run runs the tests before the style and type gates"


def test_the_readme_names_the_test_command_ci_runs():
    assert TEST_COMMAND in (ROOT / "README.md").read_text()
    assert TEST_COMMAND in (ROOT / "CONTRIBUTING.md").read_text()
