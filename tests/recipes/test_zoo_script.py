"""configs/zoo/fashion_mnist.sh, the zoo's driver, with ``python`` replaced by a recorder on PATH: which
commands it runs for a fresh scheme, for one whose training has begun, at another batch size, and for bad input."""

import os
import shutil
import subprocess

from tests.conftest import REPO

RECORDER = """#!/usr/bin/env bash
echo "$*" >> "$CALLS"
if [[ "$1" == "-c" ]]; then echo 0.0625; fi   # best_lr reading a search's summary.json
"""


def _zoo(tmp_path, *schemes, **env_vars):
    """Runs a copy of the script in ``tmp_path`` (it cds to its repository root); returns (result, calls)."""
    (tmp_path / "configs" / "zoo").mkdir(parents=True, exist_ok=True)
    for name in ("fashion_mnist.sh", "zoo_lib.sh"):
        shutil.copy(REPO / "configs" / "zoo" / name, tmp_path / "configs" / "zoo")
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir(exist_ok=True)
    (bin_dir / "python").write_text(RECORDER)
    (bin_dir / "python").chmod(0o755)
    calls = tmp_path / "calls.txt"
    calls.unlink(missing_ok=True)
    env = dict(os.environ, PATH=f"{bin_dir}{os.pathsep}{os.environ['PATH']}", CALLS=str(calls), **env_vars)
    result = subprocess.run(["bash", str(tmp_path / "configs" / "zoo" / "fashion_mnist.sh"), *schemes], env=env,
                            capture_output=True, text=True, timeout=60)
    return result, calls.read_text().splitlines() if calls.exists() else []


def test_a_fresh_scheme_searches_then_trains_at_the_best_rate(tmp_path):
    result, calls = _zoo(tmp_path, "fixup")
    assert result.returncode == 0, result.stderr
    search, best, train = calls
    assert search.startswith("-m recipes.lr_search ") and "--init=fixup" in search and "--lr_exponents=-5:-1" in search
    assert "--validation_examples=10000" in search and "--output_dir=runs/zoo/search/fixup" in search
    assert best.startswith("-c ") and best.endswith("runs/zoo/search/fixup/summary.json")
    assert train.startswith("-m recipes.cifar_wrn ") and "--lr=0.0625" in train and "--epochs=60" in train
    assert "--output_dir=runs/zoo/fixup" in train and "--precision=auto" in train


def test_a_begun_training_resumes_from_its_flag_file_without_a_search(tmp_path):
    (tmp_path / "runs" / "zoo" / "skipinit").mkdir(parents=True)
    (tmp_path / "runs" / "zoo" / "skipinit" / "flagfile.txt").write_text("--init=skipinit\n")
    result, calls = _zoo(tmp_path, "skipinit", "gbn")
    assert result.returncode == 0, result.stderr
    assert calls[0] == "-m recipes.cifar_wrn --flagfile=runs/zoo/skipinit/flagfile.txt"
    assert "zoo: skipinit resumes runs/zoo/skipinit with its own flags" in result.stdout
    assert [call.split()[:2] for call in calls[1:]] == [["-m", "recipes.lr_search"], ["-c", "import"],
                                                        ["-m", "recipes.cifar_wrn"]]  # gbn: a fresh scheme
    assert "--ghost_batch_size=64 --noaccumulate_ghost_batches" in calls[3]  # one step of 128, split by the layers


def test_an_unknown_scheme_is_one_error_line_and_exit_2(tmp_path):
    result, calls = _zoo(tmp_path, "layernorm")
    assert result.returncode == 2 and calls == []
    assert result.stderr.strip() == "error: unknown scheme layernorm; accepted: bn gbn zeroinit fixup skipinit"


def test_another_batch_size_searches_and_trains_at_it_in_its_own_run_folders(tmp_path):
    result, calls = _zoo(tmp_path, "bn", "zeroinit", BATCH="64")
    assert result.returncode == 0, result.stderr
    bn_search, _, bn_train, zi_search, _, zi_train = calls
    assert "--batch_sizes=64" in bn_search and "--output_dir=runs/zoo/search/bn-b64" in bn_search
    assert "--ghost_batch_size=64" in bn_search and "--ghost_batch_size=64" in bn_train  # batch norm over the batch
    assert "--batch_size=64" in bn_train and "--output_dir=runs/zoo/bn-b64" in bn_train
    assert "--lr_exponents=-6:-2" in zi_search and "--output_dir=runs/zoo/zeroinit-b64" in zi_train
    (tmp_path / "runs" / "zoo" / "zeroinit-b64").mkdir(parents=True)  # the batch-64 run resumes; batch 128's is apart
    (tmp_path / "runs" / "zoo" / "zeroinit-b64" / "flagfile.txt").write_text("--batch_size=64\n")
    result, calls = _zoo(tmp_path, "zeroinit", BATCH="64")
    assert calls == ["-m recipes.cifar_wrn --flagfile=runs/zoo/zeroinit-b64/flagfile.txt"]
    assert not (tmp_path / "runs" / "zoo" / "zeroinit").exists()


def test_another_budget_trains_in_its_own_folder_at_the_rate_of_the_shared_search(tmp_path):
    result, calls = _zoo(tmp_path, "zeroinit", EPOCHS="120")
    assert result.returncode == 0, result.stderr
    search, best, train = calls
    assert "--output_dir=runs/zoo/search/zeroinit" in search and "--epochs=3" in search  # the search's own budget
    assert "--epochs=120" in train and "--output_dir=runs/zoo/zeroinit-e120" in train and "--lr=0.0625" in train
    (tmp_path / "runs" / "zoo" / "search" / "zeroinit").mkdir(parents=True)  # searched (for any budget): not again
    (tmp_path / "runs" / "zoo" / "search" / "zeroinit" / "summary.json").write_text("{}")
    result, calls = _zoo(tmp_path, "zeroinit", BATCH="64", EPOCHS="120")
    assert [call.split()[:2] for call in calls] == [["-m", "recipes.lr_search"], ["-c", "import"],
                                                    ["-m", "recipes.cifar_wrn"]]  # batch 64 has a search of its own
    assert "--output_dir=runs/zoo/zeroinit-b64-e120" in calls[2] and "runs/zoo/search/zeroinit-b64" in calls[0]
    result, calls = _zoo(tmp_path, "zeroinit")
    assert [call.split()[:2] for call in calls] == [["-c", "import"], ["-m", "recipes.cifar_wrn"]]
    assert "zoo: zeroinit takes the search of runs/zoo/search/zeroinit" in result.stdout
    assert "--epochs=60" in calls[1] and "--output_dir=runs/zoo/zeroinit " in calls[1] + " "


def test_a_bad_batch_size_or_gbn_at_its_ghost_size_is_one_error_line_and_exit_2(tmp_path):
    result, calls = _zoo(tmp_path, "bn", BATCH="sixty")
    assert result.returncode == 2 and calls == []
    assert result.stderr.strip() == "error: BATCH=sixty is not a batch size; accepted: a positive integer (default 128)"
    result, calls = _zoo(tmp_path, "bn", EPOCHS="0")
    assert result.returncode == 2 and calls == []
    assert result.stderr.strip() == "error: EPOCHS=0 is not a number of epochs; accepted: a positive integer (default 60)"
    result, calls = _zoo(tmp_path, "gbn", BATCH="64")
    assert result.returncode == 2 and calls == []
    assert result.stderr.strip() == ("error: gbn needs BATCH above its ghost batch size 64, got BATCH=64; "
                                     "accepted: bn at this batch size")
