#!/usr/bin/env python3
"""`python3 -m nsatoolkit.torch` refuses bad input with a clear message, a non-zero exit and
no output file (test Deployment.ExportRefusesBadInput).

  export_refuses_bad_input.py MODEL.pt NOT_A_MODEL WORK_DIR
"""
import os
import subprocess
import sys


def main(model, not_a_model, work):
    os.makedirs(work, exist_ok=True)
    cases = [
        # (arguments, expected words of the message, file that must not exist)
        (["onnx", os.path.join(work, "missing.pt"), os.path.join(work, "a.onnx")], "no such file", "a.onnx"),
        (["onnx", not_a_model, os.path.join(work, "b.onnx")], "not a LibTorch archive", "b.onnx"),
        (["torchscript", model, os.path.join(work, "no_folder", "c.pt")], "does not exist", "no_folder"),
    ]
    failures = 0
    for arguments, words, absent in cases:
        result = subprocess.run([sys.executable, "-m", "nsatoolkit.torch"] + arguments, capture_output=True,
                                text=True)
        message = result.stderr.strip().splitlines()[-1] if result.stderr.strip() else ""
        left = [name for name in os.listdir(work) if name.startswith(absent) or name.startswith("." + absent)]
        ok = result.returncode != 0 and words in message and message.startswith("error:") and not left
        print("%s: exit %d, %r%s" % ("ok" if ok else "FAILED", result.returncode, message,
                                     ", left %s" % left if left else ""))
        failures += not ok
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:]))
