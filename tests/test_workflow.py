"""The nightly GitHub Actions workflow, checked offline: the structure the benchmark depends on.

GitHub only tells us a workflow is wrong when it runs (at 03:17, on whichever runner it picked). These tests read
.github/workflows/nightly.yml as data and check what would otherwise fail silently: the torch matrix drifting from
noxfile.py, a nox session that does not exist, results that are not uploaded when a bench fails, a compare step
that cannot fail the run or lets a new or missing key pass (no --strict), an upload name the download pattern does
not match, a bench that does not run on a GitHub-hosted runner by default or ignores the BENCH_RUNNER variable (its
runs-on expression is evaluated here), unknown expression contexts and untrusted input in shell scripts. Each checker returns its findings, so the last tests can feed it a broken copy of
the workflow and see it complain. actionlint, where installed, checks the rest.
"""

from __future__ import annotations

import ast
import copy
import fnmatch
import json
import math
import re
import shlex
import shutil
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
WORKFLOW = ROOT / ".github" / "workflows" / "nightly.yml"
NOXFILE = ROOT / "noxfile.py"

Workflow = dict[str, Any]
Job = dict[str, Any]
Step = dict[str, Any]

KNOWN_CONTEXTS = frozenset(
    {"github", "matrix", "env", "steps", "needs", "inputs", "vars", "runner", "secrets", "strategy", "job"}
)
KNOWN_FUNCTIONS = frozenset(  # expression function names are case-insensitive: compared lower-cased
    {"always", "success", "failure", "cancelled", "contains", "startswith", "endswith", "format", "join", "tojson", "fromjson", "hashfiles"}
)
LITERALS = frozenset({"true", "false", "null"})
# attacker-controlled values that must never be pasted into a shell script (pass them through env: instead)
UNTRUSTED_IN_RUN = re.compile(r"\bgithub\s*\.\s*(event\s*\.|head_ref\b)|\binputs\s*\.")
EXPRESSION = re.compile(r"\$\{\{(.*?)\}\}", re.DOTALL)
PINNED_USES = re.compile(r"^[\w.-]+/[\w./-]+@(v\d+(\.\d+){0,2}|[0-9a-f]{40})$")
# labels of GitHub-hosted runners (ubuntu-latest, ubuntu-24.04-arm, windows-2025, macos-15-xlarge, ...)
HOSTED_LABEL = re.compile(r"^(ubuntu|windows|macos)-(latest|slim|\d[\d.]*)(-[\w.-]+)?$")
RUNNER_VARIABLE = "BENCH_RUNNER"  # the repository variable that moves the bench to a self-hosted runner

# ---------------------------------------------------------------------------------------------------------------------
# Reading the workflow and noxfile.py
# ---------------------------------------------------------------------------------------------------------------------


def load_workflow(path: Path = WORKFLOW) -> Workflow:
    """The workflow as a dict, with the trigger key as "on" (YAML 1.1 reads a bare `on:` as the boolean True)."""
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    assert isinstance(data, dict), f"{path}: expected a mapping at the top level, got {type(data).__name__}"
    if True in data and "on" not in data:
        data["on"] = data.pop(True)
    return data


def torch_matrix_from_noxfile(source: str) -> tuple[str, ...]:
    """The literal value of TORCH_MATRIX, read with ast so the test does not need nox importable."""
    for node in ast.walk(ast.parse(source)):
        targets: list[ast.expr] = []
        if isinstance(node, ast.Assign):
            targets = node.targets
        elif isinstance(node, ast.AnnAssign) and node.value is not None:
            targets = [node.target]
        if any(isinstance(target, ast.Name) and target.id == "TORCH_MATRIX" for target in targets):
            assert isinstance(node, ast.Assign | ast.AnnAssign) and node.value is not None
            value = ast.literal_eval(node.value)
            assert isinstance(value, tuple | list) and all(isinstance(v, str) for v in value), f"TORCH_MATRIX: {value!r}"
            return tuple(value)
    raise AssertionError("noxfile.py: no literal TORCH_MATRIX assignment")


def _is_nox_session(decorator: ast.expr) -> bool:
    target = decorator.func if isinstance(decorator, ast.Call) else decorator
    return isinstance(target, ast.Attribute) and target.attr == "session" and isinstance(target.value, ast.Name) and target.value.id == "nox"


def nox_sessions_from_noxfile(source: str) -> set[str]:
    """Names of the functions decorated with @nox.session (or @nox.session(name=...): then that name)."""
    names: set[str] = set()
    for node in ast.parse(source).body:
        if not isinstance(node, ast.FunctionDef):
            continue
        for decorator in node.decorator_list:
            if not _is_nox_session(decorator):
                continue
            name = node.name
            if isinstance(decorator, ast.Call):
                for keyword in decorator.keywords:
                    if keyword.arg == "name" and isinstance(keyword.value, ast.Constant) and isinstance(keyword.value.value, str):
                        name = keyword.value.value
            names.add(name)
    return names


# ---------------------------------------------------------------------------------------------------------------------
# Walking the workflow
# ---------------------------------------------------------------------------------------------------------------------


def jobs_of(workflow: Workflow) -> dict[str, Job]:
    jobs = workflow.get("jobs")
    return jobs if isinstance(jobs, dict) else {}


def steps_of(job: Job) -> list[Step]:
    steps = job.get("steps")
    return [step for step in steps if isinstance(step, dict)] if isinstance(steps, list) else []


def step_label(job_id: str, index: int, step: Step) -> str:
    return f"jobs.{job_id}.steps[{index}] ({step.get('name') or step.get('id') or step.get('uses') or 'run'})"


def iter_steps(workflow: Workflow) -> Iterator[tuple[str, int, Step]]:
    for job_id, job in jobs_of(workflow).items():
        for index, step in enumerate(steps_of(job)):
            yield job_id, index, step


def iter_strings(node: object, where: str) -> Iterator[tuple[str, str]]:
    """Every string value in the document with its dotted location; `if:` values are expressions even without ${{ }}."""
    if isinstance(node, dict):
        for key, value in node.items():
            yield from iter_strings(value, f"{where}.{key}")
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from iter_strings(value, f"{where}[{index}]")
    elif isinstance(node, str):
        yield where, node


def expressions_in(location: str, text: str) -> list[str]:
    found = [match.strip() for match in EXPRESSION.findall(text)]
    if location.endswith(".if") and "${{" not in text:
        found.append(text.strip())
    return found


def is_always(condition: object) -> bool:
    """An `if:` that still runs after a failed step: always() or !cancelled()."""
    text = str(condition or "").replace(" ", "")
    return "always()" in text or "!cancelled()" in text


def is_truthy(value: object) -> bool:
    return value is True or (isinstance(value, str) and value.strip() not in ("", "false", "${{ false }}"))


# ---------------------------------------------------------------------------------------------------------------------
# Shell scripts: which nox sessions, with which flags
# ---------------------------------------------------------------------------------------------------------------------


def nox_calls(script: str) -> list[list[str]]:
    """The argument lists of every `nox` command in a `run:` script (line continuations joined, && ; | split)."""
    lexer = shlex.shlex(script.replace("\\\n", " "), posix=True, punctuation_chars=True)
    lexer.whitespace_split = True
    calls: list[list[str]] = []
    current: list[str] | None = None
    for token in lexer:
        if current is None:
            if token == "nox" or token.endswith("/nox"):
                current = []
            continue
        if token and set(token) <= set("&|;()<>"):
            calls.append(current)
            current = None
        else:
            current.append(token)
    if current is not None:
        calls.append(current)
    return calls


def sessions_of(args: list[str]) -> list[str]:
    """Session names after -s/--session/--sessions, up to the next option or `--`."""
    names: list[str] = []
    collecting = False
    for arg in args:
        if arg in ("-s", "--session", "--sessions", "-e"):
            collecting = True
        elif arg.startswith("-"):
            collecting = False
        elif collecting:
            names.append(arg.split("(", 1)[0])  # bench_eager(torch='2.13.0') names the session bench_eager
    return names


def option_value(args: list[str], option: str) -> str | None:
    """The value of `option VALUE` or `option=VALUE` among the posargs after `--`."""
    posargs = args[args.index("--") + 1 :] if "--" in args else []
    for index, arg in enumerate(posargs):
        if arg == option and index + 1 < len(posargs):
            return posargs[index + 1]
        if arg.startswith(option + "="):
            return arg.split("=", 1)[1]
    return None


def expand_env(value: str, env: dict[str, Any]) -> str:
    """$NAME and ${NAME} from the step's env: (the workflow passes values to scripts that way)."""
    return re.sub(r"\$\{?(\w+)\}?", lambda match: str(env.get(match.group(1), match.group(0))), value)


def norm(path: str) -> str:
    return path.strip().removeprefix("./").rstrip("/")


def path_covers(upload_path: str, file: str) -> bool:
    """Whether an upload-artifact `path:` (lines, globs, !exclusions) takes in `file`."""
    included = False
    for raw in upload_path.splitlines():
        line = raw.strip()
        if not line:
            continue
        exclude = line.startswith("!")
        pattern = norm(line.lstrip("!"))
        hit = fnmatch.fnmatch(file, pattern) or fnmatch.fnmatch(file, pattern + "/*") or file.startswith(pattern + "/")
        if hit:
            included = not exclude
    return included


def nox_steps(job: Job, session: str) -> list[tuple[int, Step, list[str]]]:
    """The steps of a job whose `run:` calls `nox -s <session>`, with that call's arguments."""
    out = []
    for index, step in enumerate(steps_of(job)):
        for args in nox_calls(str(step.get("run", ""))):
            if session in sessions_of(args):
                out.append((index, step, args))
    return out


def uses_action(step: Step, action: str) -> bool:
    return str(step.get("uses", "")).split("@", 1)[0] == action


def mapping(value: object) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def with_of(step: Step) -> dict[str, Any]:
    return mapping(step.get("with"))


# ---------------------------------------------------------------------------------------------------------------------
# Expressions: a small evaluator of GitHub's ${{ }} language, enough to see what runs-on resolves to
# ---------------------------------------------------------------------------------------------------------------------

EXPRESSION_TOKEN = re.compile(r"\s*(?:('(?:[^']|'')*')|(\d+(?:\.\d+)?)|([A-Za-z_][\w-]*)|(&&|\|\||==|!=|<=|>=|[<>!()\[\].,]))")


def _tokens(expression: str) -> list[str]:
    tokens, position = [], 0
    while expression[position:].strip():
        match = EXPRESSION_TOKEN.match(expression, position)
        if match is None:
            raise ValueError(f"cannot read {expression[position:]!r} in ${{{{ {expression} }}}}")
        tokens.append(next(group for group in match.groups() if group is not None))
        position = match.end()
    return tokens


def _text(value: object) -> str:
    """GitHub's coercion to a string: null is '', booleans are lower-case, lists and objects are JSON."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return json.dumps(value) if isinstance(value, list | dict) else str(value)


def _truthy(value: object) -> bool:
    """Falsy in GitHub expressions: false, 0, -0, '', null, NaN; everything else (lists and objects too) is truthy."""
    if isinstance(value, float) and math.isnan(value):
        return False
    return value not in (False, None, "", 0)


def _equal(left: object, right: object) -> bool:
    if isinstance(left, str) and isinstance(right, str):
        return left.lower() == right.lower()  # string comparison is case-insensitive
    return left == right


FUNCTIONS: dict[str, Callable[..., object]] = {
    "startswith": lambda a, b: _text(a).lower().startswith(_text(b).lower()),
    "endswith": lambda a, b: _text(a).lower().endswith(_text(b).lower()),
    "contains": lambda a, b: any(_equal(x, b) for x in a) if isinstance(a, list) else _text(b).lower() in _text(a).lower(),
    "fromjson": lambda a: json.loads(_text(a)),
    "tojson": lambda a: json.dumps(a, indent=2),
    "format": lambda f, *args: re.sub(r"\{(\d+)\}", lambda m: _text(args[int(m.group(1))]), _text(f)).replace("{{", "{").replace("}}", "}"),
    "join": lambda a, sep=",": _text(sep).join(_text(x) for x in a) if isinstance(a, list) else _text(a),
}


Thunk = Callable[[], object]


class _Parser:
    """Recursive descent over ||, &&, ==/!=, comparisons, !, calls, property access and literals, into thunks so
    that `&&` and `||` short-circuit and return one of their operands, as in GitHub: in `a && fromJSON(b) || c`,
    fromJSON(b) is never called when a is false, and the value is a, fromJSON(b) or c, not a boolean."""

    def __init__(self, expression: str, contexts: dict[str, Any]) -> None:
        self.expression, self.tokens, self.at, self.contexts = expression, _tokens(expression), 0, contexts

    def peek(self) -> str | None:
        return self.tokens[self.at] if self.at < len(self.tokens) else None

    def take(self, expected: str | None = None) -> str:
        token = self.peek()
        if token is None or (expected is not None and token != expected):
            raise ValueError(f"expected {expected or 'more'} at token {self.at} of ${{{{ {self.expression} }}}}, got {token!r}")
        self.at += 1
        return token

    def parse(self) -> Thunk:
        thunk = self.either()
        if self.peek() is not None:
            raise ValueError(f"unexpected {self.peek()!r} in ${{{{ {self.expression} }}}}")
        return thunk

    def either(self) -> Thunk:
        thunk = self.both()
        while self.peek() == "||":
            self.take()
            thunk = _either(thunk, self.both())
        return thunk

    def both(self) -> Thunk:
        thunk = self.equality()
        while self.peek() == "&&":
            self.take()
            thunk = _both(thunk, self.equality())
        return thunk

    def equality(self) -> Thunk:
        thunk = self.comparison()
        while self.peek() in ("==", "!="):
            operation = EQUALITIES[self.take()]
            thunk = _binary(thunk, self.comparison(), operation)
        return thunk

    def comparison(self) -> Thunk:
        thunk = self.unary()
        while self.peek() in ORDERS:
            operation = ORDERS[self.take()]
            thunk = _binary(thunk, self.unary(), operation)
        return thunk

    def unary(self) -> Thunk:
        if self.peek() == "!":
            self.take()
            operand = self.unary()
            return lambda: not _truthy(operand())
        return self.postfix()

    def postfix(self) -> Thunk:
        thunk = self.primary()
        while self.peek() in (".", "["):
            if self.take() == ".":
                index: Thunk = (lambda name: lambda: name)(self.take())
            else:
                index = self.either()
                self.take("]")
            thunk = _binary(thunk, index, _member)
        return thunk

    def primary(self) -> Thunk:
        token = self.take()
        if token == "(":
            thunk = self.either()
            self.take(")")
            return thunk
        if token.startswith("'"):
            text = token[1:-1].replace("''", "'")
            return lambda: text
        if token[0].isdigit():
            number = float(token) if "." in token else int(token)
            return lambda: number
        if token in ("true", "false", "null"):
            literal = {"true": True, "false": False, "null": None}[token]
            return lambda: literal
        if self.peek() == "(":
            self.take()
            args: list[Thunk] = []
            while self.peek() != ")":
                args.append(self.either())
                if self.peek() == ",":
                    self.take()
            self.take(")")
            function = FUNCTIONS.get(token.lower())
            if function is None:
                raise ValueError(f"{token}() is not a function this evaluator knows")
            return lambda: function(*(arg() for arg in args))
        if token not in self.contexts:
            raise ValueError(f"context {token!r} is not given to this evaluation of ${{{{ {self.expression} }}}}")
        context = self.contexts[token]
        return lambda: context


EQUALITIES: dict[str, Callable[[Any, Any], object]] = {"==": _equal, "!=": lambda a, b: not _equal(a, b)}
ORDERS: dict[str, Callable[[Any, Any], object]] = {
    "<": lambda a, b: a < b,
    ">": lambda a, b: a > b,
    "<=": lambda a, b: a <= b,
    ">=": lambda a, b: a >= b,
}


def _either(left: Thunk, right: Thunk) -> Thunk:
    def value() -> object:
        first = left()
        return first if _truthy(first) else right()

    return value


def _both(left: Thunk, right: Thunk) -> Thunk:
    def value() -> object:
        first = left()
        return right() if _truthy(first) else first

    return value


def _binary(left: Thunk, right: Thunk, operation: Callable[[Any, Any], object]) -> Thunk:
    return lambda: operation(left(), right())


def _member(value: object, index: object) -> object:
    """value.name or value[index]; null where there is no such member, as in GitHub."""
    if isinstance(value, dict):
        return value.get(_text(index))
    if isinstance(value, list) and isinstance(index, int | float) and not isinstance(index, bool) and 0 <= int(index) < len(value):
        return value[int(index)]
    return None


def evaluate(expression: str, contexts: dict[str, Any]) -> object:
    return _Parser(expression, contexts).parse()()


def resolve(value: object, contexts: dict[str, Any]) -> object:
    """A workflow value as GitHub sees it: a string that is one ${{ }} becomes that expression's value (any type),
    ${{ }} inside a longer string are interpolated as text, lists are resolved element by element."""
    if isinstance(value, list):
        return [resolve(item, contexts) for item in value]
    if not isinstance(value, str):
        return value
    whole = EXPRESSION.fullmatch(value.strip())
    if whole is not None:
        return evaluate(whole.group(1), contexts)
    return EXPRESSION.sub(lambda match: _text(evaluate(match.group(1), contexts)), value)


# ---------------------------------------------------------------------------------------------------------------------
# Checkers: each returns a list of findings, empty when the workflow is right
# ---------------------------------------------------------------------------------------------------------------------

CRON_FIELDS = (("minute", 0, 59), ("hour", 0, 23), ("day of month", 1, 31), ("month", 1, 12), ("day of week", 0, 6))
CRON_NAMES = {
    "month": ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"],
    "day of week": ["sun", "mon", "tue", "wed", "thu", "fri", "sat"],
}


def _cron_number(atom: str, low: int, names: list[str]) -> int | None:
    if atom.lower() in names:
        return names.index(atom.lower()) + low
    return int(atom) if atom.isdigit() else None


def cron_problems(cron: object) -> list[str]:
    """POSIX cron as GitHub reads it: five fields of *, N, N-M, lists and /step (names for month and weekday)."""
    if not isinstance(cron, str):
        return [f"cron {cron!r}: not a string"]
    fields = cron.split()
    if len(fields) != 5:
        return [f"cron {cron!r}: {len(fields)} fields, expected 5 (minute hour day-of-month month day-of-week)"]
    problems = []
    for text, (name, low, high) in zip(fields, CRON_FIELDS, strict=True):
        for part in text.split(","):
            base, _, step = part.partition("/")
            if step and (not step.isdigit() or int(step) == 0):
                problems.append(f"cron {cron!r}: {name} step {step!r} is not a positive number")
            bounds = [] if base == "*" else base.split("-") if "-" in base else [base]
            values = [_cron_number(atom, low, CRON_NAMES.get(name, [])) for atom in bounds]
            if len(bounds) > 2 or any(value is None or not low <= value <= high for value in values):
                problems.append(f"cron {cron!r}: {name} {part!r} is not within {low}-{high}")
            elif len(values) == 2 and values[0] is not None and values[1] is not None and values[0] > values[1]:
                problems.append(f"cron {cron!r}: {name} range {base!r} runs backwards")
    return problems


def trigger_problems(workflow: Workflow) -> list[str]:
    on = workflow.get("on")
    if not isinstance(on, dict):
        return [f"on: expected a mapping of triggers, got {on!r}"]
    problems = []
    if "workflow_dispatch" not in on:
        problems.append("on: no workflow_dispatch, so the nightly cannot be started by hand")
    schedule = on.get("schedule")
    if not isinstance(schedule, list) or not schedule:
        problems.append("on.schedule: missing, so the nightly never runs")
        return problems
    for index, entry in enumerate(schedule):
        cron = entry.get("cron") if isinstance(entry, dict) else None
        problems += [f"on.schedule[{index}]: {problem}" for problem in cron_problems(cron)]
    return problems


def find_jobs(workflow: Workflow, session: str) -> list[str]:
    return [job_id for job_id, job in jobs_of(workflow).items() if nox_steps(job, session)]


def bench_problems(workflow: Workflow, torch_matrix: tuple[str, ...]) -> list[str]:
    bench_ids = [job_id for job_id in find_jobs(workflow, "bench_eager") if job_id in find_jobs(workflow, "bench_compiled")]
    if not bench_ids:
        return ["no job runs `nox -s bench_eager bench_compiled`"]
    problems = []
    for job_id in bench_ids:
        job = jobs_of(workflow)[job_id]
        strategy = mapping(job.get("strategy"))
        matrix = mapping(strategy.get("matrix"))
        versions = matrix.get("torch")
        if not isinstance(versions, list) or tuple(str(v) for v in versions) != torch_matrix:
            problems.append(f"jobs.{job_id}.strategy.matrix.torch is {versions!r}, noxfile.py's TORCH_MATRIX is {list(torch_matrix)!r}")
            versions = list(torch_matrix)
        if strategy.get("fail-fast") is not False:
            problems.append(f"jobs.{job_id}.strategy.fail-fast must be false: one torch version failing must not cancel the other")
        for index, step, args in nox_steps(job, "bench_eager"):
            where = step_label(job_id, index, step)
            env = mapping(step.get("env"))
            if "matrix.torch" not in str(env.get("HARNESS_TORCH", "")) and "HARNESS_TORCH=${{ matrix.torch }}" not in str(step.get("run")):
                problems.append(f"{where}: HARNESS_TORCH is not set from matrix.torch, so every leg benches the pinned torch")
            results_dir = option_value(args, "--results-dir")
            if results_dir is None:
                problems.append(f"{where}: no --results-dir, so the upload cannot be checked to take in the results")
                continue
            results_dir = norm(expand_env(results_dir, env))
            uploads = [s for s in steps_of(job)[index + 1 :] if uses_action(s, "actions/upload-artifact")]
            if not uploads:
                problems.append(f"{where}: no actions/upload-artifact step after the bench")
                continue
            upload = uploads[0]
            options = with_of(upload)
            sample = results_dir.replace("${{ matrix.torch }}", str(versions[0])) + "/torch/results.parquet"
            if not path_covers(str(options.get("path", "")), sample):
                problems.append(f"{where}: the results upload path {options.get('path')!r} does not take in {sample}")
            if not is_always(upload.get("if")):
                problems.append(f"{where}: the results upload needs `if: always()` so a failed bench still uploads what it wrote")
            if options.get("if-no-files-found") == "error":
                problems.append(f"{where}: if-no-files-found: error would turn a bench that wrote nothing into a second failure")
            if "matrix.torch" not in str(options.get("name", "")):
                problems.append(f"{where}: artifact name {options.get('name')!r} must contain matrix.torch, or the legs collide")
    return problems


def runner_labels(runs_on: object, variables: dict[str, str]) -> list[str]:
    """The labels a `runs-on:` asks for when the repository variables are `variables` (unset ones are '')."""
    labels = resolve(runs_on, {"vars": variables, "github": {}, "matrix": {}, "inputs": {}})
    flat = [item for part in (labels if isinstance(labels, list) else [labels]) for item in (part if isinstance(part, list) else [part])]
    return [_text(label) for label in flat]


def runner_problems(workflow: Workflow) -> list[str]:
    """The bench runs on a GitHub-hosted runner unless the repository variable BENCH_RUNNER names another one (a label,
    or a JSON list of labels when it starts with `[`): anyone can switch the nightly on, and whoever has a benchmark
    machine can move it there without editing the workflow."""
    bench_ids = find_jobs(workflow, "bench_eager")
    if not bench_ids:
        return ["no job runs `nox -s bench_eager`"]
    problems = []
    cases: list[tuple[str, dict[str, str], list[str]]] = [
        ("with BENCH_RUNNER set to chronos-bench", {RUNNER_VARIABLE: "chronos-bench"}, ["chronos-bench"]),
        ("with BENCH_RUNNER set to a JSON list", {RUNNER_VARIABLE: '["self-hosted", "linux", "chronos-bench"]'}, ["self-hosted", "linux", "chronos-bench"]),
    ]
    for job_id in bench_ids:
        runs_on = jobs_of(workflow)[job_id].get("runs-on")
        where = f"jobs.{job_id}.runs-on {runs_on!r}"
        named = any(
            re.search(rf"\bvars\s*\.\s*{RUNNER_VARIABLE}\b|\bvars\s*\[\s*'{RUNNER_VARIABLE}'\s*\]", expression)
            for _, text in iter_strings(runs_on, where)
            for expression in EXPRESSION.findall(text)
        )
        if not named:
            problems.append(f"{where}: does not read vars.{RUNNER_VARIABLE}, so the bench cannot be moved to a self-hosted runner")
        try:
            default = runner_labels(runs_on, {})
            if not default or not all(HOSTED_LABEL.match(label) for label in default) or "self-hosted" in default:
                problems.append(f"{where}: with {RUNNER_VARIABLE} unset it asks for {default!r}, not a GitHub-hosted runner, so the nightly queues forever where no such runner exists")
            for description, variables, expected in cases:
                labels = runner_labels(runs_on, variables)
                if labels != expected:
                    problems.append(f"{where}: {description} it asks for {labels!r}, expected {expected!r}")
        except (ValueError, TypeError, KeyError, IndexError) as error:  # json.JSONDecodeError is a ValueError
            problems.append(f"{where}: cannot be evaluated: {error}")
    return problems


def upload_names(workflow: Workflow, job_id: str) -> list[str]:
    """The artifact names a matrix job uploads, one per matrix value."""
    job = jobs_of(workflow)[job_id]
    strategy = mapping(job.get("strategy"))
    matrix = mapping(strategy.get("matrix"))
    names = []
    for step in steps_of(job):
        if uses_action(step, "actions/upload-artifact"):
            name = str(with_of(step).get("name", "artifact"))
            for key, values in matrix.items():
                if isinstance(values, list):
                    pattern = re.compile(r"\$\{\{\s*matrix\." + re.escape(str(key)) + r"\s*\}\}")
                    names += [pattern.sub(str(value), name) for value in values]
    return names


def compare_problems(workflow: Workflow) -> list[str]:
    compare_ids = find_jobs(workflow, "compare")
    if not compare_ids:
        return ["no job runs `nox -s compare`"]
    bench_ids = find_jobs(workflow, "bench_eager")
    problems = []
    for job_id in compare_ids:
        job = jobs_of(workflow)[job_id]
        steps = steps_of(job)
        needs = job.get("needs")
        needs = [needs] if isinstance(needs, str) else needs if isinstance(needs, list) else []
        for bench_id in bench_ids:
            if bench_id not in needs:
                problems.append(f"jobs.{job_id}.needs {needs!r} lacks {bench_id!r}: compare would run before the results exist")
            for name in upload_names(workflow, bench_id):
                downloads = [s for s in steps if uses_action(s, "actions/download-artifact")]
                if not any(fnmatch.fnmatchcase(name, str(with_of(s).get("pattern", with_of(s).get("name", "")))) for s in downloads):
                    problems.append(f"jobs.{job_id}: no download-artifact step's pattern/name matches the upload {name!r}")
        if not is_always(job.get("if")):
            problems.append(f"jobs.{job_id}.if must be always() or !cancelled(): compare what was produced even if a bench failed")
        if is_truthy(job.get("continue-on-error")):
            problems.append(f"jobs.{job_id}: continue-on-error would hide a regression")
        downloads = [s for s in steps if uses_action(s, "actions/download-artifact")]
        download_dirs = {norm(str(with_of(s).get("path", "."))) for s in downloads}
        for index, step, args in nox_steps(job, "compare"):
            where = step_label(job_id, index, step)
            if is_truthy(step.get("continue-on-error")):
                problems.append(f"{where}: continue-on-error would let a regression (exit 1) pass the workflow")
            if "--strict" not in (args[args.index("--") + 1 :] if "--" in args else []):
                problems.append(f"{where}: no --strict after `--`, so a result with no baseline or a baseline with no result passes unseen")
            results_dir = option_value(args, "--results-dir")
            if results_dir is None or norm(expand_env(results_dir, mapping(step.get("env")))) not in download_dirs:
                problems.append(f"{where}: --results-dir {results_dir!r} is not where the results were downloaded {sorted(download_dirs)!r}")
        reports = nox_steps(job, "report")
        if not reports:
            problems.append(f"jobs.{job_id}: no step runs `nox -s report`")
        for index, step, args in reports:
            where = step_label(job_id, index, step)
            if not is_always(step.get("if")):
                problems.append(f"{where}: the report needs `if: always()`, a regression is exactly when it is wanted")
            output = option_value(args, "--output")
            uploads = [s for s in steps[index + 1 :] if uses_action(s, "actions/upload-artifact")]
            if output is None:
                problems.append(f"{where}: no --output, so the report upload cannot be checked")
            elif not any(path_covers(str(with_of(s).get("path", "")), norm(output) + "/index.html") and is_always(s.get("if")) for s in uploads):
                problems.append(f"{where}: no later `if: always()` upload-artifact step takes in {output}/")
            history = option_value(args, "--results-dir")
            restores = [s for s in steps[:index] if uses_action(s, "actions/cache/restore")]
            saves = [s for s in steps[index + 1 :] if uses_action(s, "actions/cache/save")]
            if history is not None and not any(norm(str(with_of(s).get("path", ""))) == norm(history) for s in restores):
                problems.append(f"{where}: the report reads {history!r}, which no earlier actions/cache/restore step restores")
            if history is not None and not any(norm(str(with_of(s).get("path", ""))) == norm(history) and is_always(s.get("if")) for s in saves):
                problems.append(f"{where}: no later `if: always()` actions/cache/save step keeps {history!r} for the next run")
    return problems


def unpinned_uses(workflow: Workflow) -> list[str]:
    problems = []
    for job_id, job in jobs_of(workflow).items():
        references = [(f"jobs.{job_id}", job.get("uses"))] + [(step_label(job_id, i, s), s.get("uses")) for i, s in enumerate(steps_of(job))]
        for where, uses in references:
            if uses is None or str(uses).startswith("./"):
                continue
            text = str(uses)
            ok = "@sha256:" in text if text.startswith("docker://") else bool(PINNED_USES.match(text))
            if not ok:
                problems.append(f"{where}: uses {text!r} is pinned neither to a major version (@vN) nor to a commit SHA")
    return problems


def unknown_expression_names(expression: str) -> list[str]:
    """Names in an expression that are neither a known context, a known function nor a literal."""
    code = re.sub(r"'(?:[^']|'')*'", "''", expression)
    unknown = []
    for match in re.finditer(r"(?<![\w.\-])([A-Za-z_][\w-]*)(\s*\()?", code):
        name, call = match.group(1), match.group(2)
        if call:
            if name.lower() not in KNOWN_FUNCTIONS:
                unknown.append(f"{name}()")
        elif name not in KNOWN_CONTEXTS and name.lower() not in LITERALS:
            unknown.append(name)
    return unknown


def job_properties(job: Job) -> dict[str, set[str] | None]:
    """What matrix.X, needs.X and steps.X may name inside a job (None: not knowable, e.g. a fromJSON matrix)."""
    matrix = mapping(job.get("strategy")).get("matrix", {})
    matrix_keys: set[str] | None = None
    if isinstance(matrix, dict):
        includes = matrix.get("include")
        matrix_keys = {str(key) for key in matrix if key not in ("include", "exclude")}
        if isinstance(includes, list):
            matrix_keys |= {str(key) for entry in includes if isinstance(entry, dict) for key in entry}
    needs = job.get("needs")
    return {
        "matrix": matrix_keys,
        "needs": {needs} if isinstance(needs, str) else {str(n) for n in needs} if isinstance(needs, list) else set(),
        "steps": {str(step["id"]) for step in steps_of(job) if "id" in step},
    }


def expression_problems(workflow: Workflow) -> list[str]:
    problems = []
    scopes: list[tuple[str, object, dict[str, set[str] | None]]] = [
        ("workflow", {key: value for key, value in workflow.items() if key != "jobs"}, {"matrix": set(), "needs": set(), "steps": set()})
    ]
    scopes += [(f"jobs.{job_id}", job, job_properties(job)) for job_id, job in jobs_of(workflow).items()]
    for scope, node, known in scopes:
        for location, text in iter_strings(node, scope):
            if "${{" in text and text.count("${{") != len(EXPRESSION.findall(text)):
                problems.append(f"{location}: unterminated ${{{{ in {text!r}")
            for expression in expressions_in(location, text):
                for name in unknown_expression_names(expression):
                    problems.append(f"{location}: ${{{{ {expression} }}}} references {name!r}, not a known context or function")
                code = re.sub(r"'(?:[^']|'')*'", "''", expression)
                for match in re.finditer(r"(?<![\w.\-])(matrix|needs|steps)\s*\.\s*([A-Za-z_][\w-]*)", code):
                    context, name = match.groups()
                    names = known[context]
                    if names is not None and name not in names:
                        problems.append(f"{location}: ${{{{ {expression} }}}} references {context}.{name}, but {context} has only {sorted(names)}")
    return problems


def injection_problems(workflow: Workflow) -> list[str]:
    problems = []
    for job_id, index, step in iter_steps(workflow):
        for expression in EXPRESSION.findall(str(step.get("run", ""))):
            if UNTRUSTED_IN_RUN.search(expression):
                problems.append(f"{step_label(job_id, index, step)}: ${{{{{expression}}}}} in run: is script injection; pass it through env:")
    return problems


def missing_sessions(workflow: Workflow, sessions: set[str]) -> list[str]:
    problems = []
    for job_id, index, step in iter_steps(workflow):
        for args in nox_calls(str(step.get("run", ""))):
            for name in sessions_of(args):
                if name not in sessions:
                    problems.append(f"{step_label(job_id, index, step)}: `nox -s {name}`, but noxfile.py has no @nox.session {name!r}")
    return problems


# ---------------------------------------------------------------------------------------------------------------------
# The tests
# ---------------------------------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def workflow() -> Workflow:
    return load_workflow()


@pytest.fixture(scope="module")
def noxfile_source() -> str:
    return NOXFILE.read_text(encoding="utf-8")


def test_the_trigger_key_is_read_as_on_not_true(workflow: Workflow) -> None:
    raw: dict[object, object] = yaml.safe_load(WORKFLOW.read_text(encoding="utf-8"))
    assert (True in raw) != ("on" in raw), "PyYAML reads a bare `on:` as True (YAML 1.1), a quoted one as 'on': one of them"
    assert isinstance(workflow.get("on"), dict) and len(workflow) == len(raw)


def test_it_runs_nightly_and_by_hand(workflow: Workflow) -> None:
    assert trigger_problems(workflow) == []


@pytest.mark.parametrize("cron", ["17 3 * * *", "0 */6 * * 1-5", "5,35 0-23/2 1 jan,jul SUN", "59 23 31 12 6"])
def test_cron_checker_accepts(cron: str) -> None:
    assert cron_problems(cron) == []


@pytest.mark.parametrize("cron", ["17 3 * *", "61 3 * * *", "17 24 * * *", "0 0 0 * *", "0 0 * 13 *", "0 0 * * 8", "*/0 * * * *", "5-1 * * * *", "x * * * *", 17])
def test_cron_checker_rejects(cron: object) -> None:
    assert cron_problems(cron) != []


def test_it_reads_only_and_never_overlaps_itself(workflow: Workflow) -> None:
    assert workflow.get("permissions") == {"contents": "read"}
    concurrency = workflow.get("concurrency")
    assert isinstance(concurrency, dict) and concurrency.get("group"), "a concurrency group keeps two nightlies off the runner at once"
    assert concurrency.get("cancel-in-progress") is not True, "cancelling a bench half-way wastes the night; queue the next run"
    for job_id, job in jobs_of(workflow).items():
        assert isinstance(job.get("timeout-minutes"), int) and job["timeout-minutes"] > 0, f"jobs.{job_id}: no timeout-minutes"


def test_bench_matrix_is_the_noxfile_matrix(workflow: Workflow, noxfile_source: str) -> None:
    torch_matrix = torch_matrix_from_noxfile(noxfile_source)
    assert torch_matrix, "TORCH_MATRIX is empty"
    matrices = [jobs_of(workflow)[job_id]["strategy"]["matrix"]["torch"] for job_id in find_jobs(workflow, "bench_eager")]
    assert matrices and all(tuple(m) == torch_matrix for m in matrices), f"{matrices} vs TORCH_MATRIX {torch_matrix}"


def test_bench_job_benches_and_always_uploads_its_results(workflow: Workflow, noxfile_source: str) -> None:
    assert bench_problems(workflow, torch_matrix_from_noxfile(noxfile_source)) == []


def test_bench_runs_hosted_by_default_and_where_bench_runner_says(workflow: Workflow) -> None:
    assert runner_problems(workflow) == []
    assert runner_labels(jobs_of(workflow)["bench"]["runs-on"], {}) == ["ubuntu-latest"]


def test_compare_job_gates_and_always_reports(workflow: Workflow) -> None:
    assert compare_problems(workflow) == []


def test_compare_is_strict(workflow: Workflow) -> None:
    calls = [args for job in jobs_of(workflow).values() for _, _, args in nox_steps(job, "compare")]
    assert calls and all("--strict" in args[args.index("--") + 1 :] for args in calls if "--" in args) and all("--" in a for a in calls), calls


def test_every_action_is_pinned(workflow: Workflow) -> None:
    assert unpinned_uses(workflow) == []


def test_expressions_reference_only_known_contexts(workflow: Workflow) -> None:
    assert expression_problems(workflow) == []


def test_no_untrusted_input_is_pasted_into_a_script(workflow: Workflow) -> None:
    assert injection_problems(workflow) == []
    # stricter house rule for this file: scripts take every value through env:, none inline
    inline = [step_label(j, i, s) for j, i, s in iter_steps(workflow) if "${{" in str(s.get("run", ""))]
    assert inline == [], f"pass these through env: instead of ${{{{ }}}} in run: {inline}"


def test_every_nox_session_named_exists(workflow: Workflow, noxfile_source: str) -> None:
    named = {name for _, _, step in iter_steps(workflow) for args in nox_calls(str(step.get("run", ""))) for name in sessions_of(args)}
    assert {"bench_eager", "bench_compiled", "compare", "report"} <= named
    assert missing_sessions(workflow, nox_sessions_from_noxfile(noxfile_source)) == []


def test_noxfile_readers_on_a_sample() -> None:
    source = (
        "import nox\n"
        "TORCH_MATRIX = ('2.1.0', '2.2.0')\n"
        "@nox.session\ndef tests(session): ...\n"
        "@nox.session(default=False)\n@nox.parametrize('torch', ['1'])\ndef bench(session, torch): ...\n"
        "@nox.session(name='docs-build')\ndef docs(session): ...\n"
        "def helper(session): ...\n"
        "@other.session\ndef impostor(session): ...\n"
    )
    assert torch_matrix_from_noxfile(source) == ("2.1.0", "2.2.0")
    assert nox_sessions_from_noxfile(source) == {"tests", "bench", "docs-build"}
    with pytest.raises(AssertionError, match="TORCH_MATRIX"):
        torch_matrix_from_noxfile("MATRIX = ()\n")


@pytest.mark.parametrize(
    ("expression", "variables", "expected"),
    [
        ("vars.R || 'ubuntu-latest'", {}, "ubuntu-latest"),
        ("vars.R || 'ubuntu-latest'", {"R": "box"}, "box"),
        ("vars.R && 'a' || 'b'", {"R": "x"}, "a"),
        ("vars.R && 'a' || 'b'", {}, "b"),
        ("startsWith(vars.R, '[') && fromJSON(vars.R) || vars.R || 'u'", {"R": '["a", "b"]'}, ["a", "b"]),
        ("startsWith(vars.R, '[') && fromJSON(vars.R) || vars.R || 'u'", {"R": "a"}, "a"),
        ("startsWith(vars.R, '[') && fromJSON(vars.R) || vars.R || 'u'", {}, "u"),
        ("!vars.R", {}, True),
        ("vars.R == 'ABC'", {"R": "abc"}, True),
        ("vars['R'] != 'x' && (1 < 2)", {"R": "y"}, True),
        ("format('{0}-{1}', 'a', 'it''s')", {}, "a-it's"),
        ("fromJSON('[1, 2]')[1]", {}, 2),
        ("contains(fromJSON('[\"x\"]'), 'X') || false", {}, True),
        ("'' || 0 || null", {}, None),
        ("false && fromJSON('not json')", {}, False),  # short-circuit: the right side is never evaluated
        ("'a' || fromJSON('not json')", {}, "a"),
    ],
)
def test_expression_evaluator(expression: str, variables: dict[str, str], expected: object) -> None:
    assert evaluate(expression, {"vars": variables}) == expected


def test_resolve_and_runner_labels() -> None:
    assert resolve("results-${{ matrix.torch }}", {"matrix": {"torch": "2.1"}}) == "results-2.1"
    assert runner_labels(["self-hosted", "${{ vars.R || 'x' }}"], {}) == ["self-hosted", "x"]
    with pytest.raises(ValueError, match="not given"):
        evaluate("secrets.TOKEN", {"vars": {}})
    with pytest.raises(ValueError, match="expected more"):
        evaluate("vars.R ||", {"vars": {}})


def test_nox_call_parsing() -> None:
    script = 'cd x && HARNESS_TORCH=1 nox -s bench_eager bench_compiled -- --results-dir "$D" \\\n  --symbol A; .venv/bin/nox --sessions report\n'
    calls = nox_calls(script)
    assert [sessions_of(call) for call in calls] == [["bench_eager", "bench_compiled"], ["report"]]
    assert option_value(calls[0], "--results-dir") == "$D" and expand_env("$D/x", {"D": "out"}) == "out/x"
    assert path_covers("results/", "results/torch-1/a.parquet") and not path_covers("results/*.json", "results/a.parquet")
    assert not path_covers("results/\n!results/torch-1", "results/torch-1/a.parquet")


Mutation = Callable[[Workflow], None]


def _step(workflow: Workflow, job_id: str, predicate: Callable[[Step], bool]) -> Step:
    return next(step for step in steps_of(jobs_of(workflow)[job_id]) if predicate(step))


def _bench_run(wf: Workflow) -> Step:
    return _step(wf, "bench", lambda s: "bench_eager" in str(s.get("run")))


def _bench_upload(wf: Workflow) -> Step:
    return _step(wf, "bench", lambda s: uses_action(s, "actions/upload-artifact"))


def _compare_run(wf: Workflow) -> Step:
    return _step(wf, "compare", lambda s: "nox -s compare" in str(s.get("run")))


def _report_upload(wf: Workflow) -> Step:
    return _step(wf, "compare", lambda s: uses_action(s, "actions/upload-artifact"))


def _download(wf: Workflow) -> Step:
    return _step(wf, "compare", lambda s: uses_action(s, "actions/download-artifact"))


def _cache_save(wf: Workflow) -> Step:
    return _step(wf, "compare", lambda s: uses_action(s, "actions/cache/save"))


def _set(step_of: Callable[[Workflow], Step], key: str, value: object) -> Mutation:
    return lambda wf: step_of(wf).__setitem__(key, value)


def _drop(step_of: Callable[[Workflow], Step], key: str) -> Mutation:
    return lambda wf: step_of(wf).pop(key)


def _with(step_of: Callable[[Workflow], Step], key: str, value: object) -> Mutation:
    return lambda wf: step_of(wf)["with"].__setitem__(key, value)


def _replace_run(step_of: Callable[[Workflow], Step], old: str, new: str) -> Mutation:
    return lambda wf: step_of(wf).__setitem__("run", str(step_of(wf)["run"]).replace(old, new))


def _set_on(key: str, value: object) -> Mutation:
    return lambda wf: wf["on"].__setitem__(key, value)


def _job(job_id: str, key: str, value: object) -> Mutation:
    return lambda wf: jobs_of(wf)[job_id].__setitem__(key, value)


Checker = Callable[[Workflow], list[str]]
SESSIONS = {"bench_eager", "bench_compiled", "compare", "report", "update_baselines"}
MATRIX = ("2.13.0", "2.14.1")
BROKEN: list[tuple[str, Mutation, Checker, str]] = [
    ("bad cron", _set_on("schedule", [{"cron": "17 3 * *"}]), trigger_problems, "expected 5"),
    ("no schedule", lambda wf: wf["on"].pop("schedule"), trigger_problems, "never runs"),
    ("matrix drift", lambda wf: jobs_of(wf)["bench"]["strategy"]["matrix"].__setitem__("torch", ["2.13.0"]), lambda wf: bench_problems(wf, MATRIX), "TORCH_MATRIX"),
    ("fail-fast", lambda wf: jobs_of(wf)["bench"]["strategy"].__setitem__("fail-fast", True), lambda wf: bench_problems(wf, MATRIX), "fail-fast"),
    ("runner fixed to hosted", _job("bench", "runs-on", "ubuntu-latest"), runner_problems, "vars.BENCH_RUNNER"),
    ("runner fixed to self-hosted", _job("bench", "runs-on", ["self-hosted", "linux", "x64", "chronos-bench"]), runner_problems, "not a GitHub-hosted"),
    ("no default runner", _job("bench", "runs-on", "${{ vars.BENCH_RUNNER }}"), runner_problems, "not a GitHub-hosted"),
    ("self-hosted default", _job("bench", "runs-on", "${{ vars.BENCH_RUNNER || 'chronos-bench' }}"), runner_problems, "not a GitHub-hosted"),
    ("variable inverted", _job("bench", "runs-on", "${{ vars.BENCH_RUNNER && 'ubuntu-latest' || 'chronos-bench' }}"), runner_problems, "not a GitHub-hosted"),
    ("variable misspelt", _job("bench", "runs-on", "${{ vars.BENCH_RUNER || 'ubuntu-latest' }}"), runner_problems, "vars.BENCH_RUNNER"),
    ("JSON list ignored", _job("bench", "runs-on", "${{ vars.BENCH_RUNNER || 'ubuntu-latest' }}"), runner_problems, "JSON list"),
    ("JSON always parsed", _job("bench", "runs-on", "${{ fromJSON(vars.BENCH_RUNNER || '\"ubuntu-latest\"') }}"), runner_problems, "cannot be evaluated"),
    ("no HARNESS_TORCH", lambda wf: _bench_run(wf)["env"].pop("HARNESS_TORCH"), lambda wf: bench_problems(wf, MATRIX), "HARNESS_TORCH"),
    ("upload not always", _drop(_bench_upload, "if"), lambda wf: bench_problems(wf, MATRIX), "always()"),
    ("upload misses results", _with(_bench_upload, "path", "logs/"), lambda wf: bench_problems(wf, MATRIX), "does not take in"),
    ("upload name collides", _with(_bench_upload, "name", "results"), lambda wf: bench_problems(wf, MATRIX), "collide"),
    ("no-files error", _with(_bench_upload, "if-no-files-found", "error"), lambda wf: bench_problems(wf, MATRIX), "if-no-files-found"),
    ("compare swallows failure", _set(_compare_run, "continue-on-error", True), compare_problems, "continue-on-error"),
    ("compare job swallows failure", _job("compare", "continue-on-error", True), compare_problems, "continue-on-error"),
    ("compare without needs", lambda wf: jobs_of(wf)["compare"].pop("needs"), compare_problems, "needs"),
    ("compare skipped on failure", lambda wf: jobs_of(wf)["compare"].pop("if"), compare_problems, "!cancelled()"),
    ("pattern mismatch", _with(_download, "pattern", "bench-results-*"), compare_problems, "matches the upload"),
    ("compare reads elsewhere", _replace_run(_compare_run, "--results-dir merged", "--results-dir results"), compare_problems, "--results-dir"),
    ("compare not strict", _replace_run(_compare_run, "--strict ", ""), compare_problems, "--strict"),
    ("strict given to nox", _replace_run(_compare_run, "-s compare -- --strict", "-s compare --strict --"), compare_problems, "--strict"),
    ("report upload not always", _drop(_report_upload, "if"), compare_problems, "upload-artifact"),
    ("report not uploaded", _with(_report_upload, "path", "elsewhere/"), compare_problems, "takes in report"),
    ("history not saved", _drop(_cache_save, "if"), compare_problems, "cache/save"),
    ("unpinned", _set(_download, "uses", "actions/download-artifact@main"), unpinned_uses, "pinned"),
    ("unknown context", _with(_bench_upload, "name", "results-${{ matrx.torch }}"), expression_problems, "matrx"),
    ("unknown function", _job("compare", "if", "${{ alwayz() }}"), expression_problems, "alwayz()"),
    ("bare if", _job("compare", "if", "succes()"), expression_problems, "succes()"),
    ("matrix typo", _with(_bench_upload, "name", "results-${{ matrix.torhc }}"), expression_problems, "matrix.torhc"),
    ("needs typo", _job("compare", "if", "${{ needs.bnech.result == 'success' }}"), expression_problems, "needs.bnech"),
    ("steps typo", _job("compare", "env", {"V": "${{ steps.comapre.outcome }}"}), expression_problems, "steps.comapre"),
    ("injection", _replace_run(_compare_run, "merged", "${{ github.event.inputs.dir }}"), injection_problems, "script injection"),
    ("missing session", _replace_run(_compare_run, "-s compare", "-s compare_all"), lambda wf: missing_sessions(wf, SESSIONS), "compare_all"),
]


@pytest.mark.parametrize(("mutate", "checker", "expected"), [case[1:] for case in BROKEN], ids=[case[0] for case in BROKEN])
def test_checkers_catch_a_broken_workflow(workflow: Workflow, mutate: Mutation, checker: Checker, expected: str) -> None:
    before = checker(workflow)
    broken = copy.deepcopy(workflow)
    mutate(broken)
    new = [problem for problem in checker(broken) if problem not in before]
    assert any(expected in problem for problem in new), f"found only {new} (and, before breaking it, {before})"


def _actionlint() -> str | None:
    beside = Path(sys.executable).parent / "actionlint"
    return str(beside) if beside.is_file() else shutil.which("actionlint")


def test_actionlint_finds_nothing() -> None:
    actionlint = _actionlint()
    if actionlint is None:
        pytest.skip("actionlint is not installed (on PATH or beside the interpreter)")
    result = subprocess.run(
        [actionlint, "-no-color", "-config-file", str(ROOT / ".github" / "actionlint.yaml"), str(WORKFLOW)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, f"actionlint exited {result.returncode}:\n{result.stdout}{result.stderr}"
