"""The demo sentiment model: a small BERT trained in seconds on the demo shop's synthetic reviews.

A DEMO MODEL ONLY, for seeing the weekly sentiment job work on a machine without network: it
knows the phrases of c4ang.demo's review generator and nothing else. Production uses a public
fine-tuned Korean sentiment checkpoint (see README.md beside this file).

Not part of the Lambda image; the `build_demo_sentiment_model` command loads it by name.
"""

import random
import time
from dataclasses import dataclass
from pathlib import Path

import torch
from tokenizers import Tokenizer, decoders, models, normalizers, pre_tokenizers, processors, trainers
from transformers import BertConfig, BertForSequenceClassification, PreTrainedTokenizerFast
from transformers.utils import logging as transformers_logging

from c4ang.demo import labelled_reviews

SPECIAL_TOKENS = {"pad": "[PAD]", "unk": "[UNK]", "cls": "[CLS]", "sep": "[SEP]", "mask": "[MASK]"}
LABELS = {0: "negative", 1: "positive"}
MAX_TOKENS = 128


def tokenizer_train(texts: list[str], *, vocab_size: int) -> PreTrainedTokenizerFast:
    """A WordPiece tokenizer learnt from `texts`, as a transformers tokenizer.

    Korean needs lowercase=False and strip_accents=False: stripping accents decomposes Hangul
    syllables (NFD) into jamo that the vocabulary does not hold. It is wrapped as
    PreTrainedTokenizerFast, not BertTokenizerFast: the latter rebuilds its normalizer from its
    own defaults when reloaded, and every Korean word then becomes [UNK].
    """
    tokenizer = Tokenizer(models.WordPiece(unk_token=SPECIAL_TOKENS["unk"]))
    tokenizer.normalizer = normalizers.BertNormalizer(lowercase=False, strip_accents=False)
    tokenizer.pre_tokenizer = pre_tokenizers.BertPreTokenizer()
    tokenizer.decoder = decoders.WordPiece()
    trainer = trainers.WordPieceTrainer(vocab_size=vocab_size, special_tokens=list(SPECIAL_TOKENS.values()))
    tokenizer.train_from_iterator(texts, trainer)
    cls, sep = SPECIAL_TOKENS["cls"], SPECIAL_TOKENS["sep"]
    tokenizer.post_processor = processors.TemplateProcessing(
        single=f"{cls} $A {sep}",
        pair=f"{cls} $A {sep} $B:1 {sep}:1",
        special_tokens=[(cls, tokenizer.token_to_id(cls)), (sep, tokenizer.token_to_id(sep))],
    )
    return PreTrainedTokenizerFast(
        tokenizer_object=tokenizer,
        model_max_length=MAX_TOKENS,
        **{f"{name}_token": token for name, token in SPECIAL_TOKENS.items()},
    )


def model_new(
    *,
    vocab_size: int,
    hidden_size: int = 64,
    layers: int = 2,
    heads: int = 2,
    id2label: dict[int, str] = LABELS,
    seed: int = 0,
) -> BertForSequenceClassification:
    """An untrained BERT sequence classifier of the given size."""
    torch.manual_seed(seed)
    config = BertConfig(
        vocab_size=vocab_size,
        hidden_size=hidden_size,
        num_hidden_layers=layers,
        num_attention_heads=heads,
        intermediate_size=4 * hidden_size,
        max_position_embeddings=MAX_TOKENS,
        id2label=id2label,
        label2id={label: index for index, label in id2label.items()},
    )
    return BertForSequenceClassification(config).eval()


@dataclass(frozen=True)
class DemoModelReport:
    output: Path
    reviews: int
    held_out_accuracy: float
    seconds: float


def demo_model_build(
    *, output: Path, reviews: int = 2000, epochs: int = 2, seed: int = 2026, batch_size: int = 32
) -> DemoModelReport:
    """Train the demo model on `reviews` synthetic labelled reviews and save it to `output`."""
    started = time.perf_counter()
    transformers_logging.disable_progress_bar()
    rng = random.Random(seed)
    train = labelled_reviews(rng, reviews)
    held_out = labelled_reviews(random.Random(seed + 1), 200)
    tokenizer = tokenizer_train([review.content for review in train], vocab_size=2000)
    model = model_new(vocab_size=len(tokenizer), seed=seed)
    optimizer = torch.optim.AdamW(model.parameters(), lr=2e-3)

    model.train()
    for _ in range(epochs):
        rng.shuffle(train)
        for start in range(0, len(train), batch_size):
            batch = train[start : start + batch_size]
            features = tokenizer(
                [review.content for review in batch], padding=True, truncation=True, return_tensors="pt"
            )
            loss = model(**features, labels=torch.tensor([review.label for review in batch])).loss
            loss.backward()
            optimizer.step()
            optimizer.zero_grad()
    model.eval()

    with torch.inference_mode():
        features = tokenizer(
            [review.content for review in held_out], padding=True, truncation=True, return_tensors="pt"
        )
        predicted = model(**features).logits.argmax(dim=-1).tolist()
    accuracy = sum(p == review.label for p, review in zip(predicted, held_out, strict=True)) / len(held_out)

    output.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(output)
    tokenizer.save_pretrained(output)
    return DemoModelReport(
        output=output, reviews=reviews, held_out_accuracy=accuracy, seconds=time.perf_counter() - started
    )
