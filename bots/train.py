"""Train the Rasa bot only when what shapes the model changed."""

from __future__ import annotations

import argparse
import fcntl
import hashlib
import os
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
PROJECT_DIR = REPO_ROOT / "bots" / "rasa"
MODELS_DIR = PROJECT_DIR / "models"
MODEL_NAME = "kanal"
MODEL_FILE = MODELS_DIR / f"{MODEL_NAME}.tar.gz"
HASH_FILE = MODELS_DIR / f"{MODEL_NAME}.sha256"

# Only what the trained model depends on: the channel, actions and digital_routes.yml are read
# at run time, so editing them must not cost a retraining.
# The sentence vectors of the training examples, kept between trainings (sentence_encoder.py).
EMBEDDING_CACHE = PROJECT_DIR / ".cache" / "sentences.sqlite3"
TRAINING_INPUTS = ("config.yml", "domain.yml", "data", "kanal_nlu.py", "sentence_encoder.py")


@dataclass(frozen=True)
class TrainResult:
    """Whether a training ran, how long it took and where the model is."""

    trained: bool
    seconds: float
    model: Path
    digest: str


def rasa_venv() -> Path:
    """Return the Rasa virtual environment: KANAL_RASA_VENV or .venv-rasa in the repo root."""
    from router.config import from_env

    configured = from_env()["KANAL_RASA_VENV"]
    return Path(configured) if configured else REPO_ROOT / ".venv-rasa"


def rasa_executable() -> Path:
    """Return the `rasa` command of the Rasa environment."""
    return rasa_venv() / "bin" / "rasa"


def rasa_env(**extra: str) -> dict[str, str]:
    """Return the environment for Rasa processes: the project importable, no telemetry."""
    env = {k: v for k, v in os.environ.items() if k not in ("VIRTUAL_ENV", "PYTHONHOME")}
    env.setdefault("KANAL_RASA_EMBEDDING_CACHE", str(EMBEDDING_CACHE))
    env.update(
        PYTHONPATH=str(PROJECT_DIR),
        RASA_TELEMETRY_ENABLED="false",
        TF_CPP_MIN_LOG_LEVEL="2",
        SQLALCHEMY_SILENCE_UBER_WARNING="1",
        # Rasa 3.6's dependencies warn about their own deprecations on every start.
        PYTHONWARNINGS="ignore::DeprecationWarning,ignore::PendingDeprecationWarning",
    )
    env.update(extra)
    return env


def training_digest(project_dir: Path = PROJECT_DIR) -> str:
    """Return a hash of the training inputs' paths and contents (and the Rasa version)."""
    digest = hashlib.sha256()
    files: list[Path] = []
    for name in TRAINING_INPUTS:
        path = project_dir / name
        files.extend(sorted(p for p in path.rglob("*") if p.is_file()) if path.is_dir() else [path])
    for path in files:
        if not path.exists():
            continue
        digest.update(path.relative_to(project_dir).as_posix().encode() + b"\0")
        digest.update(path.read_bytes() + b"\0")
    # A model trained by another Rasa version may not load: the version is an input too.
    digest.update(_rasa_version().encode())
    return digest.hexdigest()


def _rasa_version() -> str:
    """Return the installed Rasa's version from its dist-info directory name, or ''."""
    for site in sorted(rasa_venv().glob("lib/python3*/site-packages")):
        for dist in site.glob("rasa-*.dist-info"):
            return dist.name.removeprefix("rasa-").removesuffix(".dist-info")
    return ""


def _stored_digest() -> str | None:
    """Return the digest stored beside the model, or None without a model."""
    if not (MODEL_FILE.exists() and HASH_FILE.exists()):
        return None
    return HASH_FILE.read_text().strip() or None


def train_if_changed(force: bool = False, *, quiet: bool = False) -> TrainResult:
    """Train the bot into models/kanal.tar.gz unless a model of the same inputs exists."""
    rasa = rasa_executable()
    if not rasa.exists():
        raise FileNotFoundError(f"Rasa is not installed at {rasa} (set KANAL_RASA_VENV)")
    MODELS_DIR.mkdir(parents=True, exist_ok=True)
    # One trainer at a time: `make run` and a test session may start together.
    with open(MODELS_DIR / ".train.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        digest = training_digest()
        if not force and _stored_digest() == digest:
            return TrainResult(False, 0.0, MODEL_FILE, digest)
        HASH_FILE.unlink(missing_ok=True)
        started = time.monotonic()
        # Train beside the model, then swap it in whole: a server starting now never reads
        # a half-written archive.
        with tempfile.TemporaryDirectory(dir=MODELS_DIR, prefix=".training-") as out:
            completed = _run_training(rasa, Path(out), quiet)
            trained = Path(out) / MODEL_FILE.name
            if completed.returncode != 0 or not trained.exists():
                tail = "\n".join(completed.stderr.splitlines()[-30:])
                raise RuntimeError(f"rasa train failed (exit {completed.returncode}):\n{tail}")
            os.replace(trained, MODEL_FILE)
        seconds = time.monotonic() - started
        HASH_FILE.write_text(digest + "\n")
        return TrainResult(True, seconds, MODEL_FILE, digest)


def _run_training(rasa: Path, out: Path, quiet: bool) -> subprocess.CompletedProcess[str]:
    """Run `rasa train` in the project directory, writing the model into `out`."""
    command = [
        str(rasa),
        "train",
        "--config", "config.yml",
        "--domain", "domain.yml",
        "--data", "data",
        "--out", str(out),
        "--fixed-model-name", MODEL_NAME,
    ]  # fmt: skip
    return subprocess.run(
        command,
        cwd=PROJECT_DIR,
        env=rasa_env(),
        stdout=subprocess.DEVNULL if quiet else None,
        stderr=subprocess.PIPE,
        text=True,
        check=False,
    )


def main(argv: list[str] | None = None) -> int:
    """Train if the bot's data changed and say what happened."""
    parser = argparse.ArgumentParser(prog="python -m bots.train", description=__doc__)
    parser.add_argument("--force", action="store_true", help="train even if nothing changed")
    parser.add_argument("--quiet", action="store_true", help="hide Rasa's training output")
    args = parser.parse_args(argv)
    try:
        result = train_if_changed(force=args.force, quiet=args.quiet)
    except (FileNotFoundError, RuntimeError) as exc:
        print(f"bot: {exc}", file=sys.stderr)
        return 1
    if result.trained:
        print(f"bot: trained {result.model} in {result.seconds:.1f} s")
    else:
        print(f"bot: model up to date ({result.model}), not retrained")
    return 0


if __name__ == "__main__":
    sys.exit(main())
