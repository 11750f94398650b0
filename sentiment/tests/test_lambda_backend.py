"""The `lambda` backend for real: boto3 against the local Lambda Invoke API running the real handler,
and against scripted answers for throttling, timeouts and nonsense."""

import http.client
import json
import threading

import pytest
from werkzeug import Response

from deploy.local.net import free_port
from sentiment import backends
from sentiment.errors import SentimentFunctionError, SentimentInvokeFailed, SentimentModelUnavailable

REVIEWS = ["배송이 빨라서 좋았어요", "너무 실망했어요", "포장이 꼼꼼했어요"]
INVOKE_PATH = "/2015-03-31/functions/c4ang-sentiment/invocations"


def scorer(endpoint_url: str, **overrides) -> backends.LambdaScorer:
    options = {
        "function_name": "c4ang-sentiment",
        "region": "ap-northeast-2",
        "endpoint_url": endpoint_url,
        "read_timeout_s": 660,
        "attempts": 3,
        "backoff_ms": 0,
        "concurrency": 1,
        **overrides,
    }
    return backends.LambdaScorer(**options)


def throttled() -> Response:
    return Response(
        json.dumps({"message": "Rate exceeded"}), status=429, headers={"x-amzn-ErrorType": "TooManyRequestsException"}
    )


@pytest.fixture
def aws_credentials(monkeypatch):
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "local")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "local")


def test_boto3_gets_the_scores_the_handler_gives_in_process(lambda_endpoint, tiny_sentiment_model):
    remote = backends.scorer_from_settings().score(reviews=REVIEWS, batch_id="run:product:0")
    local = backends.LocalScorer(model_name=str(tiny_sentiment_model)).score(reviews=REVIEWS, batch_id="b")

    assert isinstance(backends.scorer_from_settings(), backends.LambdaScorer)
    assert remote.sentiments == local.sentiments
    assert remote.model == str(tiny_sentiment_model)


def test_a_bad_event_comes_back_as_a_function_error(lambda_endpoint):
    with pytest.raises(SentimentFunctionError) as raised:
        backends.scorer_from_settings().score(reviews=["좋아요", 5], batch_id="b")

    assert raised.value.message == (
        'c4ang-sentiment failed (Unhandled): InvalidEvent: "reviews[1]" must be a string, got int'
    )


def test_an_oversize_batch_comes_back_as_a_function_error(lambda_endpoint):
    with pytest.raises(SentimentFunctionError, match=r'"reviews" holds 65 texts; at most 64 per event'):
        backends.scorer_from_settings().score(reviews=["좋아요"] * 65, batch_id="b")


def test_a_model_the_function_cannot_load_is_model_unavailable(lambda_endpoint, monkeypatch):
    monkeypatch.setenv("SENTIMENT_MODEL", "/nonexistent/sentiment-model")

    with pytest.raises(
        SentimentModelUnavailable, match="cannot load the sentiment model '/nonexistent/sentiment-model'"
    ):
        backends.scorer_from_settings().score(reviews=REVIEWS, batch_id="b")


def test_an_unknown_function_is_refused(lambda_endpoint):
    with pytest.raises(SentimentInvokeFailed) as raised:
        scorer(lambda_endpoint.url, function_name="c4ang-other").score(reviews=REVIEWS, batch_id="b")

    assert raised.value.message == (
        "invoking c4ang-other was refused: ResourceNotFoundException: Function not found: c4ang-other"
    )


def test_the_client_never_lets_botocore_retry_and_waits_past_600_s(aws_credentials, settings):
    settings.SENTIMENT_BACKEND = "lambda"

    client_config = backends.scorer_from_settings().client.meta.config

    assert client_config.read_timeout == 660
    assert client_config.retries["total_max_attempts"] == 1


def test_throttled_invokes_are_tried_again(aws_credentials, httpserver):
    answers = iter(
        [throttled(), throttled(), Response(json.dumps({"sentiments": [0.5, -0.5, 0.0], "model": "remote"}))]
    )
    httpserver.expect_request(INVOKE_PATH, method="POST").respond_with_handler(lambda request: next(answers))

    scores = scorer(httpserver.url_for("/")).score(reviews=REVIEWS, batch_id="b")

    assert scores.sentiments == [0.5, -0.5, 0.0]
    assert len(httpserver.log) == 3


def test_throttled_past_the_attempts_is_a_clear_error(aws_credentials, httpserver):
    httpserver.expect_request(INVOKE_PATH, method="POST").respond_with_handler(lambda request: throttled())

    with pytest.raises(SentimentInvokeFailed) as raised:
        scorer(httpserver.url_for("/"), attempts=2).score(reviews=REVIEWS, batch_id="b")

    assert raised.value.message == "c4ang-sentiment throttled (TooManyRequestsException) after 2 attempts"
    assert len(httpserver.log) == 2


def test_a_timed_out_function_is_not_invoked_again(aws_credentials, httpserver):
    timed_out = {"errorMessage": "Task timed out after 600.00 seconds", "errorType": "Sandbox.Timedout"}
    httpserver.expect_request(INVOKE_PATH, method="POST").respond_with_response(
        Response(json.dumps(timed_out), headers={"X-Amz-Function-Error": "Unhandled"})
    )

    with pytest.raises(SentimentFunctionError, match=r"Sandbox\.Timedout: Task timed out after 600\.00 seconds"):
        scorer(httpserver.url_for("/")).score(reviews=REVIEWS, batch_id="b")

    assert len(httpserver.log) == 1


def test_no_answer_within_the_read_timeout_is_not_invoked_again(aws_credentials, httpserver):
    released = threading.Event()
    invocations = []

    def slow(request):
        invocations.append(request)
        released.wait(timeout=10)  # answers only after the client has given up
        return Response(json.dumps({"sentiments": [0.1, 0.1, 0.1]}))

    httpserver.expect_request(INVOKE_PATH, method="POST").respond_with_handler(slow)

    with pytest.raises(SentimentInvokeFailed) as raised:
        scorer(httpserver.url_for("/"), read_timeout_s=1).score(reviews=REVIEWS, batch_id="b")
    released.set()

    assert raised.value.message == "c4ang-sentiment gave no answer within 1 s; not invoked again, since it may have run"
    assert len(invocations) == 1


def test_an_unreachable_endpoint_is_tried_again_then_a_clear_error(aws_credentials):
    with pytest.raises(SentimentInvokeFailed, match=r"^c4ang-sentiment unreachable \(.*\) after 2 attempts$"):
        scorer(f"http://127.0.0.1:{free_port()}", attempts=2).score(reviews=REVIEWS, batch_id="b")


@pytest.mark.parametrize(
    "answer",
    [{"sentiments": [0.5, 0.5]}, {"sentiments": [0.5, 0.5, 1.5]}, {"sentiments": [0.5, "좋음", 0.5]}, {"scores": []}],
    ids=["too few", "out of range", "not a number", "no sentiments"],
)
def test_an_answer_without_one_score_per_review_is_refused(aws_credentials, httpserver, answer):
    httpserver.expect_request(INVOKE_PATH, method="POST").respond_with_json(answer)

    with pytest.raises(SentimentInvokeFailed, match="c4ang-sentiment answered without 3 sentiments in"):
        scorer(httpserver.url_for("/")).score(reviews=REVIEWS, batch_id="b")


def test_the_local_endpoint_refuses_what_the_lambda_api_refuses(lambda_endpoint):
    def post(path: str, body: bytes, headers: dict | None = None) -> tuple[int, str, dict]:
        connection = http.client.HTTPConnection(*lambda_endpoint.server_address[:2], timeout=10)
        connection.request("POST", path, body=body, headers=headers or {})
        response = connection.getresponse()
        answer = (response.status, response.getheader("x-amzn-ErrorType"), json.loads(response.read()))
        connection.close()
        return answer

    assert post(INVOKE_PATH, b"{not json")[:2] == (400, "InvalidRequestContentException")
    assert post(INVOKE_PATH, b"{}", {"X-Amz-Invocation-Type": "Event"})[:2] == (400, "InvalidParameterValueException")
    assert post("/2015-03-31/functions/c4ang-sentiment/other", b"{}")[:2] == (404, "UnknownOperationException")
    status, _, answer = post(INVOKE_PATH, json.dumps({"reviews": ["좋아요"]}).encode())
    assert status == 200
    assert len(answer["sentiments"]) == 1
