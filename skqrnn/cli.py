"""The ``skqrnn`` command line: demo, train, evaluate, predict.

``skqrnn demo`` runs the source paper's experiment on the data shipped with
skqrnn; ``train`` / ``evaluate`` / ``predict`` do the same job on a user's own
YouTube-8M shards, streaming them so that no partition has to fit in memory.

``train`` trains through the estimator's own ``fit`` (shard streams with
read-ahead, ``validation_data``, early stopping, best weights, checkpoints):
what it does is exactly what the Python API does.

Every input (pattern matches, first record readable) and output (directory
exists and is writable) is checked before any training starts. Errors a user
can make (no matching files, the wrong level for the data, an unknown
parameter, a model file of another kind, an output that exists, a read-only
directory, a full disk) end with one ``skqrnn: error: ...`` line and exit
status 2 — never a traceback; Ctrl-C exits with 130. An existing file is
replaced only with ``--overwrite`` (or, for a training checkpoint,
``--resume``), never when it is also an input of the command, and always
atomically.
"""

import argparse
import ast
import json
import os
import sys
import time

__all__ = ["main"]

#: Model names on the command line -> (module, class).
MODELS = {
    "densenet": ("skqrnn.densenet", "DenseNetClassifier"),
    "qrnn": ("skqrnn.qrnn", "QRNNClassifier"),
    "dcqrnn": ("skqrnn.qrnn", "DCQRNNClassifier"),
    "logistic": ("skqrnn.baselines", "LogisticClassifier"),
    "mlp": ("skqrnn.baselines", "MLPBaselineClassifier"),
}

#: Exit status of a run that stopped on a user error.
USAGE_ERROR = 2

#: Exit status after Ctrl-C (128 + SIGINT), as shells report it.
INTERRUPTED = 130


class CLIError(Exception):
    """A mistake of the user's, reported as one line without a traceback."""


# --------------------------------------------------------------------- helpers
def _model_class(name):
    import importlib

    module, cls = MODELS[name]
    return getattr(importlib.import_module(module), cls)


def _parse_value(text):
    """``"32"`` -> 32, ``"(4, 4)"`` -> (4, 4), ``"adam"`` -> "adam"."""
    try:
        return ast.literal_eval(text)
    except (ValueError, SyntaxError):
        return text


def parse_params(pairs, estimator_class):
    """Turn ``["growth_rate=32", ...]`` into keyword arguments, checking names."""
    valid = estimator_class().get_params(deep=False)
    params = {}
    for pair in pairs or ():
        name, sep, value = pair.partition("=")
        name = name.strip()
        if not sep or not name:
            raise CLIError(f"--param expects NAME=VALUE; got {pair!r}.")
        if name not in valid:
            raise CLIError(
                f"{estimator_class.__name__} has no parameter {name!r}; valid parameters: "
                f"{', '.join(sorted(valid))}."
            )
        params[name] = _parse_value(value)
    # The values too, before any data is read or file written: the
    # estimator's own check raises a ValueError written for users.
    estimator_class(**params)._check_params()
    return params


def _check_output(path, overwrite, hint="pass --overwrite to replace it"):
    if os.path.exists(path) and not overwrite:
        raise CLIError(f"{path} exists; {hint}.")
    parent = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(parent):
        raise CLIError(f"cannot write {path}: directory {parent} does not exist.")


def _check_positive(args, *flags):
    """Refuse a count below 1 here, naming the flag: further down it surfaces as
    an estimator or reader message that names no flag (or none at all)."""
    for flag in flags:
        value = getattr(args, flag.lstrip("-").replace("-", "_"))
        if value is not None and value < 1:
            raise CLIError(f"{flag} must be an integer >= 1; got {value}.")


def _same_path(a, b):
    """Whether two paths name one file (either may not exist yet)."""
    try:
        return os.path.samefile(a, b)
    except OSError:
        return os.path.realpath(a) == os.path.realpath(b)


def _local_files(pattern):
    """The local files a --train/--data pattern names, for clash checks only.

    Remote URLs cannot clash with a local output, and a pattern that matches
    nothing is left for the reader to report in its own words.
    """
    from .io import expand_paths

    if pattern is None or "://" in pattern.replace("file://", "", 1):
        return []
    try:
        return expand_paths(pattern)
    except OSError:
        return []


def _refuse_clashes(outputs, inputs):
    """Refuse an output that is an input or another output, even with --overwrite.

    --overwrite allows replacing a file left by an earlier run, never reading
    a file and writing over it in the same command (``predict --out m.keras
    --model m.keras`` would destroy the model).

    outputs, inputs : lists of (flag, path); a path may be None (not given).
    """
    outputs = [(f, p) for f, p in outputs if p is not None]
    inputs = [(f, p) for f, p in inputs if p is not None]
    for i, (out_flag, out) in enumerate(outputs):
        for in_flag, path in inputs + outputs[:i]:
            if _same_path(out, path):
                raise CLIError(f"{out_flag} {out} is the same file as {in_flag} {path}: "
                               "choose another path.")


def _save_estimator(estimator, path):
    estimator.save(path)  # atomic: an existing file survives any failure


def _load_estimator(path, expected=None):
    from ._loading import load_model

    if not os.path.exists(path):
        raise CLIError(f"model file {path} does not exist.")
    try:
        estimator = load_model(path)
    except (ValueError, KeyError) as exc:
        raise CLIError(f"{path} is not a model saved by skqrnn ({exc}).") from None
    if expected is not None and not isinstance(estimator, expected):
        raise CLIError(
            f"{path} holds a {type(estimator).__name__}, not a {expected.__name__}: "
            "choose the matching --model or another file."
        )
    return estimator


def _input_spec(estimator):
    """(level, dequantize) of the data a fitted estimator was trained on.

    An ensemble's skqrnn networks must agree; its other members (scikit-learn
    estimators) read video-level float features.
    """
    networks = list(_networks(estimator))
    specs = {(("frame" if len(net.model_.inputs[0].shape) == 3 else "video"),
              getattr(net, "_input_dtype", "float32") != "uint8") for net in networks}
    if len(specs) > 1:
        raise CLIError(f"{type(estimator).__name__}'s networks read different inputs "
                       f"({sorted(specs)}): predict with each network on its own.")
    return specs.pop() if specs else ("video", True)


def _networks(estimator):
    """The fitted skqrnn networks that predict for ``estimator``."""
    if hasattr(estimator, "model_"):
        yield estimator
    for member in getattr(estimator, "estimators_", ()):
        yield from _networks(member)
    if hasattr(estimator, "student_"):  # a distilled model predicts with its student
        yield from _networks(estimator.student_)


def _stream(pattern, *, level, batch_size, dequantize=True, shuffle=False, random_state=0,
            return_meta=False, labels=True, max_frames=300):
    from .io import iter_yt8m

    return iter_yt8m(
        pattern, level=level, batch_size=batch_size, dequantize=dequantize,
        sparse_labels=True, shuffle=shuffle, random_state=random_state,
        return_meta=return_meta, label_key="labels" if labels else None,
        max_frames=max_frames,
    )


def _check_input(flag, pattern, level, *, labels=True, max_frames=300):
    """Resolve a shard pattern and read its first record now, before any long work.

    A typo in --valid used to surface after the first training epoch; a
    shard of the wrong level or format is reported here with its file and
    record.
    """
    from .io import expand_paths, iter_yt8m

    try:
        files = expand_paths(pattern)
    except FileNotFoundError as exc:
        raise CLIError(f"{flag} {exc}") from None
    for batch in iter_yt8m(files, level=level, batch_size=1, sparse_labels=True,
                           label_key="labels" if labels else None, max_frames=max_frames):
        break  # one record read and parsed is enough
    return files


class _Progress:
    """Batches done, videos and an ETA: rewritten in place on a terminal, a plain
    line every tenth of the work (or 30 s) otherwise, nothing when quiet."""

    def __init__(self, what, total, quiet=False, stream=None):
        self.what, self.total, self.quiet = what, total, quiet
        self.stream = stream or sys.stderr
        self.tty = hasattr(self.stream, "isatty") and self.stream.isatty()
        self.start = self._last = time.perf_counter()
        self.done = self.videos = 0

    def update(self, videos):
        self.done += 1
        self.videos += videos
        if self.quiet:
            return
        now = time.perf_counter()
        step = max(1, self.total // 10) if self.total else 0
        if not self.tty and not (step and self.done % step == 0) and now - self._last < 30:
            return
        self._last = now
        elapsed = now - self.start
        eta = ""
        if self.total:
            left = elapsed / self.done * (self.total - self.done)
            eta = f", ETA {int(left) // 60}:{int(left) % 60:02d}"
        text = (f"{self.what}: {self.done}/{self.total or '?'} batches, {self.videos} videos, "
                f"{elapsed:.0f} s{eta}")
        if self.tty:
            self.stream.write("\r" + text.ljust(78))
        else:
            self.stream.write(text + "\n")
        self.stream.flush()

    def close(self):
        if self.tty and not self.quiet and self.done:
            self.stream.write("\n")
            self.stream.flush()


def _evaluate_stream(estimator, stream, quiet=True):
    from .metrics import YT8MEvaluator

    evaluator = YT8MEvaluator(top_k=20)
    progress = _Progress("evaluate", len(stream), quiet)
    for X, y in stream:
        evaluator.update(y, estimator.predict_proba(X))
        progress.update(X.shape[0])
    progress.close()
    return evaluator.result()


def _log(message, quiet=False):
    if not quiet:
        print(message, flush=True)


def _file_id(path):
    try:
        st = os.stat(path)
    except OSError:
        return None
    return (st.st_ino, st.st_mtime_ns, st.st_size)


def _epoch_callbacks(args, epochs):
    """One line per epoch (always), per-epoch CSV (and TensorBoard) logs with --log-dir."""
    import importlib.util

    import keras

    class EpochLine(keras.callbacks.Callback):
        def on_epoch_begin(self, epoch, logs=None):
            self._t0 = time.perf_counter()

        def on_epoch_end(self, epoch, logs=None):
            logs = logs or {}
            line = (f"epoch {epoch + 1}/{epochs}: {time.perf_counter() - self._t0:.1f} s, "
                    f"loss {logs.get('loss', float('nan')):.4f}")
            if "val_gap" in logs:
                line += f", validation GAP@20 {logs['val_gap']:.4f}"
            _log(line)

    callbacks = [EpochLine()]
    if args.log_dir:
        callbacks.append(keras.callbacks.CSVLogger(os.path.join(args.log_dir, "training.csv"),
                                                   append=bool(args.resume)))
        if importlib.util.find_spec("tensorflow") is not None:
            callbacks.append(keras.callbacks.TensorBoard(log_dir=args.log_dir))
    return callbacks


# -------------------------------------------------------------------- commands
def cmd_train(args):
    from ._files import check_writable

    _check_positive(args, "--epochs", "--max-frames", "--max-videos")
    if args.grid:
        _check_positive(args, "--cv")
    cls = _model_class(args.model)
    params = parse_params(args.param, cls)
    if args.epochs is not None:
        params["epochs"] = args.epochs
    if args.checkpoint_every is not None:
        params["checkpoint_every"] = _parse_value(args.checkpoint_every)
    inputs = [("--train", p) for p in _local_files(args.train)]
    inputs += [("--valid", p) for p in _local_files(args.valid)]
    inputs.append(("--grid", args.grid))
    if args.grid:
        _refuse_clashes([("--out", args.out)], inputs)
        _check_output(args.out, args.overwrite)
        check_writable(args.out, "--out")
        _check_input("--train", args.train, args.level, max_frames=args.max_frames)
        return _train_grid(args, cls, params)

    checkpoint = args.checkpoint or args.out + ".ckpt.keras"
    _refuse_clashes([("--out", args.out), ("--checkpoint", checkpoint)], inputs)
    _check_output(args.out, args.overwrite)
    # The checkpoint is an output like --out: an existing one is the user's
    # (another run's, or a file named by mistake) and is neither replaced nor
    # deleted unless --overwrite says so. --resume is the other way to claim
    # it: the run continues from it and keeps it up to date.
    resuming = args.resume and os.path.exists(checkpoint)
    if not resuming:
        _check_output(checkpoint, args.overwrite,
                      "pass --resume to continue from it or --overwrite to replace it")
    # Every input and output is checked before training starts: on real data
    # an epoch is hours, and nothing of it should be lost to a typo.
    train_files = _check_input("--train", args.train, args.level, max_frames=args.max_frames)
    valid_files = (_check_input("--valid", args.valid, args.level, max_frames=args.max_frames)
                   if args.valid else None)
    check_writable(args.out, "--out")
    check_writable(checkpoint, "--checkpoint")
    if args.log_dir:
        os.makedirs(args.log_dir, exist_ok=True)
        check_writable(os.path.join(args.log_dir, "training.csv"), "--log-dir")
    if resuming:
        saved = _load_estimator(checkpoint, cls)
        _log(f"resuming from {checkpoint} after epoch {saved.n_iter_}")
    elif args.resume:
        _log(f"no checkpoint at {checkpoint}; starting from scratch")
    params.setdefault("random_state", args.seed)
    estimator = cls(**{**params, "checkpoint": checkpoint})
    epochs = estimator.epochs
    estimator.set_params(
        verbose=0 if args.quiet or not sys.stdout.isatty() else 1,
        callbacks=list(estimator.callbacks or []) + _epoch_callbacks(args, epochs),
    )
    size = estimator.batch_size if isinstance(estimator.batch_size, int) else 256
    dequantize = not args.quantized
    train = _stream(train_files, level=args.level, batch_size=size, dequantize=dequantize,
                    shuffle=True, random_state=args.seed, max_frames=args.max_frames)
    valid = None
    if valid_files:
        valid = _stream(valid_files, level=args.level, batch_size=size, dequantize=dequantize,
                        max_frames=args.max_frames)
    before = _file_id(checkpoint)
    try:
        estimator.fit(train, validation_data=valid, resume=resuming)
    except ValueError as exc:
        if resuming and "cannot resume" in str(exc):
            raise CLIError(f"{exc} (--param values must match the checkpoint's).") from None
        raise
    # This run's callbacks and checkpoint belong to the run, not to the model.
    estimator.set_params(callbacks=None, verbose=0, checkpoint=None)
    _save_estimator(estimator, args.out)
    # The checkpoint has served its purpose once --out is written; delete it
    # only if this run wrote it (a --resume with no epoch left to run leaves
    # the file it was given as it was).
    if os.path.exists(checkpoint) and _file_id(checkpoint) != before:
        os.unlink(checkpoint)
    best = estimator.history_.get("val_gap")
    if best:
        top = max(range(len(best)), key=best.__getitem__)
        _log(f"best validation GAP@20 {best[top]:.4f} at epoch {top + 1} of "
             f"{estimator.n_iter_} (the model written)")
    _log(f"wrote {args.out}")
    return 0


def _train_grid(args, cls, params):
    from sklearn.model_selection import GridSearchCV

    from .io import load_yt8m
    from .metrics import gap_scorer, hit_at_one_scorer

    try:
        with open(args.grid) as f:
            grid = json.load(f)
    except OSError as exc:
        raise CLIError(f"cannot read --grid {args.grid}: {exc.strerror}.") from None
    except ValueError as exc:
        raise CLIError(f"--grid {args.grid} is not valid JSON: {exc}.") from None
    grids = grid if isinstance(grid, list) else [grid]
    valid = cls().get_params(deep=False)
    for g in grids:
        if not isinstance(g, dict) or not all(isinstance(v, list) for v in g.values()):
            raise CLIError(f"--grid {args.grid} must map parameter names to lists of values.")
        unknown = sorted(set(g) - set(valid))
        if unknown:
            raise CLIError(f"--grid names unknown {cls.__name__} parameters {unknown}; "
                           f"valid parameters: {', '.join(sorted(valid))}.")
    # A grid search refits on many subsets: it needs the data in memory.
    data = load_yt8m(args.train, level=args.level, dequantize=not args.quantized,
                     max_frames=args.max_frames, max_videos=args.max_videos)
    params.setdefault("random_state", args.seed)
    search = GridSearchCV(cls(**params), grids, scoring={"gap": gap_scorer,
                                                         "hit@1": hit_at_one_scorer},
                          refit="gap", cv=args.cv, n_jobs=args.n_jobs,
                          verbose=0 if args.quiet else 2)
    search.fit(data.X, data.y)
    _log(f"best GAP@20 {search.best_score_:.4f} with {search.best_params_}")
    _save_estimator(search.best_estimator_, args.out)
    _log(f"wrote {args.out}")
    return 0


def cmd_evaluate(args):
    _check_positive(args, "--batch-size")
    estimator = _load_estimator(args.model)
    level, dequantize = _input_spec(estimator)
    files = _check_input("--data", args.data, level)
    stream = _stream(files, level=level, batch_size=args.batch_size,
                     dequantize=dequantize)
    result = _evaluate_stream(estimator, stream, quiet=args.quiet or args.json)
    if args.json:
        print(json.dumps(result))
    else:
        print(f"videos   {result['n_videos']}")
        print(f"GAP@20   {result['gap']:.4f}")
        print(f"Hit@1    {result['hit_at_one']:.4f}")
        print(f"PERR     {result['perr']:.4f}")
        print(f"MAP      {result['map']:.4f}")
    return 0


def cmd_predict(args):
    from ._files import atomic_path, check_writable
    from .submission import write_submission

    _check_positive(args, "--batch-size", "--top-k")
    _refuse_clashes([("--out", args.out)],
                    [("--model", args.model)] + [("--data", p) for p in _local_files(args.data)])
    _check_output(args.out, args.overwrite)
    check_writable(args.out, "--out")
    estimator = _load_estimator(args.model)
    level, dequantize = _input_spec(estimator)
    files = _check_input("--data", args.data, level, labels=False)
    stream = _stream(files, level=level, batch_size=args.batch_size,
                     dequantize=dequantize, return_meta=True, labels=False)
    n = 0
    progress = _Progress("predict", len(stream), args.quiet)
    with atomic_path(args.out) as tmp:
        with open(tmp, "w", newline="") as f:
            for X, _, meta in stream:
                write_submission(f, meta["ids"], estimator.predict_proba(X),
                                 top_k=args.top_k, format=args.format, header=n == 0)
                n += X.shape[0]
                progress.update(X.shape[0])
    progress.close()
    _log(f"wrote predictions for {n} videos to {args.out}")
    return 0


def cmd_demo(args):
    from ._demo import run_demo

    run_demo(out_dir=args.out, fast=args.fast, overwrite=args.overwrite, seed=args.seed,
             quiet=args.quiet)
    return 0


# ---------------------------------------------------------------------- parser
def build_parser():
    parser = argparse.ArgumentParser(
        prog="skqrnn",
        description="Light-weight deep video classifiers (DenseNet, QRNN, dcQRNN) for "
                    "YouTube-8M, as scikit-learn estimators.",
    )
    parser.add_argument("--version", action="version",
                        version=f"%(prog)s {__import__('skqrnn').__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    demo = sub.add_parser("demo", help="run the paper's experiment on the bundled real sample",
                          description="Train DenseNet, QRNN and dcQRNN (with a small "
                          "GAP-scored grid search) and baselines on the real YouTube-8M sample "
                          "shipped with skqrnn and on synthetic frame-level data; write a "
                          "results table, a Kaggle submission and a plot.")
    demo.add_argument("--out", default="skqrnn-demo-output",
                      help="directory for the results (default: %(default)s)")
    demo.add_argument("--fast", action="store_true",
                      help="tiny models and data, for a smoke test (about a minute)")
    demo.add_argument("--overwrite", action="store_true",
                      help="replace results already in --out")
    demo.add_argument("--seed", type=int, default=0)
    demo.add_argument("--quiet", action="store_true", help="print only the table")
    demo.set_defaults(func=cmd_demo)

    train = sub.add_parser("train", help="train a model on TFRecord shards",
                           description="Train on YouTube-8M shards through the estimator's "
                           "fit, streaming them (bounded memory, read ahead): validation "
                           "GAP and early stopping with --valid, best weights kept, a "
                           "checkpoint after every epoch.")
    train.add_argument("--model", required=True, choices=sorted(MODELS))
    train.add_argument("--train", required=True, metavar="PATTERN",
                       help="training shards: files, glob pattern or directory")
    train.add_argument("--valid", metavar="PATTERN", help="validation shards (GAP per epoch)")
    train.add_argument("--level", choices=("video", "frame"), default="video")
    train.add_argument("--param", action="append", metavar="NAME=VALUE",
                       help="model parameter, repeatable (e.g. --param growth_rate=32)")
    train.add_argument("--grid", metavar="grid.json",
                       help="grid search (in memory) over {name: [values]}, scored by GAP@20")
    train.add_argument("--cv", type=int, default=3, help="grid-search folds")
    train.add_argument("--n-jobs", type=int, default=None, help="grid-search processes")
    train.add_argument("--max-videos", type=int, default=None,
                       help="grid search: load at most this many videos")
    train.add_argument("--epochs", type=int, default=None,
                       help="passes over the shards (default: the model's epochs)")
    train.add_argument("--max-frames", type=int, default=300)
    train.add_argument("--quantized", action="store_true",
                       help="frame level: keep uint8 frames, dequantize inside the network")
    train.add_argument("--checkpoint", metavar="PATH",
                       help="checkpoint file (a model file with its epoch count); deleted once "
                       "--out is written (default: OUT.ckpt.keras)")
    train.add_argument("--checkpoint-every", metavar="N|DURATION",
                       help="checkpoint every N epochs or after a duration such as 15min, "
                       "checked at each epoch's end (default: every epoch)")
    train.add_argument("--resume", action="store_true",
                       help="continue from the checkpoint if it exists, then keep updating it "
                       "(its parameters must match)")
    train.add_argument("--log-dir", metavar="DIR",
                       help="write per-epoch logs to DIR/training.csv (and TensorBoard event "
                       "files when TensorFlow is installed)")
    train.add_argument("--seed", type=int, default=0)
    train.add_argument("--out", required=True, metavar="model.keras")
    train.add_argument("--overwrite", action="store_true",
                       help="replace an existing --out and checkpoint")
    train.add_argument("--quiet", action="store_true",
                       help="one line per epoch (no progress bar)")
    train.set_defaults(func=cmd_train)

    evaluate = sub.add_parser("evaluate", help="GAP@20, Hit@1, PERR and MAP on shards")
    evaluate.add_argument("--model", required=True, metavar="model.keras")
    evaluate.add_argument("--data", required=True, metavar="PATTERN")
    evaluate.add_argument("--batch-size", type=int, default=4096)
    evaluate.add_argument("--json", action="store_true", help="print one JSON object")
    evaluate.add_argument("--quiet", action="store_true", help="no progress lines")
    evaluate.set_defaults(func=cmd_evaluate)

    predict = sub.add_parser("predict", help="write a Kaggle-format submission")
    predict.add_argument("--model", required=True, metavar="model.keras")
    predict.add_argument("--data", required=True, metavar="PATTERN")
    predict.add_argument("--out", required=True, metavar="submission.csv")
    predict.add_argument("--top-k", type=int, default=20)
    predict.add_argument("--format", choices=("csv", "jsonl"), default="csv")
    predict.add_argument("--batch-size", type=int, default=4096)
    predict.add_argument("--overwrite", action="store_true",
                         help="replace an existing --out (never the --model or --data files)")
    predict.add_argument("--quiet", action="store_true")
    predict.set_defaults(func=cmd_predict)
    return parser


def main(argv=None):
    """Run the command line; returns the exit status."""
    parser = build_parser()
    args = parser.parse_args(argv)
    from .io import YT8MFormatError

    try:
        return args.func(args)
    except CLIError as exc:
        message = str(exc)
    except YT8MFormatError as exc:
        message = str(exc)
    except OSError as exc:
        # Missing files, permissions, a full disk: the OS's words and the file.
        message = (str(exc) if not exc.filename or not exc.strerror
                   else f"{exc.filename}: {exc.strerror}")
    except ValueError as exc:
        # Estimators and readers raise ValueError for bad parameters and
        # data, with messages written for users.
        message = str(exc)
    except KeyboardInterrupt:
        print("skqrnn: interrupted", file=sys.stderr)
        return INTERRUPTED
    # One line whatever the exception's text, so that scripts can grep it.
    message = " ".join(line.strip() for line in message.splitlines() if line.strip())
    print(f"skqrnn: error: {message}", file=sys.stderr)
    return USAGE_ERROR


if __name__ == "__main__":
    sys.exit(main())
