#!/usr/bin/python3
"""Training-step throughput against LibTorch thread count, OpenMP wait policy and a busy
neighbour (issue 17).

Each configuration runs in a fresh process (OpenMP reads OMP_WAIT_POLICY when it loads):
Adam steps of the NSA network (nsatoolkit.torch.NSANetwork, the module names and layers of the
C++ network; Debian's PyTorch runs the same LibTorch 1.13 and libgomp the C++ trainer links) on
batches of random 1 x 128 x 128 inputs with BCE against random labels, after warm-up steps;
the report gives samples/s (wall) and the process CPU time per sample. "busy" starts another
process that spins on one core for the whole run (a CPU-bound neighbour).

    PYTHONPATH=build/python /usr/bin/python3 Testing/Benchmarks/thread_scaling.py \
        [--threads 1 2] [--policies default passive] [--steps 12] [--batch 16] [--width 0.25]

With --nsatrain build/bin/NSATrain it runs the C++ trainer instead, end to end with its
synthesis workers (--workers, default 2): Colin27 axial slices (mricron-data), brain-mri preset, the same width,
batch and crop, 3 epochs of --samples samples; samples/s is the trainer's own figure for the
last epoch (<model>.log.jsonl). --threads 0 is the trainer's default (nsa::AvailableCpus);
policy "default" is NSATrain's own choice, "passive" and "active" set OMP_WAIT_POLICY ("active":
libgomp's spinning, the behaviour before issue 17), "spinN" sets GOMP_SPINCOUNT=N with
OMP_WAIT_POLICY unset (idle threads spin N times, then sleep).

Print one Markdown row per configuration, with /proc/loadavg before each run. On a machine
shared with other work the "alone" rows are not alone: read them against the load column.
"""

import argparse
import json
import os
import subprocess
import sys
import time

STEP_CODE = r"""
import json, os, sys, time
import torch
from nsatoolkit.torch import NSANetwork
threads, steps, batch, width, size = (int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]), float(sys.argv[4]),
                                      int(sys.argv[5]))
torch.set_num_threads(threads)
torch.manual_seed(0)
network = NSANetwork({"dimension": 2, "width_multiplier": width, "input_channels": 1})
optimiser = torch.optim.Adam(network.parameters(), lr=1e-3)
loss = torch.nn.BCELoss()
x = torch.rand(batch, 1, size, size)
y = (torch.rand(batch, 1, size, size) > 0.9).float()
def step():
    optimiser.zero_grad()
    value = loss(network(x), y)
    value.backward()
    optimiser.step()
for _ in range(2):
    step()
wall, cpu = time.perf_counter(), time.process_time()
for _ in range(steps):
    step()
wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
print(json.dumps({"samples_per_s": steps * batch / wall, "cpu_ms_per_sample": 1e3 * cpu / (steps * batch),
                  "omp_wait_policy": os.environ.get("OMP_WAIT_POLICY", "")}))
"""

BUSY_CODE = "while True:\n    pass\n"


def wait_policy(text):
    """An OpenMP waiting choice: default (the program's own), passive, active, spinN."""
    if text in ("default", "passive", "active") or (text.startswith("spin") and text[4:].isdigit()):
        return text
    raise argparse.ArgumentTypeError(f"expected default, passive, active or spinN, got {text!r}")


def load_average():
    with open("/proc/loadavg") as handle:
        return " ".join(handle.read().split()[:3])


def run_nsatrain(threads, workers, arguments, environment):
    import tempfile
    with tempfile.TemporaryDirectory() as folder:
        model = os.path.join(folder, "model.pt")
        command = [arguments.nsatrain, "--images", arguments.colin27, "--preset", "brain-mri", model,
                   "--width_multiplier", str(arguments.width), "--epochs", "3", "--samples_per_epoch",
                   str(arguments.samples), "--batch_size", str(arguments.batch), "--crop_size",
                   f"{arguments.size},{arguments.size}", "--num_workers", str(workers), "--seed", "3",
                   "--threads", str(threads)]
        completed = subprocess.run(command, env=environment, capture_output=True, text=True)
        if completed.returncode != 0:
            raise RuntimeError(completed.stderr[-2000:])
        with open(model[:-3] + ".log.jsonl") as handle:
            last = json.loads(handle.read().strip().splitlines()[-1])
    return {"samples_per_s": last["samples_per_second"], "cpu_ms_per_sample": float("nan")}


def run(threads, workers, policy, busy, arguments):
    environment = dict(os.environ)
    environment.pop("OMP_WAIT_POLICY", None)
    environment.pop("NSA_OPENMP_RESTARTED", None)
    if not arguments.nsatrain:
        environment["OMP_NUM_THREADS"] = str(threads)
    environment.pop("GOMP_SPINCOUNT", None)
    if policy.startswith("spin"):
        # Bounded spinning: libgomp spins GOMP_SPINCOUNT times, then sleeps (policy unset);
        # the marker keeps NSATrain from restarting itself with its own choice.
        environment["GOMP_SPINCOUNT"] = policy[len("spin"):]
        environment["NSA_OPENMP_RESTARTED"] = "1"
    elif policy != "default":
        environment["OMP_WAIT_POLICY"] = policy.upper()
    neighbour = subprocess.Popen([sys.executable, "-c", BUSY_CODE]) if busy else None
    try:
        if neighbour:
            time.sleep(0.5)
        load = load_average()
        if arguments.nsatrain:
            result = run_nsatrain(threads, workers, arguments, environment)
            result["load"] = load
            return result
        output = subprocess.run([sys.executable, "-c", STEP_CODE, str(threads), str(arguments.steps),
                                 str(arguments.batch), str(arguments.width), str(arguments.size)],
                                env=environment, check=True, capture_output=True, text=True).stdout
    finally:
        if neighbour:
            neighbour.kill()
            neighbour.wait()
    result = json.loads(output.strip().splitlines()[-1])
    result["load"] = load
    return result


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--threads", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--policies", nargs="+", default=None, type=wait_policy,
                        help="default, passive, active or spinN (GOMP_SPINCOUNT=N, OMP_WAIT_POLICY unset); "
                             "default: default passive (PyTorch), default active (NSATrain)")
    parser.add_argument("--neighbour", nargs="+", default=["alone", "busy"], choices=["alone", "busy"])
    parser.add_argument("--steps", type=int, default=12)
    parser.add_argument("--batch", type=int, default=16)
    parser.add_argument("--width", type=float, default=0.25)
    parser.add_argument("--size", type=int, default=128)
    parser.add_argument("--rounds", type=int, default=1, help="repeat the whole table (interleaved)")
    parser.add_argument("--nsatrain", help="path of NSATrain: time the C++ trainer end to end instead")
    parser.add_argument("--samples", type=int, default=512, help="NSATrain: samples per epoch")
    parser.add_argument("--colin27", default="/usr/share/mricron/templates/ch2.nii.gz")
    parser.add_argument("--workers", type=int, nargs="+", default=[2],
                        help="NSATrain: synthesis worker counts (--num_workers; 0: in the training thread)")
    arguments = parser.parse_args()
    if arguments.policies is None:
        arguments.policies = ["default", "active"] if arguments.nsatrain else ["default", "passive"]
    what = (f"NSATrain, {arguments.samples} samples per epoch, last of 3 epochs" if arguments.nsatrain
            else f"PyTorch, {arguments.steps} steps after 2 warm-up steps")
    print(f"<!-- {what}; width {arguments.width}, batch {arguments.batch} x 1 x {arguments.size}^2, "
          f"{os.cpu_count()} CPUs -->")
    workers = arguments.workers if arguments.nsatrain else [None]
    print("| threads | workers | OMP_WAIT_POLICY | neighbour | samples/s | CPU ms / sample | load before |")
    print("|---:|---:|---|---|---:|---:|---|")
    for _ in range(arguments.rounds):
        for neighbour in arguments.neighbour:
            for policy in arguments.policies:
                for threads in arguments.threads:
                    for count in workers:
                        result = run(threads, count, policy, neighbour == "busy", arguments)
                        cpu = result["cpu_ms_per_sample"]
                        print(f"| {threads} | {'' if count is None else count} | {policy} | {neighbour} | "
                              f"{result['samples_per_s']:.1f} | {'' if cpu != cpu else f'{cpu:.2f}'} | "
                              f"{result['load']} |", flush=True)


if __name__ == "__main__":
    main()
