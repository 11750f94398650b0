"""Web processes never import torch or transformers; only scoring reviews in a job does."""

import os
import subprocess
import sys

LOADED = "print(sorted(name for name in ('torch', 'transformers') if name in sys.modules))"


def loaded_after(code: str) -> str:
    result = subprocess.run(
        [sys.executable, "-c", f"import sys, django; django.setup(); {code}; {LOADED}"],
        env={**os.environ, "DJANGO_SETTINGS_MODULE": "c4ang.settings"},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout.strip().splitlines()[-1]


def test_the_web_application_and_the_job_code_load_without_torch():
    code = (
        "import c4ang.wsgi, c4ang.urls, sentiment.services, sentiment.tasks, sentiment.backends, recommendations.tasks"
    )

    assert loaded_after(code) == "[]"


def test_the_local_backend_loads_torch_when_a_job_scores_reviews():
    code = "from sentiment import backends; backends.LocalScorer(model_name='unused')"

    assert loaded_after(code) == "['torch', 'transformers']"
