"""
Grid search with the GAP scorer in a Pipeline
=============================================

skqrnn estimators are ordinary scikit-learn estimators: put them in a
:class:`~sklearn.pipeline.Pipeline` and tune them with
:class:`~sklearn.model_selection.GridSearchCV`, scored by Google's metrics.
"""

import os

from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from skqrnn import DenseNetClassifier
from skqrnn.datasets import load_yt8m_sample
from skqrnn.metrics import gap_scorer, hit_at_one_scorer

# SKQRNN_EXAMPLE_FAST=1 (set by the test suite) trains smaller networks for fewer epochs.
FAST = os.environ.get("SKQRNN_EXAMPLE_FAST") == "1"

X, y = load_yt8m_sample(return_X_y=True)
X, y = X[:400 if FAST else 800], y[:400 if FAST else 800]

small = dict(stem_units=64, block_layers=(1,)) if FAST else {}
pipe = make_pipeline(StandardScaler(),
                     DenseNetClassifier(epochs=2 if FAST else 5, random_state=0, **small))
grid = {"densenetclassifier__growth_rate": [32, 64], "densenetclassifier__dropout": [0.3, 0.5]}
if FAST:
    grid = {"densenetclassifier__dropout": [0.3, 0.5]}
search = GridSearchCV(
    pipe,
    grid,
    scoring={"gap": gap_scorer, "hit@1": hit_at_one_scorer},
    refit="gap",
    cv=2,
)
search.fit(X, y)
print("best parameters:", search.best_params_)
print(f"best cross-validated GAP@20: {search.best_score_:.3f}")
for params, gap, hit in zip(search.cv_results_["params"], search.cv_results_["mean_test_gap"],
                            search.cv_results_["mean_test_hit@1"]):
    print(f"  {params}  GAP@20 {gap:.3f}  Hit@1 {hit:.3f}")
