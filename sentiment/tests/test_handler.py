"""The Lambda handler, with a tiny BERT built in the test and loaded by the real code from its path."""

import json
import shutil
import threading
from concurrent.futures import ThreadPoolExecutor

import pytest

from c4ang import demo
from sentiment.lambda_function import handler
from sentiment.lambda_function.handler import InvalidEvent, Misconfigured, ModelUnavailable, SentimentModel, handle

REVIEWS = [
    "배송이 빨라서 좋았어요",
    "너무 실망했어요",
    "솔직히 품질이 기대 이상입니다 가격 대비 최고예요 재구매 의사 있어요 가족들도 다 좋아해요 추천합니다",
    "그냥 그래요",
    "처음 사봤는데 금방 고장 났어요 환불하고 싶어요",
    "포장이 꼼꼼했어요",
    "사진이랑 달라요 냄새가 심해요 돈이 아까워요 다시는 안 살 거예요",
    "튼튼하고 좋아요",
    "비추천합니다",
    "디자인이 예뻐요 색감이 사진이랑 똑같아요",
]


def with_labels(source, target, id2label: dict[str, str]):
    """A copy of the model whose config names its outputs differently (the same weights)."""
    shutil.copytree(source, target)
    config = json.loads((target / "config.json").read_text())
    config["id2label"] = id2label
    config["label2id"] = {label: int(index) for index, label in id2label.items()}
    (target / "config.json").write_text(json.dumps(config))
    return target


def test_korean_words_survive_the_tokenizer_round_trip(tiny_sentiment_model):
    tokenizer = handler.model_load(str(tiny_sentiment_model)).tokenizer

    tokens = tokenizer.tokenize("배송이 빨라서 좋았어요")

    assert tokens == ["배송이", "빨라서", "좋았어요"]
    assert tokenizer.unk_token not in tokenizer.tokenize(" ".join(demo.POSITIVE_PHRASES + demo.NEGATIVE_PHRASES))
    assert (
        tokenizer.decode(tokenizer("포장이 꼼꼼했어요")["input_ids"], skip_special_tokens=True) == "포장이 꼼꼼했어요"
    )


def test_one_score_in_minus_1_to_1_per_review_in_order(tiny_sentiment_model):
    answer = handle({"reviews": REVIEWS, "batch_id": "run-1:product-1:0"}, model_name=str(tiny_sentiment_model))

    assert len(answer["sentiments"]) == len(REVIEWS)
    assert all(-1 <= score <= 1 for score in answer["sentiments"])
    assert answer["model"] == str(tiny_sentiment_model)
    assert answer["batch_id"] == "run-1:product-1:0"
    singles = [
        handle({"reviews": [review]}, model_name=str(tiny_sentiment_model))["sentiments"][0] for review in REVIEWS
    ]
    assert answer["sentiments"] == pytest.approx(singles, abs=1e-5)


def test_no_reviews_no_scores(tiny_sentiment_model):
    assert handle({"reviews": []}, model_name=str(tiny_sentiment_model))["sentiments"] == []


def test_positive_and_negative_are_read_from_the_config_not_assumed(tiny_sentiment_model, tmp_path):
    swapped = with_labels(tiny_sentiment_model, tmp_path / "swapped", {"0": "positive", "1": "negative"})

    usual = handle({"reviews": REVIEWS}, model_name=str(tiny_sentiment_model))["sentiments"]
    reversed_ = handle({"reviews": REVIEWS}, model_name=str(swapped))["sentiments"]

    assert reversed_ == pytest.approx([-score for score in usual], abs=1e-6)


def test_a_model_whose_config_does_not_name_its_labels_is_refused(tiny_sentiment_model, tmp_path):
    generic = with_labels(tiny_sentiment_model, tmp_path / "generic", {"0": "LABEL_0", "1": "LABEL_1"})

    with pytest.raises(ModelUnavailable, match="does not name one positive and one negative label"):
        handle({"reviews": REVIEWS}, model_name=str(generic))


@pytest.mark.parametrize(
    "name",
    ["sangrimlee/bert-base-multilingual-cased-nsmc", "/nonexistent/sentiment-model"],
    ids=["hub id without network", "missing directory"],
)
def test_a_model_that_cannot_be_loaded_is_a_clear_error(name):
    with pytest.raises(ModelUnavailable, match=f"(?s)cannot load the sentiment model '{name}'.*Set SENTIMENT_MODEL"):
        handle({"reviews": ["좋아요"]}, model_name=name)


def test_length_sorted_micro_batches_score_like_one_padded_batch(tiny_sentiment_model, monkeypatch):
    monkeypatch.setenv("SENTIMENT_MICRO_BATCH", "0")  # the original: the whole event, padded to its longest text
    naive = handle({"reviews": REVIEWS}, model_name=str(tiny_sentiment_model))["sentiments"]
    monkeypatch.setenv("SENTIMENT_MICRO_BATCH", "3")
    bucketed = handle({"reviews": REVIEWS}, model_name=str(tiny_sentiment_model))["sentiments"]

    assert bucketed == pytest.approx(naive, abs=1e-5)


def test_bf16_stays_close_to_fp32(tiny_sentiment_model, monkeypatch):
    fp32 = handle({"reviews": REVIEWS}, model_name=str(tiny_sentiment_model))["sentiments"]
    monkeypatch.setenv("SENTIMENT_PRECISION", "bf16")
    bf16 = handle({"reviews": REVIEWS}, model_name=str(tiny_sentiment_model))["sentiments"]

    assert bf16 == pytest.approx(fp32, abs=0.02)


def test_long_reviews_are_truncated_not_refused(tiny_sentiment_model):
    long_review = " ".join(["정말 만족스러워요"] * 400)  # far past the model's 128 positions

    assert len(handle({"reviews": [long_review]}, model_name=str(tiny_sentiment_model))["sentiments"]) == 1


@pytest.mark.parametrize(
    ("event", "message"),
    [
        (["좋아요"], 'the event must be a JSON object {"reviews": [...]}, got list'),
        ({"texts": ["좋아요"]}, 'the event has no "reviews" field'),
        ({"reviews": "좋아요"}, '"reviews" must be a list of strings, got str'),
        ({"reviews": ["좋아요", 5]}, '"reviews[1]" must be a string, got int'),
        ({"reviews": ["좋아요"] * 65}, '"reviews" holds 65 texts; at most 64 per event'),
        ({"reviews": ["좋" * 10_001]}, '"reviews[0]" has 10001 characters; at most 10000'),
        ({"reviews": ["좋아요"], "batch_id": 7}, '"batch_id" must be a string of at most 200 characters'),
    ],
)
def test_bad_events_are_clear_errors(tiny_sentiment_model, event, message):
    with pytest.raises(InvalidEvent) as raised:
        handle(event, model_name=str(tiny_sentiment_model))

    assert str(raised.value) == message


@pytest.mark.parametrize(
    ("variable", "value", "message"),
    [
        ("SENTIMENT_PRECISION", "fp8", "SENTIMENT_PRECISION must be fp32 or bf16, got 'fp8'"),
        ("SENTIMENT_MICRO_BATCH", "eight", "SENTIMENT_MICRO_BATCH must be a whole number, got 'eight'"),
    ],
)
def test_bad_tuning_is_a_clear_error(tiny_sentiment_model, monkeypatch, variable, value, message):
    monkeypatch.setenv(variable, value)

    with pytest.raises(Misconfigured) as raised:
        handle({"reviews": ["좋아요"]}, model_name=str(tiny_sentiment_model))

    assert str(raised.value) == message


def test_the_lambda_entry_point_takes_the_model_from_the_environment(tiny_sentiment_model, monkeypatch):
    monkeypatch.setenv("SENTIMENT_MODEL", str(tiny_sentiment_model))

    answer = handler.lambda_handler({"reviews": REVIEWS[:2]}, None)

    assert answer["model"] == str(tiny_sentiment_model)
    assert answer["sentiments"] == handle({"reviews": REVIEWS[:2]}, model_name=str(tiny_sentiment_model))["sentiments"]


def test_the_model_is_loaded_once_per_process(tiny_sentiment_model):
    assert handler.model_load(str(tiny_sentiment_model)) is handler.model_load(str(tiny_sentiment_model))


def test_invocations_arriving_together_load_the_model_once(tiny_sentiment_model, tmp_path, monkeypatch):
    # A directory of its own: a name this process has not loaded yet.
    fresh = shutil.copytree(tiny_sentiment_model, tmp_path / "model")
    built = []
    monkeypatch.setattr(handler, "SentimentModel", lambda name: built.append(name) or SentimentModel(name))
    together = threading.Barrier(6)

    def invoke():
        together.wait(timeout=10)
        return handler.model_load(str(fresh))

    with ThreadPoolExecutor(max_workers=6) as pool:
        models = list(pool.map(lambda _: invoke(), range(6)))

    assert built == [str(fresh)]
    assert all(model is models[0] for model in models)
