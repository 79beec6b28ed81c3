from pathlib import Path

import pytest

SAMPLES = Path(__file__).resolve().parents[2] / ".." / "shared" / "data" / "schedules"
SAMPLE_FILES = (
    "sample.xml",
    "baselines.xml",
    "PredecessorCalendar.xer",
    "resource-rates-test.xer",
    "percent-complete-8.4.xer",
    "sample.xer",
    "j301_1.sm",
)


@pytest.fixture(scope="session")
def samples() -> Path:
    if not SAMPLES.is_dir():
        pytest.skip(f"../shared/data/schedules is absent ({SAMPLES}): the sample schedules live beside the repository")
    return SAMPLES.resolve()
