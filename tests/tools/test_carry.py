"""tools/carry.sh: what an unfinished zoo run leaves for the next session, and one error line for what it refuses."""

import shutil
import subprocess

from tests.conftest import REPO


def _carry(root, *args):
    (root / "tools").mkdir(exist_ok=True)
    shutil.copy(REPO / "tools" / "carry.sh", root / "tools")
    return subprocess.run(["bash", str(root / "tools" / "carry.sh"), *args], capture_output=True, text=True,
                          timeout=60, cwd=root)


def _run(root, name, epochs):
    run = root / "runs" / "zoo" / name
    (run / "checkpoints").mkdir(parents=True, exist_ok=True)
    (run / "config.json").write_text('{"epochs": 120}\n')
    (run / "flagfile.txt").write_text("--epochs=120\n")
    (run / "history.csv").write_text("epoch\n")
    for epoch in epochs:
        (run / "checkpoints" / f"epoch_{epoch:04d}.keras").write_bytes(b"weights %d" % epoch)
        (run / "checkpoints" / f"epoch_{epoch:04d}.json").write_text(f'{{"epoch": {epoch}}}\n')
    return run


def test_carries_what_a_resume_reads_and_replaces_an_older_carry(tmp_path):
    run = _run(tmp_path, "zeroinit-e120", [8, 9])
    result = _carry(tmp_path, "zeroinit-e120")
    assert result.returncode == 0, result.stderr
    assert "carried runs/zoo/zeroinit-e120 at epoch_0009 to carry/zoo/zeroinit-e120" in result.stdout
    carried = tmp_path / "carry" / "zoo" / "zeroinit-e120"
    assert sorted(str(p.relative_to(carried)) for p in carried.rglob("*") if p.is_file()) == [
        "checkpoints/epoch_0009.json", "checkpoints/epoch_0009.keras", "config.json", "flagfile.txt"]
    assert (carried / "checkpoints" / "epoch_0009.keras").read_bytes() == b"weights 9"
    _run(tmp_path, "zeroinit-e120", [10])
    assert _carry(tmp_path, "zeroinit-e120").returncode == 0
    assert sorted(p.name for p in (carried / "checkpoints").iterdir()) == ["epoch_0010.json", "epoch_0010.keras"]
    assert [p.name for p in (tmp_path / "carry" / "zoo").iterdir()] == ["zeroinit-e120"]  # no staging folder left
    assert (run / "checkpoints" / "epoch_0008.keras").exists()  # the run itself is left as it was


def test_a_run_of_a_data_sets_zoo_is_carried_one_folder_deeper(tmp_path):
    _run(tmp_path, "cifar10/zeroinit", [21])
    result = _carry(tmp_path, "cifar10/zeroinit")
    assert result.returncode == 0, result.stderr
    carried = tmp_path / "carry" / "zoo" / "cifar10" / "zeroinit"
    assert sorted(p.name for p in (carried / "checkpoints").iterdir()) == ["epoch_0021.json", "epoch_0021.keras"]
    assert [p.name for p in (tmp_path / "carry" / "zoo" / "cifar10").iterdir()] == ["zeroinit"]  # no staging folder


def test_refusals_are_one_error_line_exit_2_and_touch_nothing(tmp_path):
    _run(tmp_path, "started", [])
    finished = _run(tmp_path, "finished", [60])
    (finished / "results.json").write_text("{}\n")
    cases = [([], "error: give one run name"), (["missing"], "error: runs/zoo/missing/config.json does not exist"),
             (["started"], "error: runs/zoo/started/checkpoints holds no complete checkpoint"),
             (["finished"], "error: runs/zoo/finished has finished (results.json)")]
    for args, message in cases:
        result = _carry(tmp_path, *args)
        lines = result.stderr.strip().splitlines()
        assert result.returncode == 2 and len(lines) == 1 and lines[0].startswith(message), (args, result.stderr)
    assert not (tmp_path / "carry").exists()
