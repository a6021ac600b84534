#!/usr/bin/env python3
"""The Python package installed by `cmake --install`, imported without PYTHONPATH
(test Deployment.PythonInstall).

  python_install_test.py CMAKE BUILD_DIR MODEL.pt STUDY.nii.gz WORK_DIR

1. A virtual environment of this interpreter (`-m venv --without-pip --system-site-packages`,
   so Debian's numpy and torch stay visible) is the install prefix: `cmake --install BUILD_DIR
   --component python --prefix VENV`; VENV/bin/python, with PYTHONPATH removed from its
   environment, imports nsatoolkit from VENV, scores a real study with the bundled model
   (nsatoolkit.load_model) and rebuilds it in PyTorch (nsatoolkit.torch); both maps agree.
2. A plain prefix gets Debian's layout, lib/python3.X/dist-packages, which for the prefix
   /usr/local is on this interpreter's sys.path (so `sudo cmake --install build` is enough).
3. An interpreter that cannot load the extension (here: this one with numpy hidden, and
   python3 on PATH when that is another interpreter) gets an ImportError naming the interpreter
   the package was built for.
"""
import os
import shutil
import subprocess
import sys

failures = []


def check(condition, message):
    print(("ok: " if condition else "FAILED: ") + message, flush=True)
    if not condition:
        failures.append(message)


def clean_env():
    env = dict(os.environ)
    env.pop("PYTHONPATH", None)
    env.pop("PYTHONHOME", None)
    return env


def run(command, **kwargs):
    print("+ " + " ".join(command), flush=True)
    return subprocess.run(command, capture_output=True, text=True, **kwargs)


def main(cmake, build, model, study, work):
    shutil.rmtree(work, ignore_errors=True)
    os.makedirs(work)
    version = "%d.%d" % sys.version_info[:2]

    # 1. Into a virtual environment; import and use without PYTHONPATH.
    venv = os.path.join(work, "venv")
    result = run([sys.executable, "-m", "venv", "--without-pip", "--system-site-packages", venv])
    check(result.returncode == 0, "venv created (%s)" % result.stderr.strip())
    result = run([cmake, "--install", build, "--component", "python", "--prefix", venv])
    check(result.returncode == 0, "cmake --install --component python --prefix VENV" + result.stderr)
    package = os.path.join(venv, "lib", "python" + version, "site-packages", "nsatoolkit")
    check(os.path.isfile(os.path.join(package, "__init__.py")) and os.path.isfile(os.path.join(package, "torch.py")),
          "package installed in %s" % package)
    script = r"""
import sys, numpy as np, torch
import nsatoolkit, nsatoolkit.torch as nt
assert nsatoolkit.__file__.startswith(sys.argv[1]), nsatoolkit.__file__
image = nsatoolkit.read_image(sys.argv[3])
model = nsatoolkit.load_model(sys.argv[2], {"device": "cpu"})
scores, case = model.predict(image.array, image.spacing)
network, description = nt.load_network(sys.argv[2])
with torch.no_grad():
    again = nt.predict_array(lambda x: network(torch.from_numpy(x)).numpy(), image.array, description)
print("imported from", nsatoolkit.__file__)
print("map %s, case score %.4f, PyTorch vs LibTorch max difference %.3g"
      % (scores.shape, case["selected"], float(np.abs(again - scores).max())))
assert float(np.abs(again - scores).max()) < 1e-4 and scores.max() > scores.min()
"""
    result = run([os.path.join(venv, "bin", "python"), "-c", script, venv, model, study], env=clean_env(), cwd=work)
    print(result.stdout + result.stderr)
    check(result.returncode == 0 and "imported from " + venv in result.stdout,
          "VENV/bin/python imports the installed package without PYTHONPATH and predicts")

    # 2. A plain prefix: Debian's dist-packages layout, on the interpreter's path for /usr/local.
    prefix = os.path.join(work, "prefix")
    result = run([cmake, "--install", build, "--component", "python", "--prefix", prefix])
    relative = os.path.join("lib", "python" + version, "dist-packages")
    check(result.returncode == 0 and os.path.isfile(os.path.join(prefix, relative, "nsatoolkit", "__init__.py")),
          "a plain prefix gets %s/nsatoolkit" % relative)
    check(os.path.join("/usr/local", relative) in sys.path,
          "%s is on %s's sys.path (cmake --install with the default prefix is found)"
          % (os.path.join("/usr/local", relative), sys.executable))

    # 3. The import error of an interpreter that cannot load the extension names the right one.
    hide_numpy = "import sys; sys.modules['numpy'] = None; import nsatoolkit"
    result = run([os.path.join(venv, "bin", "python"), "-c", hide_numpy], env=clean_env(), cwd=work)
    message = result.stderr.strip().splitlines()[-1] if result.stderr.strip() else ""
    check(result.returncode != 0 and "ImportError" in message and "built for " + sys.executable in message,
          "without numpy the import error names %s: %s" % (sys.executable, message[:300]))
    other = shutil.which("python3", path=clean_env().get("PATH", ""))
    if other and os.path.realpath(other) != os.path.realpath(sys.executable):
        env = clean_env()
        env["PYTHONPATH"] = os.path.join(prefix, relative)
        result = run([other, "-c", "import nsatoolkit"], env=env, cwd=work)
        message = result.stderr.strip().splitlines()[-1] if result.stderr.strip() else ""
        if result.returncode == 0:
            print("note: %s loads the extension too (same Python version and a numpy)" % other)
        else:
            check("built for " + sys.executable in message, "%s (python3 on PATH) is told: %s" % (other, message[:300]))
    print("%d check(s) failed" % len(failures) if failures else "all checks passed")
    return 1 if failures else 0


if __name__ == "__main__":
    if len(sys.argv) != 6:
        print(__doc__, file=sys.stderr)
        sys.exit(2)
    sys.exit(main(*sys.argv[1:]))
