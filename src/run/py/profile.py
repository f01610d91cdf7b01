# Describes the interpreter ftscope will test with (ft_meta.json python_profile).
# Run WITHOUT PYTHON_GIL in the environment, so a GIL build can answer too.
import json
import platform
import shlex
import sys
import sysconfig

cfg = sysconfig.get_config_vars()
args = cfg.get("CONFIG_ARGS") or ""
try:
    flags = shlex.split(args)
except ValueError:
    flags = args.split()
jit = getattr(sys, "_jit", None)


def dist_version(name):
    """The installed version of a distribution, or None."""
    try:
        from importlib import metadata
        return metadata.version(name)
    except Exception:
        return None


print(json.dumps({
    "path": sys.executable,
    "version": platform.python_version(),
    "implementation": platform.python_implementation(),
    "compiler": platform.python_compiler(),
    "build_flags": flags,
    "jit_available": any("experimental-jit" in f for f in flags),
    "jit_enabled": bool(jit and jit.is_enabled()) if jit else False,
    "gil_disabled": cfg.get("Py_GIL_DISABLED") == 1,
    "debug_build": hasattr(sys, "gettotalrefcount"),
    "hash_randomization": bool(sys.flags.hash_randomization),
    "minor": "%d.%d" % sys.version_info[:2],
    "soabi": cfg.get("SOABI"),
    "purelib": sysconfig.get_path("purelib"),
    # --parallel-threads needs it (scripts/setup.sh installs Debian sid's; sid's version moves)
    "pytest_version": dist_version("pytest"),
    "pytest_run_parallel": dist_version("pytest-run-parallel"),
}))
