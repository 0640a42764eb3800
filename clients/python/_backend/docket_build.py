"""A PEP 517 build backend in the standard library only, for this one pure-Python package.

It builds the wheel (and an sdist, and a PEP 660 editable wheel) of the
package named in pyproject.toml's ``[tool.docket-build]``, with the metadata
of its ``[project]`` table. Nothing is compiled and nothing is downloaded, so
`pip install ./clients/python` works offline and in a fresh virtualenv,
which has no setuptools from Python 3.12 on.
"""

from __future__ import annotations

import base64
import hashlib
import io
import os
import tarfile
import zipfile
from typing import Any, Dict, List, Optional, Tuple

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _pyproject() -> Dict[str, Any]:
    path = os.path.join(ROOT, "pyproject.toml")
    try:
        import tomllib  # Python 3.11+
    except ImportError:  # pragma: no cover - Python 3.9 and 3.10
        return _mini_toml(open(path, encoding="utf-8").read())
    with open(path, "rb") as f:
        return tomllib.load(f)


def _mini_toml(text: str) -> Dict[str, Any]:
    """Enough TOML for this pyproject.toml (tables, strings, arrays of strings, inline tables of strings)."""
    import ast
    import re

    data: Dict[str, Any] = {}
    table = data
    lines = iter(text.splitlines())
    for line in lines:
        line = line.split(" #")[0].strip() if not line.strip().startswith("#") else ""
        if not line:
            continue
        if line.startswith("["):
            table = data
            for part in line.strip("[]").split("."):
                table = table.setdefault(part, {})
            continue
        key, _, value = (s.strip() for s in line.partition("="))
        while value.count("[") > value.count("]"):
            value += " " + next(lines).split(" #")[0].strip()
        if value.startswith("{"):
            table[key] = dict(re.findall(r'(\w+)\s*=\s*"([^"]*)"', value))
        else:
            table[key] = ast.literal_eval(value.replace("true", "True").replace("false", "False"))
    return data


def _config() -> Tuple[Dict[str, Any], str, str]:
    data = _pyproject()
    project = data["project"]
    tool = data.get("tool", {}).get("docket-build", {})
    return project, tool["package"], tool.get("source", ".")


def _metadata(project: Dict[str, Any]) -> str:
    lines = [
        "Metadata-Version: 2.1",
        f"Name: {project['name']}",
        f"Version: {project['version']}",
        f"Summary: {project.get('description', '')}",
        f"Requires-Python: {project.get('requires-python', '>=3.9')}",
    ]
    license_ = project.get("license", {})
    if isinstance(license_, dict) and "text" in license_:
        lines.append(f"License: {license_['text']}")
    for classifier in project.get("classifiers", []):
        lines.append(f"Classifier: {classifier}")
    for dependency in project.get("dependencies", []):
        lines.append(f"Requires-Dist: {dependency}")
    readme = project.get("readme")
    body = ""
    if isinstance(readme, str) and os.path.exists(os.path.join(ROOT, readme)):
        lines.append("Description-Content-Type: text/markdown")
        body = "\n" + open(os.path.join(ROOT, readme), encoding="utf-8").read()
    return "\n".join(lines) + "\n" + body


def _dist_name(project: Dict[str, Any]) -> str:
    return project["name"].replace("-", "_")


def _files(package: str, source: str) -> List[Tuple[str, str]]:
    """(path in the wheel, path on disk) for every file of the package, caches left out."""
    base = os.path.join(ROOT, source)
    out = []
    for folder, dirs, names in os.walk(os.path.join(base, package)):
        dirs[:] = [d for d in dirs if d != "__pycache__"]
        for name in sorted(names):
            if name.endswith((".pyc", ".pyo")):
                continue
            disk = os.path.join(folder, name)
            out.append((os.path.relpath(disk, base).replace(os.sep, "/"), disk))
    return sorted(out)


def _record_line(path: str, data: bytes) -> str:
    digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
    return f"{path},sha256={digest},{len(data)}"


def _write_wheel(directory: str, contents: List[Tuple[str, bytes]]) -> str:
    project, _, _ = _config()
    name, version = _dist_name(project), project["version"]
    info = f"{name}-{version}.dist-info"
    wheel = f"{name}-{version}-py3-none-any.whl"
    meta = [
        (f"{info}/METADATA", _metadata(project).encode()),
        (f"{info}/WHEEL", b"Wheel-Version: 1.0\nGenerator: docket_build\nRoot-Is-Purelib: true\nTag: py3-none-any\n"),
    ]
    everything = contents + meta
    record = "\n".join(_record_line(p, d) for p, d in everything) + f"\n{info}/RECORD,,\n"
    with zipfile.ZipFile(os.path.join(directory, wheel), "w", zipfile.ZIP_DEFLATED) as z:
        for path, data in everything + [(f"{info}/RECORD", record.encode())]:
            entry = zipfile.ZipInfo(path, date_time=(2020, 1, 1, 0, 0, 0))
            entry.external_attr = 0o644 << 16
            entry.compress_type = zipfile.ZIP_DEFLATED
            z.writestr(entry, data)
    return wheel


# PEP 517

def get_requires_for_build_wheel(config_settings: Optional[Dict[str, Any]] = None) -> List[str]:
    return []


def get_requires_for_build_sdist(config_settings: Optional[Dict[str, Any]] = None) -> List[str]:
    return []


def get_requires_for_build_editable(config_settings: Optional[Dict[str, Any]] = None) -> List[str]:
    return []


def build_wheel(wheel_directory: str, config_settings: Optional[Dict[str, Any]] = None, metadata_directory: Optional[str] = None) -> str:
    _, package, source = _config()
    return _write_wheel(wheel_directory, [(path, open(disk, "rb").read()) for path, disk in _files(package, source)])


def build_editable(wheel_directory: str, config_settings: Optional[Dict[str, Any]] = None, metadata_directory: Optional[str] = None) -> str:
    """PEP 660: a wheel whose .pth file puts the source folder on sys.path."""
    project, _, source = _config()
    pth = (os.path.join(ROOT, source) + "\n").encode()
    return _write_wheel(wheel_directory, [(f"__editable__.{_dist_name(project)}.pth", pth)])


def build_sdist(sdist_directory: str, config_settings: Optional[Dict[str, Any]] = None) -> str:
    project, package, source = _config()
    base = f"{_dist_name(project)}-{project['version']}"
    name = f"{base}.tar.gz"
    keep = ["pyproject.toml", "README.md", "_backend/docket_build.py"]
    keep += [os.path.relpath(disk, ROOT) for _, disk in _files(package, source)]
    with tarfile.open(os.path.join(sdist_directory, name), "w:gz", format=tarfile.PAX_FORMAT) as tar:
        for rel in keep:
            tar.add(os.path.join(ROOT, rel), arcname=f"{base}/{rel}")
        info = tarfile.TarInfo(f"{base}/PKG-INFO")
        data = _metadata(project).encode()
        info.size = len(data)
        tar.addfile(info, io.BytesIO(data))
    return name
