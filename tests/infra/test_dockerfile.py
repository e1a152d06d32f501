"""service/Dockerfile and .dockerignore (no Docker engine here: checked by reading, and via the staged
CDK asset, which is exactly the build context CDK would send)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest


@pytest.fixture(scope="module")
def dockerfile(repo_root) -> str:
    return (repo_root / "service" / "Dockerfile").read_text()


def _instructions(text: str) -> list[str]:
    joined = re.sub(r"\\\n", " ", text)
    return [line.strip() for line in joined.splitlines() if line.strip() and not line.strip().startswith("#")]


def test_multi_stage_with_pinned_base(dockerfile):
    lines = _instructions(dockerfile)
    froms = [line for line in lines if line.upper().startswith("FROM ")]
    assert len(froms) >= 2
    assert any(" AS builder" in f for f in froms)
    arg = next(line for line in lines if line.startswith("ARG PYTHON_IMAGE="))
    image = arg.split("=", 1)[1]
    # exact patch version and distro, never a floating tag
    assert re.fullmatch(r"python:3\.11\.\d+-slim-bookworm(@sha256:[0-9a-f]{64})?", image), image
    assert all("latest" not in f for f in froms)
    assert any("COPY --from=builder" in line for line in lines)


def test_runtime_stage_non_root_healthcheck_and_cmd(dockerfile):
    lines = _instructions(dockerfile)
    last_from = max(i for i, line in enumerate(lines) if line.upper().startswith("FROM "))
    runtime = lines[last_from:]
    user = [line for line in runtime if line.startswith("USER ")]
    assert user and user[-1].split()[1].split(":")[0] not in ("0", "root")
    assert int(user[-1].split()[1].split(":")[0]) >= 10000
    health = next(line for line in runtime if line.startswith("HEALTHCHECK"))
    assert "/health" in health and "urllib" in health and "curl" not in dockerfile
    cmd = next(line for line in runtime if line.startswith("CMD "))
    assert '"service", "api"' in cmd and '"0.0.0.0"' in cmd and '"8080"' in cmd
    assert any(line.startswith("EXPOSE 8080") for line in runtime)


def test_dockerignore_denies_by_default(repo_root):
    lines = [l.strip() for l in (repo_root / ".dockerignore").read_text().splitlines() if l.strip() and not l.startswith("#")]
    assert lines[0] == "*"
    assert set(lines) >= {"!requirements.txt", "!service/"}
    assert not any(l.startswith("!") and l not in ("!requirements.txt", "!service/") for l in lines)


@pytest.mark.slow
def test_staged_build_context_is_small(synth):
    outdir: Path = synth("dev").outdir
    contexts = [d for d in outdir.glob("asset.*") if (d / "service" / "Dockerfile").exists()]
    assert len(contexts) == 1
    ctx = contexts[0]
    files = [p for p in ctx.rglob("*") if p.is_file()]
    size = sum(p.stat().st_size for p in files)
    assert size < 5 * 1024 * 1024, f"{size} bytes"
    top = {p.name for p in ctx.iterdir()}
    assert top <= {"requirements.txt", "service", ".dockerignore"}, top
    for banned in (".venv", "node_modules", "cdk.out", ".git", "tests", "__pycache__"):
        assert not any(banned in p.relative_to(ctx).parts for p in files), banned
