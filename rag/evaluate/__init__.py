"""Evaluation: question sets, evaluators, the tutorial baseline, runs, reports and the gate.

``dataset`` reads a JSONL question set → ``runner`` asks and scores each question with the
evaluators of ``scoring`` → ``report`` writes Markdown and JSON; ``baseline`` is the tutorial
RAG measured alongside; ``command`` is ``reportqa eval``.
"""

from rag.evaluate.dataset import DatasetError, Question, load_questions
from rag.evaluate.runner import EvalResult, check_gate, load_thresholds, run_eval
from rag.evaluate.scoring import score_answer

__all__ = [
    "DatasetError",
    "EvalResult",
    "Question",
    "check_gate",
    "load_questions",
    "load_thresholds",
    "run_eval",
    "score_answer",
]
