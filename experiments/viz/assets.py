"""The browser files of the live page, installed from the npm registry so the page works offline.

Solara's page loads its JavaScript and CSS (the Vuetify app, RequireJS, Font Awesome, the
grid layout) from a CDN through the server's asset proxy, which first looks in a local
cache folder (``solara.server.settings.assets.proxy_cache_dir``, inside the virtual
environment). A machine without internet access would show a blank page, so this module
fills that cache from the npm registry with the ordinary client (``npm pack``): the CDN
serves exactly the files of the npm packages, at the versions the installed Solara names.

``python -m experiments.viz.assets`` installs what is missing (``make`` runs it after
installing the package); without npm it says so and leaves the CDN to the server.
"""

from __future__ import annotations

import argparse
import re
import shutil
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

import ipyvue
import solara
import solara.server.settings as ss

#: Where Solara names its CDN packages: its page template and the grid layout widget.
_SPEC = re.compile(r"((?:@[\w.-]+/)?[\w.-]+@\d+\.\d+\.\d+[\w.-]*)/")


def required_packages() -> list[str]:
    """``name@version`` of every CDN package the installed Solara's page loads."""
    root = Path(solara.__file__).parent
    texts = [
        (root / "server" / "templates" / "solara.html.j2").read_text(encoding="utf-8"),
        (root / "widgets" / "vue" / "gridlayout_v3.vue").read_text(encoding="utf-8"),
        ss.assets.fontawesome_path,
    ]
    found: list[str] = []
    for text in texts:
        for line in text.splitlines():
            if "cdn" in line.lower() or "font-awesome" in line:
                found.extend(_SPEC.findall(line))
    # the template names both the Vue 2 and the Vue 3 app; the installed ipyvue decides
    vue3 = int(ipyvue.__version__.split(".")[0]) >= 3
    drop = "@widgetti/solara-vuetify-app@" if vue3 else "@widgetti/solara-vuetify3-app@"
    return sorted({p for p in found if not p.startswith(drop)})


def cache_dir() -> Path:
    """Solara's asset-proxy cache folder."""
    return Path(ss.assets.proxy_cache_dir)


def missing(cache: Path | None = None) -> list[str]:
    """Required packages not yet in the cache."""
    cache = cache or cache_dir()
    return [p for p in required_packages() if not (cache / p / "package.json").is_file()]


def install(cache: Path | None = None) -> list[str]:
    """Fetch the missing packages with ``npm pack`` and unpack each into the cache, whole
    or not at all (unpacked beside it, then renamed into place).

    Returns:
        The packages installed.

    Raises:
        FileNotFoundError: npm is not installed.
        subprocess.CalledProcessError: npm could not fetch a package.
    """
    cache = cache or cache_dir()
    todo = missing(cache)
    if not todo:
        return []
    npm = shutil.which("npm")
    if npm is None:
        raise FileNotFoundError("npm")
    cache.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=cache, prefix=".fetch.") as tmp:
        subprocess.run([npm, "pack", *todo, "--pack-destination", tmp, "--silent"], check=True, capture_output=True)
        tarballs = {p.name: p for p in Path(tmp).glob("*.tgz")}
        for spec in todo:
            name, version = spec.rsplit("@", 1)
            tgz = tarballs[f"{name.lstrip('@').replace('/', '-')}-{version}.tgz"]
            unpacked = Path(tmp) / f"unpacked-{tgz.stem}"
            with tarfile.open(tgz) as tar:
                tar.extractall(unpacked, filter="data")
            target = cache / spec
            target.parent.mkdir(parents=True, exist_ok=True)
            if target.exists():
                shutil.rmtree(target)
            (unpacked / "package").replace(target)
    return todo


def main(argv: list[str] | None = None) -> int:
    """Install the live page's browser files; exit 1 only with ``--require`` and no success."""
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--require", action="store_true", help="fail if the files cannot be installed")
    args = p.parse_args(argv)
    try:
        done = install()
    except FileNotFoundError:
        print(
            "viz assets: npm not found; the live page (countysim viz) will load its browser files from the CDN, "
            "which needs internet access. Install Node.js/npm and run: python -m experiments.viz.assets",
            file=sys.stderr,
        )
        return 1 if args.require else 0
    except subprocess.CalledProcessError as exc:
        err = exc.stderr.decode(errors="replace").strip().splitlines()[-1:] if exc.stderr else []
        print(f"viz assets: npm could not fetch the page's files ({' '.join(err)})", file=sys.stderr)
        return 1 if args.require else 0
    print(f"viz assets: installed {', '.join(done)}" if done else "viz assets: up to date")
    return 0


if __name__ == "__main__":
    sys.exit(main())
