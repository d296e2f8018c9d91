"""The demo: generate a synthetic county, ingest every source, govern it (quality scorecard,
record linkage), diagnose, compute the indicator catalogue and its warnings, and create one demo
account per role — in a workspace rebuilt from scratch.

Each step reports to a `DemoEvents` as it finishes, so a caller can show the tour as it goes
(the CLI prints it); `NoEvents` runs it silently.
"""

from __future__ import annotations

import shutil
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from edubrain.errors import ConflictError
from edubrain.govern.run import GovernSummary
from edubrain.indicators.run import RunSummary
from edubrain.indicators.warnings import IndicatorWarning
from edubrain.sealing import sealer_for
from edubrain.settings import Settings
from edubrain.sources.generator import GenerationSummary, generate_region
from edubrain.usecases import compute, govern, quality, warnings
from edubrain.usecases.ingest import IngestResult, ingest
from edubrain.usecases.progress import ByteProgress
from edubrain.warehouse import warehouse_in_use

if TYPE_CHECKING:  # the models (scipy, pandas) load only when the diagnosis step runs
    from edubrain.usecases.diagnose import DemoDiagnosis

BASELINE_YEAR = "2024-2025"
"""Last year's facility survey is computed first, so trends have a baseline."""


@dataclass(frozen=True)
class DemoIndicators:
    run: RunSummary
    """This year's computation."""
    headline: list[dict[str, object]]
    open_warnings: list[IndicatorWarning]
    """Most severe first."""


@dataclass(frozen=True)
class DemoLogin:
    """A demo account; the password is known only here."""

    username: str
    password: str
    role: str
    scope: str
    """In clear (a self scope is stored sealed)."""


class DemoEvents(Protocol):
    """What the demo reports, step by step."""

    def generating(self, students: int) -> None: ...

    def generated(self, region: GenerationSummary) -> None: ...

    def ingesting(self, settings: Settings) -> AbstractContextManager[ByteProgress | None]:
        """Ingestion begins; the context yields a byte progress for it, or None."""
        ...

    def ingested(self, result: IngestResult, settings: Settings) -> None: ...

    def governing(self) -> None: ...

    def governed(self, linkage: GovernSummary, scores: quality.QualityReport) -> None: ...

    def diagnosing(self) -> None: ...

    def diagnosed(self, diagnosis: DemoDiagnosis) -> None: ...

    def computing(self) -> None: ...

    def computed(self, indicators: DemoIndicators) -> None: ...


class NoEvents:
    """Runs the demo silently."""

    def generating(self, students: int) -> None:
        pass

    def generated(self, region: GenerationSummary) -> None:
        pass

    def ingesting(self, settings: Settings) -> AbstractContextManager[ByteProgress | None]:
        del settings  # no bar to draw
        return nullcontext(None)

    def ingested(self, result: IngestResult, settings: Settings) -> None:
        pass

    def governing(self) -> None:
        pass

    def governed(self, linkage: GovernSummary, scores: quality.QualityReport) -> None:
        pass

    def diagnosing(self) -> None:
        pass

    def diagnosed(self, diagnosis: DemoDiagnosis) -> None:
        pass

    def computing(self) -> None:
        pass

    def computed(self, indicators: DemoIndicators) -> None:
        pass


class WorkspaceInUseError(ConflictError):
    """The demo would delete a home that a running service (or a command) still reads."""


@dataclass(frozen=True)
class DemoResult:
    settings: Settings
    region: GenerationSummary
    ingest: IngestResult
    linkage: GovernSummary
    quality: quality.QualityReport
    diagnosis: DemoDiagnosis
    indicators: DemoIndicators
    logins: list[DemoLogin]

    @property
    def balanced(self) -> bool:
        return self.ingest.balanced


def run_demo(
    home: Path, *, students: int = 60_000, seed: int = 20251, events: DemoEvents | None = None
) -> DemoResult:
    """Rebuild `home` from scratch (everything in it is deleted) and run the whole tour in it."""
    from edubrain.modules.exams.mastery_job import fit_exam_mastery
    from edubrain.usecases.diagnose import fit_and_audit
    from edubrain.usecases.fitness_scores import fitness_scores
    from edubrain.usecases.growth_scores import growth_scores
    from edubrain.usecases.health_screening import health_screening
    from edubrain.usecases.psych_screening import psych_screening

    events = events or NoEvents()
    if home.exists() and warehouse_in_use(Settings(home=home)):
        # Deleting the home under a running service would leave it serving what it had open
        # (its store, its version of the warehouse) while the demo builds another one.
        raise WorkspaceInUseError(
            f"{home} 正被运行中的服务（edubrain serve）或另一个命令使用：请先停止它，"
            "再重建演示数据；the demo deletes and rebuilds this home"
        )
    if home.exists():
        shutil.rmtree(home)
    home.mkdir(parents=True)
    settings = Settings(home=home)
    region_dir = home / "region"

    events.generating(students)
    region = generate_region(region_dir, students=students, seed=seed)
    events.generated(region)
    outline = region_dir / "map" / "outline.geojson"
    if outline.is_file():  # the cockpit's map (教育一张图) draws it
        settings.workspace.map_outline.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(outline, settings.workspace.map_outline)

    # The knowledge folder holds the diagnosis module's entities (graph, items, practice).
    folders = [region_dir / "standard", region_dir / "exports", region_dir / "knowledge"]
    with events.ingesting(settings) as bar:
        loaded = ingest(settings, folders, progress=bar)
    events.ingested(loaded, settings)

    events.governing()
    linkage = govern.link_persons(settings, truth=region_dir / "truth")
    scores = quality.score(settings, interop=True)
    events.governed(linkage, scores)

    events.diagnosing()
    diagnosis = fit_and_audit(settings, region_dir)
    # The exams' cognitive diagnosis, which the teacher's 学情 page reads (its outcome per paper
    # is what `edubrain diagnose exams` prints).
    fit_exam_mastery(settings)
    events.diagnosed(diagnosis)

    # The fitness scores and health screening the 体质健康 and 健康 indicators read (a few
    # seconds each at the demo's size; without the modules' tables they only say so).
    fitness_scores(settings)
    health_screening(settings)
    # The screening results the demo's 心理教师 reads (GET /api/v1/psych/results).
    psych_screening(settings)
    # 综合素质评价 by the packaged example scheme (the pupil's portrait shows it).
    growth_scores(settings)

    events.computing()
    indicators = compute_for_demo(settings)
    events.computed(indicators)

    return DemoResult(
        settings, region, loaded, linkage, scores, diagnosis, indicators, demo_logins(settings)
    )


def compute_for_demo(settings: Settings) -> DemoIndicators:
    """Last year's facility survey first (so trends have a baseline), then this year."""
    compute.compute_indicators(settings, school_year=BASELINE_YEAR, families=["info"])
    run = compute.compute_indicators(settings)
    headline = compute.headline_rows(settings, run.run.school_year)
    return DemoIndicators(run, headline, warnings.list_warnings(settings, statuses=["open"]))


def demo_logins(settings: Settings) -> list[DemoLogin]:
    """Create one demo account per role, `demo_<role>`, with a fresh password."""
    from edubrain.service.demo import create_demo_accounts

    sealer = sealer_for(settings)
    logins = []
    for account in create_demo_accounts(settings):
        scope = account.scope.describe()  # self scopes are stored sealed; shown here in clear
        logins.append(
            DemoLogin(
                account.username,
                account.password,
                account.role.value,
                sealer.open_text(scope) if sealer is not None else scope,
            )
        )
    return logins
