#!/usr/bin/env python3
"""Data-parallel NSATrain tests: starts ranks on localhost the way torchrun does (RANK,
WORLD_SIZE, LOCAL_RANK, MASTER_ADDR, MASTER_PORT; Gloo, one LibTorch thread each).

  run_ranks.py equal  NSATrain NSACompareModels IMAGES OUT
      2 ranks with batch 4 against one process with batch 8: both ranks exit 0, rank 0 alone
      writes (rank 1 runs in its own empty folder with the same relative model path), and the
      weights agree within float tolerance after 4 steps.
  run_ranks.py repeat NSATrain NSACompareModels IMAGES OUT
      2 ranks, 17 samples an epoch (the last step short: 1 sample, rank 0 gets none), twice:
      bit-identical weights; then --resume with 2 ranks (rank 1 has no checkpoint: it gets
      rank 0's) and --resume with 1 process (refused: other world size).
  run_ranks.py nccl   NSATrain NSACompareModels IMAGES OUT
      as "equal", on CUDA devices (rank r on cuda:r, NCCL); exit 77 (skipped) when NSATrain
      has no CUDA device or fewer than 2 (label REQUIRES_GPU; never run so far).
  run_ranks.py kill   NSATrain IMAGES OUT
      rank 1 is killed (SIGKILL) once training runs: rank 0 must exit non-zero, naming the
      lost contact, instead of waiting forever.

Exit 0 on success, 1 on failure, with the reason on stderr. No timing is asserted; the
waits only bound a hang (generously, for a loaded machine).
"""
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time

TINY = ["--preset", "brain-mri", "--width_multiplier", "0.0625", "--num_workers", "1", "--seed", "3",
        "--threads", "1", "--example_every", "1"]
HANG_LIMIT = 600  # seconds before a rank counts as hung (a bound on hangs, not a timing)


def fail(message):
    print("FAIL: " + message, file=sys.stderr)
    sys.exit(1)


def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def rank_environment(rank, world, port, extra=None):
    environment = dict(os.environ)
    for name in list(environment):
        if name.startswith("SLURM_") or name.startswith("TORCHELASTIC_"):
            del environment[name]
    environment.update({"RANK": str(rank), "WORLD_SIZE": str(world), "LOCAL_RANK": str(rank),
                        "LOCAL_WORLD_SIZE": str(world), "MASTER_ADDR": "127.0.0.1", "MASTER_PORT": str(port),
                        "OMP_NUM_THREADS": "1"})
    environment.update(extra or {})
    return environment


def start_ranks(nsatrain, arguments, folders, extra=None):
    """One NSATrain per folder (rank = index), each started in its folder."""
    port = free_port()
    processes = []
    for rank, folder in enumerate(folders):
        os.makedirs(folder, exist_ok=True)
        log = open(os.path.join(os.path.dirname(folder.rstrip("/")), "rank%d-%s.out" % (rank, os.path.basename(folder))), "w")
        processes.append((subprocess.Popen([nsatrain] + arguments, cwd=folder, stdout=log, stderr=subprocess.STDOUT,
                                           env=rank_environment(rank, len(folders), port, extra)), log))
    return processes


def wait_all(processes):
    codes = []
    for process, log in processes:
        try:
            codes.append(process.wait(timeout=HANG_LIMIT))
        except subprocess.TimeoutExpired:
            for other, _ in processes:
                other.kill()
            fail("a rank did not finish within %d s (hang)" % HANG_LIMIT)
        finally:
            log.close()
    return codes


def output_of(out, rank, folder):
    with open(os.path.join(out, "rank%d-%s.out" % (rank, folder))) as f:
        return f.read()


def fresh(out):
    shutil.rmtree(out, ignore_errors=True)
    os.makedirs(out)


def run_single(nsatrain, arguments, folder):
    os.makedirs(folder, exist_ok=True)
    environment = rank_environment(0, 1, 0)
    for name in ("RANK", "WORLD_SIZE", "LOCAL_RANK", "LOCAL_WORLD_SIZE", "MASTER_ADDR", "MASTER_PORT"):
        del environment[name]
    return subprocess.run([nsatrain] + arguments, cwd=folder, env=environment, capture_output=True, text=True,
                          timeout=HANG_LIMIT)


def compare(tool, a, b, maximum, mean=None):
    command = [tool, a, b, str(maximum)] + ([str(mean)] if mean is not None else [])
    result = subprocess.run(command, capture_output=True, text=True)
    print(result.stdout.strip() or result.stderr.strip())
    return result.returncode == 0


def check_rank0_wrote_alone(out, name):
    expected = {name + ".pt", name + ".checkpoint.pt", name + ".log.jsonl", name + ".loss.png"}
    written = set(os.listdir(os.path.join(out, "rank0")))
    if not expected <= written:
        fail("rank 0 did not write %s (found %s)" % (sorted(expected - written), sorted(written)))
    others = os.listdir(os.path.join(out, "rank1"))
    if others:
        fail("rank 1 wrote %s; only rank 0 may write" % sorted(others))


def without_augmentation(out):
    """TINY with a copy of the brain-mri preset that has no scanner augmentation, written to
    OUT. The tolerances of the equal-weights checks were measured on plain samples (mean
    difference 7e-6); the preset's random contrast feeds the network more varied intensities,
    whose float rounding differs more between one batch of 8 and two of 4 (mean 5e-5, still
    50 times below another training). Which samples each rank draws, augmented or not, is the
    same index-keyed stream: the repeat mode checks it bit for bit with the preset itself."""
    here = os.path.dirname(os.path.abspath(__file__))
    with open(os.path.join(here, "..", "..", "..", "Data", "Presets", "brain-mri.json")) as f:
        preset = json.load(f)
    preset.pop("augmentation", None)
    path = os.path.join(out, "brain-mri-plain.json")
    with open(path, "w") as f:
        json.dump(preset, f)
    tiny = list(TINY)
    tiny[tiny.index("brain-mri")] = path
    return tiny


def equal(nsatrain, tool, images, out):
    fresh(out)
    common = ["--images", images] + without_augmentation(out) + ["--epochs", "2", "--samples_per_epoch", "16"]
    codes = wait_all(start_ranks(nsatrain, common + ["--batch_size", "4", "model.pt"],
                                 [os.path.join(out, "rank0"), os.path.join(out, "rank1")]))
    if codes != [0, 0]:
        fail("exit codes %s:\n%s\n%s" % (codes, output_of(out, 0, "rank0"), output_of(out, 1, "rank1")))
    if "data-parallel training: 2 ranks (torchrun, gloo)" not in output_of(out, 0, "rank0"):
        fail("rank 0 does not report the 2-rank run")
    check_rank0_wrote_alone(out, "model")
    single = run_single(nsatrain, common + ["--batch_size", "8", "single.pt"], os.path.join(out, "single"))
    if single.returncode != 0:
        fail("one-process run failed:\n" + single.stdout + single.stderr)
    # 2 epochs x 2 steps. Adam moves a weight by about the learning rate (1e-3) per step
    # whatever its gradient's size, so a float-rounding difference in a near-zero gradient
    # (the batch-8 convolutions and sums round differently from two batch-4 ones) can move
    # one weight by up to about 1e-3 a step: largest difference at most 4e-3 (4 steps). The
    # mean over all 45,720 values stays near rounding level: 7e-6 measured; one process with
    # batch 4 instead of 8 (another training) differs by a mean of 2.6e-3, so 5e-5 separates
    # the two by a factor of 50.
    if not compare(tool, os.path.join(out, "rank0", "model.pt"), os.path.join(out, "single", "single.pt"), 4e-3, 5e-5):
        fail("2 ranks with batch 4 differ from one process with batch 8")


def nccl(nsatrain, tool, images, out):
    fresh(out)
    common = ["--images", images] + without_augmentation(out) + ["--epochs", "2", "--samples_per_epoch", "16",
                                                              "--device", "cuda"]
    codes = wait_all(start_ranks(nsatrain, common + ["--batch_size", "4", "model.pt"],
                                 [os.path.join(out, "rank0"), os.path.join(out, "rank1")]))
    text = output_of(out, 0, "rank0") + output_of(out, 1, "rank1")
    if codes != [0, 0] and ("sees no CUDA device" in text or "CUDA device(s) are available" in text):
        print("SKIPPED: no CUDA device for each of 2 ranks")
        sys.exit(77)
    if codes != [0, 0]:
        fail("exit codes %s:\n%s" % (codes, text))
    if "(torchrun, nccl)" not in output_of(out, 0, "rank0"):
        fail("rank 0 did not use NCCL")
    check_rank0_wrote_alone(out, "model")
    single = run_single(nsatrain, common + ["--batch_size", "8", "single.pt"], os.path.join(out, "single"))
    if single.returncode != 0:
        fail("one-process run failed:\n" + single.stdout + single.stderr)
    # The limits of "equal"; cuDNN's kernels may round differently (not measured yet).
    if not compare(tool, os.path.join(out, "rank0", "model.pt"), os.path.join(out, "single", "single.pt"), 4e-3, 5e-5):
        fail("2 ranks with batch 4 differ from one process with batch 8 on CUDA")


def repeat(nsatrain, tool, images, out):
    fresh(out)
    common = ["--images", images] + TINY + ["--epochs", "2", "--samples_per_epoch", "17", "--batch_size", "4",
                                            "model.pt"]
    for run in ("first", "second"):
        folders = [os.path.join(out, run, "rank0"), os.path.join(out, run, "rank1")]
        codes = wait_all(start_ranks(nsatrain, common, folders))
        if codes != [0, 0]:
            fail("%s run: exit codes %s:\n%s" % (run, codes, output_of(os.path.join(out, run), 0, "rank0")))
        check_rank0_wrote_alone(os.path.join(out, run), "model")
    if not compare(tool, os.path.join(out, "first", "rank0", "model.pt"), os.path.join(out, "second", "rank0", "model.pt"), 0):
        fail("two 2-rank runs with the same seed differ")
    # --resume of the finished run with 2 ranks: rank 1 has no checkpoint and gets rank 0's.
    folders = [os.path.join(out, "first", "rank0"), os.path.join(out, "first", "resume1")]
    codes = wait_all(start_ranks(nsatrain, common + ["--resume"], folders))
    if codes != [0, 0]:
        fail("2-rank resume: exit codes %s:\n%s\n%s" % (codes, output_of(os.path.join(out, "first"), 0, "rank0"),
                                                         output_of(os.path.join(out, "first"), 1, "resume1")))
    if not compare(tool, os.path.join(out, "first", "rank0", "model.pt"), os.path.join(out, "second", "rank0", "model.pt"), 0):
        fail("the resumed finished run changed the weights")
    if os.listdir(os.path.join(out, "first", "resume1")):
        fail("rank 1 wrote files while resuming")
    # One process cannot resume a checkpoint of 2 ranks.
    single = run_single(nsatrain, common + ["--resume"], os.path.join(out, "first", "rank0"))
    if single.returncode == 0 or "was written by a run of 2 rank(s)" not in single.stderr:
        fail("a 1-process resume of a 2-rank checkpoint was not refused:\n" + single.stdout + single.stderr)


def kill(nsatrain, images, out):
    fresh(out)
    arguments = ["--images", images] + TINY + ["--epochs", "1000", "--samples_per_epoch", "8", "--batch_size", "2",
                                               "model.pt"]
    processes = start_ranks(nsatrain, arguments, [os.path.join(out, "rank0"), os.path.join(out, "rank1")],
                            {"NSA_DISTRIBUTED_TIMEOUT": "120"})
    log = os.path.join(out, "rank0", "model.log.jsonl")
    waited = 0.0
    while not (os.path.exists(log) and os.path.getsize(log) > 0):
        if any(p.poll() is not None for p, _ in processes):
            fail("a rank exited before training:\n" + output_of(out, 0, "rank0") + output_of(out, 1, "rank1"))
        if waited > HANG_LIMIT:
            fail("training did not start")
        time.sleep(0.2)
        waited += 0.2
    processes[1][0].send_signal(signal.SIGKILL)
    codes = wait_all(processes)
    text = output_of(out, 0, "rank0")
    print(text.splitlines()[-1] if text else "")
    if codes[0] == 0:
        fail("rank 0 exited 0 after rank 1 was killed")
    if "lost contact with the other ranks" not in text:
        fail("rank 0's message does not say what happened:\n" + text)
    if os.path.exists(os.path.join(out, "rank0", "model.pt")):
        fail("rank 0 wrote a final model after losing rank 1")


def main():
    mode = sys.argv[1] if len(sys.argv) > 1 else ""
    if mode in ("equal", "repeat", "nccl") and len(sys.argv) == 6:
        globals()[mode](*sys.argv[2:6])
    elif mode == "kill" and len(sys.argv) == 5:
        kill(*sys.argv[2:5])
    else:
        print(__doc__, file=sys.stderr)
        sys.exit(2)
    print("ok")


if __name__ == "__main__":
    main()
