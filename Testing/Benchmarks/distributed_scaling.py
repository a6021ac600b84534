#!/usr/bin/env python3
"""Scaling of data-parallel NSATrain on one machine: samples per second of the same training
(same global batch, same samples, same weights up to float rounding) with 1 process and with
2 ranks on localhost (torchrun's variables, Gloo).

  /usr/bin/python3 Testing/Benchmarks/distributed_scaling.py build/bin/NSATrain \\
      /usr/share/mricron/templates/ch2.nii.gz /tmp/scaling [--repeats 3] [--epochs 4]

Configurations (global batch 8, 64 samples an epoch, width 0.25, 128 x 128 crops of Colin27's
axial slices, brain-mri preset, one synthesis worker per process):
  1 process,  1 thread   batch 8
  1 process,  2 threads  batch 8
  2 ranks,    1 thread   batch 4 each
and, as a diagnostic, 1 process with 1 thread and batch 4 (another training: twice the
steps of batch 4), which shows what the smaller per-process batch costs without any
communication. Each run's figure is the median samples/s of its epochs after the first (the first pays for
start-up); the table gives the median over the repeats and the range. CPU ms per sample: CPU time of all
processes of the run (start-up and image loading included) over its samples, which other
work on the machine inflates less than the wall time. The load average before and after is
printed, since other work on the machine changes the figures.
"""
import argparse
import json
import os
import resource
import shutil
import socket
import statistics
import subprocess
import sys

COMMON = ["--preset", "brain-mri", "--width_multiplier", "0.25", "--crop_size", "128,128",
          "--samples_per_epoch", "64", "--num_workers", "1", "--seed", "11", "--example_every", "0"]


def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def clean_environment():
    environment = {k: v for k, v in os.environ.items()
                   if k not in ("RANK", "WORLD_SIZE", "LOCAL_RANK", "MASTER_ADDR", "MASTER_PORT")
                   and not k.startswith("SLURM_")}
    return environment


def run(nsatrain, images, folder, ranks, threads, batch, epochs):
    shutil.rmtree(folder, ignore_errors=True)
    os.makedirs(folder)
    arguments = [nsatrain, "--images", images] + COMMON + ["--epochs", str(epochs), "--batch_size", str(batch),
                                                           "--threads", str(threads), "model.pt"]
    port = free_port()
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    processes = []
    for rank in range(ranks):
        environment = clean_environment()
        environment["OMP_NUM_THREADS"] = str(threads)
        if ranks > 1:
            environment.update({"RANK": str(rank), "WORLD_SIZE": str(ranks), "LOCAL_RANK": str(rank),
                                "MASTER_ADDR": "127.0.0.1", "MASTER_PORT": str(port)})
        cwd = folder if rank == 0 else os.path.join(folder, "rank%d" % rank)
        os.makedirs(cwd, exist_ok=True)
        processes.append(subprocess.Popen(arguments[:], cwd=cwd, env=environment, stdout=subprocess.DEVNULL,
                                          stderr=subprocess.PIPE, text=True))
    for process in processes:
        _, error = process.communicate()
        if process.returncode != 0:
            sys.exit("NSATrain failed (%d ranks): %s" % (ranks, error))
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    with open(os.path.join(folder, "model.log.jsonl")) as log:
        records = [json.loads(line) for line in log if line.strip()]
    samples = sum(r["samples_per_second"] * r["seconds"] for r in records)
    return statistics.median(r["samples_per_second"] for r in records[1:]), records[-1]["loss"], cpu / samples


def load_average():
    with open("/proc/loadavg") as f:
        return " ".join(f.read().split()[:3])


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("nsatrain")
    parser.add_argument("images")
    parser.add_argument("out")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--epochs", type=int, default=4)
    args = parser.parse_args()
    args.nsatrain = os.path.abspath(args.nsatrain)
    args.images = os.path.abspath(args.images)
    configurations = [("1 process, 1 thread, batch 8", 1, 1, 8),
                      ("1 process, 2 threads, batch 8", 1, 2, 8),
                      ("2 ranks, 1 thread each, batch 4 each", 2, 1, 4),
                      ("1 process, 1 thread, batch 4 (other training: 2x the steps)", 1, 1, 4)]
    print("cores: %d, load average before: %s" % (os.cpu_count(), load_average()))
    results = {name: [] for name, *_ in configurations}
    cpus = {name: [] for name, *_ in configurations}
    losses = {}
    for repeat in range(args.repeats):
        # Interleaved, so that a change of the machine's load affects every configuration.
        for name, ranks, threads, batch in configurations:
            rate, loss, cpu = run(args.nsatrain, args.images, os.path.join(args.out, "%d-%d-%d" % (ranks, threads, repeat)),
                             ranks, threads, batch, args.epochs)
            results[name].append(rate)
            cpus[name].append(cpu)
            losses[name] = loss
            print("  repeat %d, %s: %.2f samples/s, %.1f CPU ms/sample (final loss %.6f)"
                  % (repeat + 1, name, rate, 1000 * cpu, loss), flush=True)
    print("load average after: %s" % load_average())
    print()
    print("| configuration | samples/s (median of %d) | range | CPU ms/sample (median) | final loss |" % args.repeats)
    print("|---|---|---|---|---|")
    for name, *_ in configurations:
        values = results[name]
        print("| %s | %.2f | %.2f-%.2f | %.1f | %.6f |" % (name, statistics.median(values), min(values), max(values),
                                                          1000 * statistics.median(cpus[name]), losses[name]))


if __name__ == "__main__":
    main()
