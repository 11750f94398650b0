"""The review-sentiment Lambda function: {"reviews": [text, ...]} -> {"sentiments": [score, ...]}.

Each score is p(positive) - p(negative) in [-1, 1] from a fine-tuned sentiment classifier, loaded
once per container (or process) from SENTIMENT_MODEL, a hub id or a local directory. Which output
is positive and which negative is read from the model config's id2label, never assumed.

Self-contained (no Django): the container image runs it as `handler.lambda_handler`; the `local`
backend of the sentiment job calls `handle` in the job's process. Tuning, all from the environment:
    SENTIMENT_MICRO_BATCH  texts per forward pass, grouped by length (default 8; 0: the whole
                           event as one batch in its order, padded to its longest text)
    SENTIMENT_PRECISION    fp32 (default) or bf16 (autocast; faster on CPUs with bf16 support)
    SENTIMENT_MAX_TOKENS   truncation length (default 512, bounded by the model's positions)
    SENTIMENT_TORCH_THREADS  intra-op threads (default: torch's choice, one per core)
    SENTIMENT_MAX_REVIEWS  most texts in one event (default 64)
"""

import logging
import os
import threading
from dataclasses import dataclass

import torch
from transformers import AutoModelForSequenceClassification, AutoTokenizer
from transformers.utils import logging as transformers_logging

logger = logging.getLogger(__name__)
# Progress bars of weight loading are noise in a function's log.
transformers_logging.disable_progress_bar()

DEFAULT_MODEL = "sangrimlee/bert-base-multilingual-cased-nsmc"
MAX_REVIEW_CHARS = 10_000
MAX_BATCH_ID_CHARS = 200
POSITIVE_LABELS = {"positive", "pos", "긍정"}
NEGATIVE_LABELS = {"negative", "neg", "부정"}


class InvalidEvent(ValueError):
    """The event is not {"reviews": [str, ...]} within the limits."""


class ModelUnavailable(RuntimeError):
    """The sentiment model cannot be loaded or has no positive/negative labels."""


class Misconfigured(RuntimeError):
    """A tuning variable of the function has a value it cannot use."""


@dataclass(frozen=True)
class Options:
    micro_batch: int
    precision: str
    max_tokens: int
    max_reviews: int

    @classmethod
    def from_env(cls) -> "Options":
        precision = os.environ.get("SENTIMENT_PRECISION", "fp32")
        if precision not in {"fp32", "bf16"}:
            raise Misconfigured(f"SENTIMENT_PRECISION must be fp32 or bf16, got {precision!r}")
        return cls(
            micro_batch=_env_int("SENTIMENT_MICRO_BATCH", 8),
            precision=precision,
            max_tokens=_env_int("SENTIMENT_MAX_TOKENS", 512),
            max_reviews=_env_int("SENTIMENT_MAX_REVIEWS", 64),
        )


def _env_int(name: str, default: int) -> int:
    value = os.environ.get(name, "")
    if not value:
        return default
    if not value.isdigit():
        raise Misconfigured(f"{name} must be a whole number, got {value!r}")
    return int(value)


def _label_index(id2label: dict, names: set[str]) -> int | None:
    matches = [int(index) for index, label in id2label.items() if str(label).strip().lower() in names]
    return matches[0] if len(matches) == 1 else None


class SentimentModel:
    """A tokenizer and a sequence classifier with known positive and negative outputs."""

    def __init__(self, name: str):
        try:
            self.tokenizer = AutoTokenizer.from_pretrained(name)
            self.model = AutoModelForSequenceClassification.from_pretrained(name)
        except (OSError, ValueError) as error:
            # No network, a wrong hub id (OSError) or a directory without a model (ValueError).
            raise ModelUnavailable(
                f"cannot load the sentiment model {name!r}: {str(error).rstrip('.')}. Set SENTIMENT_MODEL to a "
                "fine-tuned sentiment checkpoint that this machine can reach (a local directory works offline)."
            ) from None
        self.name = name
        self.model.eval()
        id2label = self.model.config.id2label
        self.positive = _label_index(id2label, POSITIVE_LABELS)
        self.negative = _label_index(id2label, NEGATIVE_LABELS)
        if self.positive is None or self.negative is None:
            raise ModelUnavailable(
                f"the config of {name!r} does not name one positive and one negative label (id2label={id2label}); "
                "use a fine-tuned sentiment checkpoint whose config names them"
            )
        self.positions = self.model.config.max_position_embeddings

    def score(self, reviews: list[str], options: Options) -> list[float]:
        if not reviews:
            return []
        max_length = min(options.max_tokens, self.positions)
        encoded = self.tokenizer(reviews, truncation=True, max_length=max_length)["input_ids"]
        if options.micro_batch:
            # Similar lengths together: little padding, and attention cost grows with the padded length.
            order = sorted(range(len(reviews)), key=lambda index: len(encoded[index]))
            batches = [
                order[start : start + options.micro_batch] for start in range(0, len(order), options.micro_batch)
            ]
        else:
            batches = [list(range(len(reviews)))]
        scores = [0.0] * len(reviews)
        with torch.inference_mode():
            for batch in batches:
                features = self.tokenizer.pad({"input_ids": [encoded[index] for index in batch]}, return_tensors="pt")
                if options.precision == "bf16":
                    with torch.autocast("cpu", dtype=torch.bfloat16):
                        logits = self.model(**features).logits
                else:
                    logits = self.model(**features).logits
                probabilities = torch.softmax(logits.float(), dim=-1)
                batch_scores = (probabilities[:, self.positive] - probabilities[:, self.negative]).tolist()
                for index, value in zip(batch, batch_scores, strict=True):
                    scores[index] = value
        return scores


_loaded: dict[str, SentimentModel] = {}
# A container runs one invocation at a time, but the local Lambda endpoint runs several at once in one
# process: the first ones must not each load their own copy of the model.
_loading = threading.Lock()


def model_load(name: str) -> SentimentModel:
    """The model of this name, loaded on first use and kept for the life of the container."""
    with _loading:
        if name not in _loaded:
            threads = _env_int("SENTIMENT_TORCH_THREADS", 0)
            if threads:
                torch.set_num_threads(threads)
            _loaded[name] = SentimentModel(name)
            logger.info("sentiment model loaded", extra={"model": name})
    return _loaded[name]


def reviews_from_event(event: object, *, max_reviews: int) -> list[str]:
    if not isinstance(event, dict):
        raise InvalidEvent(f'the event must be a JSON object {{"reviews": [...]}}, got {type(event).__name__}')
    if "reviews" not in event:
        raise InvalidEvent('the event has no "reviews" field')
    reviews = event["reviews"]
    if not isinstance(reviews, list):
        raise InvalidEvent(f'"reviews" must be a list of strings, got {type(reviews).__name__}')
    if len(reviews) > max_reviews:
        raise InvalidEvent(f'"reviews" holds {len(reviews)} texts; at most {max_reviews} per event')
    for index, review in enumerate(reviews):
        if not isinstance(review, str):
            raise InvalidEvent(f'"reviews[{index}]" must be a string, got {type(review).__name__}')
        if len(review) > MAX_REVIEW_CHARS:
            raise InvalidEvent(f'"reviews[{index}]" has {len(review)} characters; at most {MAX_REVIEW_CHARS}')
    batch_id = event.get("batch_id")
    if batch_id is not None and (not isinstance(batch_id, str) or len(batch_id) > MAX_BATCH_ID_CHARS):
        raise InvalidEvent(f'"batch_id" must be a string of at most {MAX_BATCH_ID_CHARS} characters')
    return reviews


def handle(event: object, *, model_name: str) -> dict:
    """Score the reviews of one event with the named model."""
    options = Options.from_env()
    reviews = reviews_from_event(event, max_reviews=options.max_reviews)
    model = model_load(model_name)
    return {"sentiments": model.score(reviews, options), "model": model.name, "batch_id": event.get("batch_id")}


def lambda_handler(event, context):
    return handle(event, model_name=os.environ.get("SENTIMENT_MODEL", DEFAULT_MODEL))
