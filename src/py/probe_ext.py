# ftscope's import probe: which modules of a package are C extensions, and which of them
# re-enable the GIL on a free-threaded build. Must run WITHOUT PYTHON_GIL set: with
# PYTHON_GIL=0 CPython never re-enables the GIL, so nothing could be seen.
# Run as a file: probe_ext.py import_name [--single MODULE]. Prints one JSON object on the last line of stdout.
import importlib
import json
import os
import pkgutil
import subprocess
import sys
import warnings

MAX_MODULES = 200
GIL_WARNING = "global interpreter lock (GIL) has been enabled to load module"


def gil_enabled():
    f = getattr(sys, "_is_gil_enabled", None)
    return bool(f()) if f else True


def is_extension(mod):
    f = getattr(mod, "__file__", None) or ""
    return f.endswith((".so", ".pyd", ".dylib"))


def try_import(name):
    """Import name; report error, GIL state change and the GIL warnings it raised."""
    before = gil_enabled()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            mod = importlib.import_module(name)
            err = None
        except BaseException as e:  # noqa: B902 - SystemExit from broken packages too
            mod, err = None, "%s: %s" % (type(e).__name__, e)
    after = gil_enabled()
    named = []
    for w in caught:
        text = str(w.message)
        if GIL_WARNING in text and "'" in text:
            named.append(text.split("'")[1])
    return mod, err, (not before and after), named


def single(name):
    # Parents first, so that the flip (if any) is charged to `name` only.
    parts = name.split(".")
    for i in range(1, len(parts)):
        try_import(".".join(parts[:i]))
    if gil_enabled():
        return {"module": name, "undetermined": True}
    mod, err, flipped, named = try_import(name)
    return {"module": name, "import_ok": err is None, "import_error": err,
            "triggered": flipped or name in named}


def main():
    top = sys.argv[1]
    if len(sys.argv) > 3 and sys.argv[2] == "--single":
        print(json.dumps(single(sys.argv[3])))
        return
    res = {"package": top, "is_pure_python": True, "extensions": [],
           "gil_fallback_active": False, "all_extensions_compatible": True,
           "import_ok": False, "import_error": None, "probe_error": None,
           "gil_enabled_at_start": gil_enabled(), "modules_walked": 0}
    if res["gil_enabled_at_start"]:
        res["probe_error"] = "the GIL is already enabled at start-up (PYTHON_GIL=1 or not free-threaded)"
    mod, err, flipped, named = try_import(top)
    res["import_ok"] = err is None
    res["import_error"] = err
    seen = {}  # module -> record

    def record(name, m, e, fl, nm):
        rec = seen.get(name)
        if rec is None:
            rec = {"module_name": name, "is_extension": bool(m is not None and is_extension(m)),
                   "import_ok": e is None, "import_error": e,
                   "triggered_gil_fallback": False, "imported_with_gil": False}
            seen[name] = rec
        return rec

    def note(name, m, e, fl, nm, gil_before):
        rec = record(name, m, e, fl, nm)
        for n in nm:  # the warning names the culprit precisely
            r = seen.get(n) or record(n, sys.modules.get(n), None, False, [])
            r["triggered_gil_fallback"] = True
            r["is_extension"] = r["is_extension"] or is_extension(sys.modules.get(n))
        if fl and not nm:
            rec["triggered_gil_fallback"] = True
        if gil_before:
            rec["imported_with_gil"] = True

    note(top, mod, err, flipped, named, False)
    # Extension modules loaded as a side effect of importing the package.
    if mod is not None:
        paths = getattr(mod, "__path__", None)
        names = []
        if paths is not None:
            def onerror(name):
                pass
            for info in pkgutil.walk_packages(paths, top + ".", onerror=onerror):
                names.append(info.name)
                if len(names) >= MAX_MODULES:
                    break
        for name in names:
            if name in seen:
                continue
            g = gil_enabled()
            m, e, fl, nm = try_import(name)
            note(name, m, e, fl, nm, g)
        for name, m in list(sys.modules.items()):
            if (name == top or name.startswith(top + ".")) and name not in seen and m is not None:
                note(name, m, None, False, [], False)
        res["modules_walked"] = len(seen)
    # Extensions imported after the GIL came on cannot be judged in this process:
    # ask a fresh interpreter about each (bounded).
    recheck = [r for r in seen.values()
               if r["is_extension"] and r["imported_with_gil"] and not r["triggered_gil_fallback"]]
    for r in recheck[:50]:
        try:
            p = subprocess.run([sys.executable, os.path.abspath(__file__), top, "--single",
                                r["module_name"]], capture_output=True, text=True, timeout=60)
        except Exception:
            r["undetermined"] = True
            continue
        try:
            single_res = json.loads(p.stdout.strip().splitlines()[-1])
            r["triggered_gil_fallback"] = bool(single_res.get("triggered"))
            if single_res.get("undetermined"):
                r["undetermined"] = True
        except Exception:
            r["undetermined"] = True
    exts = [r for r in seen.values() if r["is_extension"]]
    for r in exts:
        r.pop("imported_with_gil", None)
    res["extensions"] = sorted(exts, key=lambda r: r["module_name"])
    res["is_pure_python"] = not exts
    res["gil_fallback_active"] = gil_enabled() and not res["gil_enabled_at_start"]
    res["all_extensions_compatible"] = not any(r["triggered_gil_fallback"] for r in exts)
    print(json.dumps(res))


if __name__ == "__main__":
    main()
