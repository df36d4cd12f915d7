"""Step-by-step interleaving for ``bench.train_throughput --interleave=step``: paired timings on a noisy host.

Timing each run in a process of its own, one after another (``--interleave=process``), leaves a
run's figure at the mercy of whatever else the host does during its seconds: on the 2-core
machine of ``docs/performance/epyc_avx2.md`` one configuration's median step moved between 1.2 and
1.8 s from process to process. Here every run gets a process of its own that builds its model,
warms up and then waits; the driver asks the runs for one step each in turn (order reversed on
every other step), so the k-th steps of all runs are timed seconds apart, under nearly the same
conditions. Each ratio is then also computed step by step (``paired_ratios``: the median and
quartiles of the per-step ratios), which slow drift in the host's speed does not move.

A waiting process sits blocked on its input, so only one run computes at a time; ``PAUSE_S``
between steps lets the finished run's worker threads stop spinning first. All the runs' models
are in memory at once; on a GPU, JAX children do not preallocate (``NO_PREALLOCATE``), or the first
would take 75 % of the device's memory and leave the others too little.
"""

import functools
import os
import statistics
import subprocess
import sys
import tempfile
import time

PAUSE_S = 0.05
NO_PREALLOCATE = {"XLA_PYTHON_CLIENT_PREALLOCATE": "false"}  # JAX allocates GPU memory as it needs it
READY, STEP = "interleave:ready", "interleave:step_s="


def serve(run, warmup, stdin=sys.stdin, stdout=sys.stdout):
    """The child's side: ``warmup`` untimed calls of ``run``, then one timed call per ``step``
    line read; returns the times once the input says anything else or ends."""
    for _ in range(warmup):
        run()
    print(READY, file=stdout, flush=True)
    times = []
    for line in stdin:
        if line.strip() != "step":
            break
        start = time.perf_counter()
        run()
        times.append(time.perf_counter() - start)
        print(f"{STEP}{times[-1]:.6f}", file=stdout, flush=True)
    return times


class Child:
    """One run's serving process (``argv`` + ``--serve``); its stderr goes to a temporary file."""

    def __init__(self, name, argv, env, cwd):
        self.name, self.log = name, tempfile.TemporaryFile(mode="w+")
        self.process = subprocess.Popen([*argv, "--serve"], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                        stderr=self.log, text=True, env=env, cwd=cwd)

    def expect(self, prefix, other=None):
        """The rest of the first output line that starts with ``prefix``; each line before it goes
        to ``other(line)`` if given (``tools.kernel_time`` collects oneDNN's lines so)."""
        for line in self.process.stdout:
            if line.startswith(prefix):
                return line[len(prefix):].strip()
            if other is not None:
                other(line)
        self.process.wait()
        self.log.seek(0)
        raise RuntimeError(f"{self.name} ended (exit {self.process.returncode}) before {prefix!r}:\n"
                           f"{self.log.read()[-3000:]}")

    def step(self, other=None):
        """Seconds of one timed step; the lines it printed before go to ``other`` (see ``expect``)."""
        self.process.stdin.write("step\n")
        self.process.stdin.flush()
        return float(self.expect(STEP, other))

    def finish(self):
        """Ends the serving loop; the child's last output line (its JSON result)."""
        out, _ = self.process.communicate("done\n")
        lines = out.strip().splitlines()
        if self.process.returncode or not lines:
            self.log.seek(0)
            raise RuntimeError(f"{self.name} failed (exit {self.process.returncode}):\n{self.log.read()[-3000:]}")
        return lines[-1]

    def kill(self):
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait()
        self.log.close()


def time_interleaved(names, argvs, envs, steps, cwd, pause_s=PAUSE_S, on_line=None):
    """``{name: (last output line, [step seconds])}``: the children start one at a time (their
    compilations do not overlap), then take ``steps`` steps each, in turn. ``on_line(name, i,
    line)``, if given, gets every other line a child prints during its step ``i``."""
    children = []
    try:
        for name, argv, env in zip(names, argvs, envs):
            print(f"starting {name} ...", flush=True)
            env = dict(NO_PREALLOCATE, **(env if env is not None else os.environ))
            children.append(Child(name, argv, env, cwd))
            children[-1].expect(READY)
        times = {child.name: [] for child in children}
        for i in range(steps):
            for child in children if i % 2 == 0 else children[::-1]:
                time.sleep(pause_s)
                other = None if on_line is None else functools.partial(on_line, child.name, i)
                times[child.name].append(child.step(other))
        return {child.name: (child.finish(), times[child.name]) for child in children}
    finally:
        for child in children:
            child.kill()


def paired(per_step):
    """``{name: {"median", "q1", "q3", "steps"}}`` of ``per_step``'s ratio lists."""
    out = {}
    for name, values in per_step.items():
        values = [v for v in values if v is not None]
        if len(values) < 2:
            continue
        q1, median, q3 = statistics.quantiles(values, n=4, method="inclusive")
        out[name] = {"median": round(median, 3), "q1": round(q1, 3), "q3": round(q3, 3), "steps": len(values)}
    return out
