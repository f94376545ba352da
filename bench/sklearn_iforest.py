"""scikit-learn side of bench/iforest.ts and test/integration/iforest-sklearn.test.ts.

Batch mode:
    python sklearn_iforest.py --seeds 1,2,3 --reps 3 [--trees 100] [--sample-size 256] FILE.csv...
prints one JSON object per file: n, d, versions, and per seed the AUC, the
fit time and the best-of-reps score_samples time (ms).

Serve mode (python sklearn_iforest.py --serve): one JSON request per stdin
line, one JSON answer per stdout line, so the benchmark can alternate our
timings and scikit-learn's in time (fair on a shared, noisy machine):
    {"op": "load", "file": F}                        -> {"n", "d", "python", "sklearn", "numpy"}
    {"op": "fit", "seed": S, "trees": T, "sampleSize": P} -> {"fitMs", "fitCpuMs"}
    {"op": "score"}                                  -> {"scoreMs", "scoreCpuMs", "auc"}

All times are measured in-process, wall (perf_counter) and process CPU
(process_time): interpreter start, CSV loading and the pipe are excluded. The anomaly score is -score_samples
(score_samples is the opposite of the paper's score), used for the AUC.
"""

import argparse
import json
import sys
import time
import warnings

import numpy as np
import sklearn
from sklearn.ensemble import IsolationForest
from sklearn.metrics import roc_auc_score


def load(path):
    with open(path, encoding="utf-8") as f:
        header = f.readline().strip().split(",")
    table = np.loadtxt(path, delimiter=",", skiprows=1, dtype=np.float64, ndmin=2)
    label = header.index("label")
    y = table[:, label].astype(np.int64)
    X = np.delete(table, label, axis=1)
    return np.ascontiguousarray(X), y


def make_model(trees, sample_size, seed):
    return IsolationForest(
        n_estimators=trees,
        max_samples=sample_size,
        max_features=1.0,
        bootstrap=False,
        n_jobs=1,
        random_state=seed,
    )


def timed_fit(model, X):
    """Wall and process CPU milliseconds of model.fit(X)."""
    t0, c0 = time.perf_counter(), time.process_time()
    model.fit(X)
    return (time.perf_counter() - t0) * 1000, (time.process_time() - c0) * 1000


def timed_score(model, X):
    """Wall and process CPU milliseconds of model.score_samples(X), and the scores."""
    t0, c0 = time.perf_counter(), time.process_time()
    scores = model.score_samples(X)
    return (time.perf_counter() - t0) * 1000, (time.process_time() - c0) * 1000, scores


def versions():
    return {"python": sys.version.split()[0], "sklearn": sklearn.__version__, "numpy": np.__version__}


def warm_up():
    """Untimed, so lazy imports and first-call costs are not billed to the first set."""
    warm = np.random.default_rng(0).random((300, 3))
    make_model(10, 256, 0).fit(warm).score_samples(warm)


def batch(args):
    seeds = [int(s) for s in args.seeds.split(",")]
    for path in args.files:
        X, y = load(path)
        runs = []
        for seed in seeds:
            model = make_model(args.trees, args.sample_size, seed)
            fit_ms, _ = timed_fit(model, X)
            best = float("inf")
            scores = None
            for _ in range(args.reps):
                ms, _, scores = timed_score(model, X)
                best = min(best, ms)
            runs.append({"seed": seed, "auc": roc_auc_score(y, -scores), "fitMs": fit_ms, "scoreMs": best})
        print(json.dumps({"file": path, "n": int(X.shape[0]), "d": int(X.shape[1]), **versions(), "runs": runs}), flush=True)


def serve():
    X = y = model = None
    for line in sys.stdin:
        if not line.strip():
            continue
        try:
            req = json.loads(line)
            op = req.get("op")
            if op == "load":
                X, y = load(req["file"])
                model = None
                res = {"n": int(X.shape[0]), "d": int(X.shape[1]), **versions()}
            elif op == "fit":
                model = make_model(int(req["trees"]), int(req["sampleSize"]), int(req["seed"]))
                wall, cpu = timed_fit(model, X)
                res = {"fitMs": wall, "fitCpuMs": cpu}
            elif op == "score":
                wall, cpu, scores = timed_score(model, X)
                res = {"scoreMs": wall, "scoreCpuMs": cpu, "auc": roc_auc_score(y, -scores)}
            else:
                res = {"error": f"unknown op {op!r}"}
        except Exception as exc:  # answered, so the caller sees the reason
            res = {"error": f"{type(exc).__name__}: {exc}"}
        print(json.dumps(res), flush=True)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--serve", action="store_true")
    parser.add_argument("--seeds")
    parser.add_argument("--reps", type=int, default=3)
    parser.add_argument("--trees", type=int, default=100)
    parser.add_argument("--sample-size", type=int, default=256)
    parser.add_argument("files", nargs="*")
    args = parser.parse_args()
    # n < max_samples makes scikit-learn warn and use n, as we do.
    warnings.filterwarnings("ignore", category=UserWarning)
    warm_up()
    if args.serve:
        serve()
    else:
        if not args.seeds or not args.files:
            parser.error("--seeds and at least one FILE are required without --serve")
        batch(args)


if __name__ == "__main__":
    main()
