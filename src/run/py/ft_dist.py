# ftscope's release finder for --install-from sdist and --trust-ft-wheels: what the package
# index (or the --find-links wheelhouse) publishes for a project, as pip is configured (run by
# the venv's python with the install environment, as the test user: PIP_INDEX_URL, pip.conf
# through `pip config list`, PIP_NO_INDEX, PIP_FIND_LINKS all count).
#   ft_dist.py NAME ABI OUTDIR [--sdist] [--wheel]
# ABI is the target's free-threaded tag (cp313t). Looks at the latest release (the highest
# final version, else the highest one): its free-threaded wheels (any cpXYt), and downloads
# into OUTDIR its sdist (--sdist) and its wheel for ABI (--wheel), checking the index's
# sha256 when it gives one. Prints one JSON object on the last line of stdout:
#   {"version", "files", "ft_wheels", "target_wheel", "sdist", "sources", "error"}
# ("target_wheel"/"sdist": the downloaded paths, or null).
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import urllib.parse
import urllib.request

try:
    from pip._vendor.packaging.version import InvalidVersion, Version
except ImportError:  # pragma: no cover - pip always vendors packaging
    Version = None
    InvalidVersion = ValueError

TIMEOUT = 30
FT_TAG = re.compile(r"-cp(\d)(\d+)t-")


def norm(name):
    return re.sub(r"[-_.]+", "-", name).lower()


def pip_config():
    """index-url, extra-index-url, find-links, no-index as pip sees them (files and env)."""
    out = subprocess.run([sys.executable, "-m", "pip", "config", "list"],
                         capture_output=True, text=True).stdout
    conf = {}
    for line in out.splitlines():
        key, sep, val = line.partition("=")
        if not sep:
            continue
        key = key.rsplit(".", 1)[-1]
        val = val.strip().strip("'\"")
        conf.setdefault(key, []).extend(val.split())
    env = {"index-url": "PIP_INDEX_URL", "extra-index-url": "PIP_EXTRA_INDEX_URL",
           "find-links": "PIP_FIND_LINKS", "no-index": "PIP_NO_INDEX"}
    for key, var in env.items():
        if os.environ.get(var):
            conf[key] = os.environ[var].split()
    return conf


def links_of(url):
    """(filename, url) of every <a href> of a PEP 503 page or a find-links page."""
    with urllib.request.urlopen(url, timeout=TIMEOUT) as r:
        text = r.read(64 << 20).decode("utf-8", "replace")
    for href in re.findall(r"""<a\s[^>]*href\s*=\s*["']([^"']+)["']""", text, re.I):
        full = urllib.parse.urljoin(url, href.replace("&amp;", "&"))
        path = urllib.parse.urlsplit(full).path
        yield urllib.parse.unquote(path.rsplit("/", 1)[-1]), full


def candidates(name, conf):
    files, sources = {}, []
    no_index = any(v.lower() in ("1", "true", "yes", "on") for v in conf.get("no-index", []))
    indexes = [] if no_index else (conf.get("index-url") or ["https://pypi.org/simple"])
    indexes += [] if no_index else conf.get("extra-index-url", [])
    for idx in indexes:
        page = idx.rstrip("/") + "/" + norm(name) + "/"
        sources.append(page)
        try:
            for fn, url in links_of(page):
                files.setdefault(fn, url)
        except Exception as e:  # one unreachable index is not fatal
            sources[-1] += " (%s)" % e
    for fl in conf.get("find-links", []):
        sources.append(fl)
        if "://" in fl and not fl.startswith("file:"):
            try:
                for fn, url in links_of(fl):
                    files.setdefault(fn, url)
            except Exception as e:
                sources[-1] += " (%s)" % e
            continue
        d = urllib.parse.urlsplit(fl).path if fl.startswith("file:") else fl
        if os.path.isdir(d):
            for fn in os.listdir(d):
                files.setdefault(fn, os.path.join(d, fn))
    return files, sources


def version_of(name, fn):
    """The version in a wheel's or sdist's file name, if it is one of this project's."""
    n = norm(name)
    if fn.endswith(".whl"):
        parts = fn[:-4].split("-")
        if len(parts) in (5, 6) and norm(parts[0]) == n:
            return parts[1], "wheel"
        return None, None
    for ext in (".tar.gz", ".zip", ".tar.bz2", ".tgz"):
        if fn.endswith(ext):
            base = fn[: -len(ext)]
            head, sep, ver = base.rpartition("-")
            if sep and norm(head) == n:
                return ver, "sdist"
    return None, None


def vkey(v):
    if Version is not None:
        try:
            pv = Version(v)
            return (1, not pv.is_prerelease, pv)
        except InvalidVersion:
            pass
    return (0, False, v)


def fetch(url, outdir, fn):
    dest = os.path.join(outdir, fn)
    frag = urllib.parse.urlsplit(url).fragment
    if "://" in url and not url.startswith("file:"):
        with urllib.request.urlopen(url.split("#")[0], timeout=TIMEOUT) as r, \
                open(dest, "wb") as f:
            shutil.copyfileobj(r, f)
    else:
        shutil.copyfile(urllib.parse.urlsplit(url).path if url.startswith("file:") else url,
                        dest)
    if frag.startswith("sha256="):
        with open(dest, "rb") as f:
            if hashlib.sha256(f.read()).hexdigest() != frag[7:]:
                raise ValueError("%s: sha256 does not match the index's" % fn)
    return dest


def main():
    name, abi, outdir = sys.argv[1:4]
    flags = set(sys.argv[4:])
    res = {"version": None, "files": [], "ft_wheels": [], "target_wheel": None,
           "sdist": None, "sources": [], "error": None}
    try:
        files, res["sources"] = candidates(name, pip_config())
        by_ver = {}
        for fn, url in files.items():
            ver, kind = version_of(name, fn)
            if ver:
                by_ver.setdefault(ver, []).append((fn, url, kind))
        if not by_ver:
            res["error"] = "no release of %s found in %s" % (name, ", ".join(res["sources"]))
        else:
            latest = max(by_ver, key=vkey)
            rel = sorted(by_ver[latest])
            res["version"] = latest
            res["files"] = [fn for fn, _, _ in rel]
            res["ft_wheels"] = [fn for fn, _, k in rel if k == "wheel" and FT_TAG.search(fn)]
            os.makedirs(outdir, exist_ok=True)
            if "--wheel" in flags:
                for fn, url, k in rel:
                    if k == "wheel" and "-%s-" % abi in fn and \
                            "linux" in fn and os.uname().machine in fn:
                        res["target_wheel"] = fetch(url, outdir, fn)
                        break
            if "--sdist" in flags:
                for fn, url, k in rel:
                    if k == "sdist":
                        res["sdist"] = fetch(url, outdir, fn)
                        break
                else:
                    res["error"] = "%s %s has no sdist" % (name, latest)
    except Exception as e:
        res["error"] = "%s: %s" % (type(e).__name__, e)
    print(json.dumps(res))


main()
