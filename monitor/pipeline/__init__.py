"""The numpy pipeline and block detector (Qt-free).

``BlockPipeline`` turns readings and markers into smoothed series, artefact segments and a
verdict; ``analyze`` is the offline batch path with identical results.
"""

from monitor.pipeline.artefacts import ArtefactKind, ArtefactSegment
from monitor.pipeline.batch import AnalysisResult, analyze, analyze_arrays
from monitor.pipeline.block import (
    BaselineInfo,
    BlockPipeline,
    Kinetics,
    LimbSeries,
    PipelineSnapshot,
)
from monitor.pipeline.config import CRITERIA_PRESETS, Criteria, PipelineConfig, resolve_criteria
from monitor.pipeline.difference import DifferenceSeries
from monitor.pipeline.verdict import BlockVerdict, VerdictState

__all__ = [
    "AnalysisResult",
    "analyze",
    "analyze_arrays",
    "CRITERIA_PRESETS",
    "ArtefactKind",
    "ArtefactSegment",
    "BaselineInfo",
    "BlockPipeline",
    "BlockVerdict",
    "Criteria",
    "DifferenceSeries",
    "Kinetics",
    "LimbSeries",
    "PipelineConfig",
    "PipelineSnapshot",
    "VerdictState",
    "resolve_criteria",
]
