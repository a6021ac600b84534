#!/usr/bin/env python3
"""Runs one case of the bad-input table and checks what a clean refusal means.

    hostile_case.py --work DIR --setup NAME --exit CODE [--message TEXT]... [--max-rss-mb N]
                    [--timeout S] [--allow-output] [--absent REL]... [--present REL]...
                    -- PROGRAM ARG...

The work folder is made anew: DIR/in (inputs, built by the setup function NAME of
hostile_inputs.py) and DIR/out. In the arguments, @IN@ and @OUT@ stand for those folders.
Checks:
- the exit code is CODE (never a signal: a crash or an abort fails the case);
- every --message TEXT appears in the program's output (stdout and stderr);
- nothing in DIR changed: every file, folder and symbolic link is as before, byte for byte
  (inputs untouched, no output and no temporary file left). With --allow-output, only DIR/in
  must be unchanged (a case that is expected to succeed writes its outputs in DIR/out);
- the paths --absent (relative to DIR; glob patterns, @HOST@ for this host's name as
  temporary files carry it) do not exist afterwards, the paths --present do;
- the program's peak resident memory (wait4's ru_maxrss) stays under --max-rss-mb;
- it ends within --timeout seconds.
Exits 0 when every check passes, 1 otherwise, with a report of each failed check.
"""

import argparse
import glob
import hashlib
import os
import shutil
import signal
import stat
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import hostile_inputs  # noqa: E402


def snapshot(root):
    """Every entry under root (symbolic links not followed): type, mode and content hash."""
    entries = {}
    for folder, folders, files in os.walk(root, followlinks=False):
        for name in folders + files:
            path = os.path.join(folder, name)
            relative = os.path.relpath(path, root)
            info = os.lstat(path)
            if stat.S_ISLNK(info.st_mode):
                entries[relative] = ("link", os.readlink(path))
            elif stat.S_ISDIR(info.st_mode):
                entries[relative] = ("folder", stat.S_IMODE(info.st_mode))
            else:
                digest = hashlib.sha256()
                with open(path, "rb") as f:
                    for chunk in iter(lambda: f.read(1 << 20), b""):
                        digest.update(chunk)
                entries[relative] = ("file", stat.S_IMODE(info.st_mode), info.st_size, digest.hexdigest())
    return entries


def make_writable(root):
    for folder, folders, _ in os.walk(root, followlinks=False):
        for name in folders:
            path = os.path.join(folder, name)
            if not os.path.islink(path):
                os.chmod(path, 0o755)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--work", required=True)
    parser.add_argument("--setup", required=True, choices=sorted(hostile_inputs.SETUPS))
    parser.add_argument("--exit", type=int, required=True)
    parser.add_argument("--message", action="append", default=[])
    parser.add_argument("--max-rss-mb", type=float, default=1024.0)
    parser.add_argument("--timeout", type=float, default=120.0)
    parser.add_argument("--allow-output", action="store_true")
    parser.add_argument("--absent", action="append", default=[])
    parser.add_argument("--present", action="append", default=[])
    parser.add_argument("command", nargs=argparse.REMAINDER)
    args = parser.parse_args()
    command = args.command[1:] if args.command and args.command[0] == "--" else args.command
    if not command:
        parser.error("no program given")

    work = os.path.abspath(args.work)
    if os.path.lexists(work):
        make_writable(work)
        shutil.rmtree(work)
    os.makedirs(os.path.join(work, "in"))
    os.makedirs(os.path.join(work, "out"))
    hostile_inputs.SETUPS[args.setup](work)

    watched = os.path.join(work, "in") if args.allow_output else work
    before = snapshot(watched)
    command = [part.replace("@IN@", os.path.join(work, "in")).replace("@OUT@", os.path.join(work, "out"))
               for part in command]
    print("$ " + " ".join(command), flush=True)

    started = time.monotonic()
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, cwd=work,
                               start_new_session=True)
    output = b""
    timed_out = False
    try:
        output, _ = process.communicate(timeout=args.timeout)
    except subprocess.TimeoutExpired:
        timed_out = True
        os.killpg(process.pid, signal.SIGKILL)
        output, _ = process.communicate()
    # communicate() reaped the child; its peak memory is in the children's usage (one child).
    import resource
    peak_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024.0
    elapsed = time.monotonic() - started
    text = output.decode("utf-8", "replace")
    print(text, end="" if text.endswith("\n") else "\n")

    failures = []
    code = process.returncode
    if timed_out:
        failures.append("did not end within %.0f s" % args.timeout)
    elif code < 0:
        failures.append("killed by signal %d (%s)" % (-code, signal.Signals(-code).name))
    elif code != args.exit:
        failures.append("exit code %d, expected %d" % (code, args.exit))
    for fragment in args.message:
        if fragment not in text:
            failures.append("the output lacks %r" % fragment)
    after = snapshot(watched)
    for path in sorted(set(before) | set(after)):
        if path not in after:
            failures.append("%s was removed" % path)
        elif path not in before:
            failures.append("%s was created" % path)
        elif before[path] != after[path]:
            failures.append("%s was changed" % path)
    host = "".join(c if c.isalnum() or c in ".-_" else "_" for c in os.uname().nodename) or "localhost"
    for pattern in args.absent:
        found = glob.glob(os.path.join(glob.escape(work), pattern.replace("@HOST@", host)))
        if found:
            failures.append("%s exists" % ", ".join(os.path.relpath(f, work) for f in found))
    for pattern in args.present:
        if not glob.glob(os.path.join(glob.escape(work), pattern.replace("@HOST@", host))):
            failures.append("%s does not exist" % pattern)
    if peak_mb > args.max_rss_mb:
        failures.append("peak memory %.0f MB, limit %.0f MB" % (peak_mb, args.max_rss_mb))

    print("-- exit %s, %.1f s, peak memory %.0f MB" % (code, elapsed, peak_mb))
    for failure in failures:
        print("FAILED: " + failure)
    if not failures:
        make_writable(work)
        shutil.rmtree(work, ignore_errors=True)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
