# ftscope's import probe: which modules of a package are C extensions, and which of them
# re-enable the GIL on a free-threaded build. Must run WITHOUT PYTHON_GIL set: with
# PYTHON_GIL=0 CPython never re-enables the GIL, so nothing could be seen.
# Run as a file:
#   probe_ext.py IMPORT_NAME [--single MODULE]      the module to import is given
#   probe_ext.py --checkout DIR [--dist NAME] [--hint NAME]
#       find it: the distribution installed from DIR (direct_url.json, or metadata inside
#       DIR), else the one called NAME, else the one DIR's pyproject.toml/setup.cfg names;
#       its top-level modules (top_level.txt, else RECORD, else what its .pth puts on
#       sys.path); else --hint; else the project's name as a module name (last resort).
# Prints one JSON object on the last line of stdout.
import configparser
import importlib
import importlib.machinery
import importlib.metadata
import json
import os
import pkgutil
import re
import subprocess
import sys
import urllib.parse
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


# ---- which module: from the installed distribution, never from the directory's name ----

NOT_THE_PACKAGE = {"test", "tests", "testing", "doc", "docs", "example", "examples",
                   "benchmark", "benchmarks", "setup", "conftest", "noxfile", "tasks"}


def norm(name):
    return re.sub(r"[-_.]+", "_", name).lower()


def project_name(checkout):
    """The name the checkout's own metadata gives (pyproject.toml, else setup.cfg)."""
    try:
        import tomllib
        with open(os.path.join(checkout, "pyproject.toml"), "rb") as f:
            data = tomllib.load(f)
        name = data.get("project", {}).get("name") or \
            data.get("tool", {}).get("poetry", {}).get("name")
        if isinstance(name, str) and name:
            return name
    except Exception:
        pass
    try:
        cp = configparser.ConfigParser(interpolation=None)
        cp.read(os.path.join(checkout, "setup.cfg"))
        name = cp.get("metadata", "name", fallback=None)
        if name:
            return name.strip()
    except Exception:
        pass
    return None


def dists_from(checkout):
    """Distributions installed from the checkout: pip's direct_url.json points at it, or
    the metadata itself lives inside it (setup.py develop)."""
    real = os.path.realpath(checkout)
    found, seen = [], set()
    for d in importlib.metadata.distributions():
        name = d.metadata["Name"] if d.metadata else None
        if not name or norm(name) in seen:
            continue
        hit = False
        try:
            text = d.read_text("direct_url.json")
            url = json.loads(text).get("url", "") if text else ""
            if url.startswith("file://"):
                path = urllib.parse.unquote(urllib.parse.urlparse(url).path)
                hit = os.path.realpath(path) == real
        except Exception:
            pass
        loc = getattr(d, "_path", None)
        if not hit and loc is not None:
            lp = os.path.realpath(str(loc))
            hit = lp.startswith(real + os.sep)
        if hit:
            seen.add(norm(name))
            found.append(d)
    return found


def module_of_file(name):
    for suf in importlib.machinery.all_suffixes():
        if name.endswith(suf) and name[:-len(suf)].isidentifier():
            return name[:-len(suf)]
    return None


def modules_in_dir(d):
    out = []
    try:
        entries = sorted(os.listdir(d))
    except OSError:
        return out
    for e in entries:
        full = os.path.join(d, e)
        if os.path.isdir(full) and e.isidentifier() and \
                os.path.exists(os.path.join(full, "__init__.py")):
            out.append(e)
        elif os.path.isfile(full):
            m = module_of_file(e)
            if m:
                out.append(m)
    return [m for m in out if m not in NOT_THE_PACKAGE]


def top_level(dist):
    """(modules, where from) of an installed distribution."""
    try:
        text = dist.read_text("top_level.txt")
    except Exception:
        text = None
    if text:
        mods = [x.strip() for x in text.splitlines() if x.strip().isidentifier()]
        if mods:
            return mods, "top_level.txt"
    mods, pth_dirs, tops, inits = [], [], {}, set()
    for f in dist.files or []:
        parts = f.parts
        if not parts or parts[0] in ("..", "__pycache__") or \
                parts[0].endswith((".dist-info", ".egg-info", ".data")):
            continue
        if len(parts) == 1:
            if parts[0].endswith(".pth"):
                try:
                    with open(dist.locate_file(f)) as fh:
                        for line in fh:
                            line = line.strip()
                            if line and not line.startswith(("#", "import")) and \
                                    os.path.isdir(line):
                                pth_dirs.append(line)
                except OSError:
                    pass
                continue
            m = module_of_file(parts[0])
            if m and not m.startswith(("__editable__", "_editable_impl_")):
                mods.append(m)
            continue
        top = parts[0]
        if not top.isidentifier():
            continue
        tops.setdefault(top, set())
        if len(parts) == 2 and parts[1] == "__init__.py":
            inits.add(top)
        if len(parts) == 3 and parts[2] == "__init__.py" and parts[1].isidentifier():
            tops[top].add(parts[1])
    for top, subs in sorted(tops.items()):
        # a namespace package (no __init__.py) is named by its subpackages
        if top in inits or not subs:
            mods.append(top)
        else:
            mods.extend(top + "." + sub for sub in sorted(subs))
    if mods:
        return mods, "RECORD"
    for d in pth_dirs:  # an editable install that only adds a path (flit, hatchling)
        mods.extend(modules_in_dir(d))
    return mods, ".pth" if mods else None


def choose(mods, dist_name):
    """The package's own module among a distribution's top-level ones."""
    want = norm(dist_name) if dist_name else None
    for m in mods:
        if want and (norm(m) == want or norm(m.split(".")[-1]) == want):
            return m
    public = [m for m in mods if not m.startswith("_") and
              m.split(".")[0] not in NOT_THE_PACKAGE]
    return sorted(public or mods)[0]


def resolve(checkout, dist_name, hint):
    """{import_name, import_name_from, distribution, top_level_modules}; import_name None
    when nothing names the module."""
    out = {"import_name": None, "import_name_from": None, "distribution": None,
           "top_level_modules": []}
    dists = dists_from(checkout) if checkout else []
    proj = project_name(checkout) if checkout else None
    for name in (dist_name, proj):
        if not dists and name:
            try:
                dists = [importlib.metadata.distribution(name)]
            except importlib.metadata.PackageNotFoundError:
                pass
    if dists:
        d = dists[0]
        out["distribution"] = d.metadata["Name"]
        mods, where = top_level(d)
        if mods:
            out["top_level_modules"] = mods
            out["import_name"] = choose(mods, d.metadata["Name"])
            out["import_name_from"] = where
            return out
    if hint:
        out["import_name"], out["import_name_from"] = hint, "registry name"
        return out
    name = out["distribution"] or proj
    if name:
        out["import_name"], out["import_name_from"] = norm(name), "project name"
    return out


def main():
    if len(sys.argv) > 3 and sys.argv[2] == "--single":
        print(json.dumps(single(sys.argv[3])))
        return
    args, opts = [], {}
    it = iter(sys.argv[1:])
    for a in it:
        if a in ("--checkout", "--dist", "--hint"):
            opts[a[2:]] = next(it, None)
        else:
            args.append(a)
    if args:
        found = {"import_name": args[0], "import_name_from": "registry",
                 "distribution": None, "top_level_modules": []}
    else:
        found = resolve(opts.get("checkout"), opts.get("dist"), opts.get("hint"))
    top = found["import_name"]
    res = {"package": top, "is_pure_python": True, "extensions": [],
           "gil_fallback_active": False, "all_extensions_compatible": True,
           "import_ok": False, "import_error": None, "probe_error": None,
           "gil_enabled_at_start": gil_enabled(), "modules_walked": 0}
    res.update(found)
    if top is None:
        res["import_error"] = ("cannot tell which module the package provides: no installed "
                               "distribution comes from %s, and its metadata names none"
                               % opts.get("checkout"))
        print(json.dumps(res))
        return
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
