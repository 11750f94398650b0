"""build_demo_sentiment_model: a small BERT trained on the demo generator's reviews, offline, in seconds."""

import json
import random

import pytest
from django.core.management import CommandError, call_command

from c4ang import demo
from sentiment.lambda_function.handler import handle


def test_the_demo_model_scores_held_out_positive_reviews_above_negative_ones(tmp_path, capsys):
    output = tmp_path / "demo-model"

    call_command("build_demo_sentiment_model", "--output", str(output))  # the model `make run` builds

    assert "Demo sentiment model saved to" in capsys.readouterr().out
    config = json.loads((output / "config.json").read_text())
    assert (config["num_hidden_layers"], config["id2label"]) == (2, {"0": "negative", "1": "positive"})
    # Reviews the model never saw (another seed), scored by the real handler from the saved files.
    rng = random.Random(20261)
    positive = [demo.demo_review(rng, positive=True).content for _ in range(40)]
    negative = [demo.demo_review(rng, positive=False).content for _ in range(40)]
    positive_scores = handle({"reviews": positive}, model_name=str(output))["sentiments"]
    negative_scores = handle({"reviews": negative}, model_name=str(output))["sentiments"]
    assert min(positive_scores) > 0.5
    assert max(negative_scores) < -0.5


def test_bad_sizes_are_refused(tmp_path):
    with pytest.raises(CommandError, match="--reviews must be 1 or more, got 0"):
        call_command("build_demo_sentiment_model", "--output", str(tmp_path / "model"), "--reviews", "0")

    assert not (tmp_path / "model").exists()
