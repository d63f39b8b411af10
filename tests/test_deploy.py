"""deploy/ and the guides (docs/) against the code they describe.

Every `chibo …` line is a real command with real options, every /command is in the
bot's command table, every setting name is a setting, the unit files carry their
hardening and agree with the bot's shutdown and exit codes, the proxy examples
publish exactly the webhook, file and web view paths. No network, no systemd needed (only
`systemd-analyze verify` runs when the machine has it).
"""

from __future__ import annotations

import inspect
import re
import shlex
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlparse

import click
import pytest
from click.testing import CliRunner

from bot.app import web
from bot.app.cli import main as chibo_cli
from bot.app.health import HealthRoutes, Heartbeat
from bot.channels import zalo
from bot.core.config import Settings, load_settings
from bot.services.files import PATH as FILES_PATH
from handlers import COMMANDS

ROOT = Path(__file__).resolve().parent.parent
DEPLOY = ROOT / "deploy"
DOCS = ROOT / "docs"
GUIDES = {
    "vi": ("quan-tri.md", "bi-thu.md", "dang-vien.md"),
    "en": ("admin.md", "secretary.md", "member.md"),
}
UNITS = ("chibo.service", "chibo-worker@.service", "chibo-backup.service", "chibo-backup.timer")
CHIBO = "/opt/chibo/venv/bin/chibo"  # where the units and the wrapper expect the program
BACKUPS = "/var/backups/chibo"


def guide_files() -> list[Path]:
    return [*sorted(DOCS.rglob("*.md")), DEPLOY / "README.md"]


def deploy_files() -> list[Path]:
    return sorted(p for p in DEPLOY.rglob("*") if p.is_file() and p.suffix != ".md")


def test_the_guides_exist_and_every_link_resolves() -> None:
    for lang, names in GUIDES.items():
        for name in names:
            assert (DOCS / lang / name).is_file(), f"docs/{lang}/{name} is missing"
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    for name in GUIDES["vi"]:
        assert f"docs/vi/{name}" in readme, f"README.md does not link docs/vi/{name}"
    for path in [*guide_files(), ROOT / "README.md"]:
        for target in re.findall(r"\]\(([^)#\s]+)(?:#[^)]*)?\)", path.read_text(encoding="utf-8")):
            if re.match(r"[a-z]+:", target):
                continue  # https:, mailto:
            assert (path.parent / target).exists(), f"{path.relative_to(ROOT)}: dead link {target}"


# --- `chibo …` command lines ---------------------------------------------------------

SEPARATORS = {";", "&&", "||", "|", "(", ")", "&", "`", "$("}
WRAPPERS = {  # commands that run another one, and their options that take a value
    "sudo": {"-u", "-g", "--user", "--group"},
    "runuser": {"-u", "-g", "--user", "--group"},
    "exec": set(),
    "env": set(),
    "time": set(),
    "nohup": set(),
}
ASSIGNMENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*=")


def chibo_invocations(line: str) -> Iterator[list[str]]:
    """The argument lists of every `chibo` run by one shell command line."""
    lexer = shlex.shlex(line, posix=True, punctuation_chars=";&|()`")
    lexer.whitespace_split = True
    lexer.commenters = "#"
    try:
        tokens = list(lexer)
    except ValueError:  # an unclosed quote: not a shell line
        return
    segment: list[str] = []
    for token in [*tokens, ";"]:
        if token in SEPARATORS or set(token) <= set(";&|()`"):
            yield from _command(segment)
            segment = []
        else:
            segment.append(token)


def _command(tokens: list[str]) -> Iterator[list[str]]:
    i = 0
    while i < len(tokens):
        word = tokens[i]
        if ASSIGNMENT.match(word):
            i += 1
        elif Path(word).name in WRAPPERS:
            takes_value = WRAPPERS[Path(word).name]
            i += 1
            while i < len(tokens) and tokens[i].startswith("-"):
                i += 2 if tokens[i] in takes_value else 1
                if tokens[i - 1] == "--":
                    break
        else:
            break
    if i >= len(tokens):
        return
    name = tokens[i]
    if Path(name).name in ("sh", "bash") and "-c" in tokens[i + 1 :]:
        script = tokens[tokens.index("-c", i) + 1]
        yield from chibo_invocations(script)
    elif name == "chibo" or name.endswith("/bin/chibo"):
        yield tokens[i + 1 :]


def check_invocation(args: list[str], *, complete: bool) -> str | None:
    """None if `chibo ARGS` is a real command line; else what is wrong.

    `complete`: the line is meant to be run as it is, so click parses it whole
    (required options, choices, ranges, extra arguments); otherwise (a command named
    in a sentence) only the subcommands and the option names are checked.
    """
    command: click.Command = chibo_cli
    ctx = click.Context(chibo_cli, info_name="chibo")
    rest = list(args)
    while isinstance(command, click.Group):
        options = _options(command)
        while rest and rest[0].startswith("-"):
            if rest.pop(0).split("=")[0] not in options:
                return f"unknown option of chibo: {args}"
        if not rest or rest[0] in ("…", "$@"):
            return None  # `chibo`, a group alone, `chibo …` or "$@" (any command)
        sub = command.commands.get(rest[0])
        if sub is None:
            return f"no command {rest[0]!r} in chibo {' '.join(args)}"
        command, rest = sub, rest[1:]
    if not complete:
        options = _options(command)
        for word in rest:
            if word.startswith("-") and word.split("=")[0] not in options:
                return f"{command.name} has no option {word}: chibo {' '.join(args)}"
        return None
    try:
        command.make_context(command.name, list(rest), parent=ctx)
    except click.ClickException as exc:
        return f"chibo {' '.join(args)}: {exc.format_message()}"
    return None


def _options(command: click.Command) -> set[str]:
    names = {"--help"}
    for param in command.params:
        if isinstance(param, click.Option):
            names.update(param.opts)
            names.update(param.secondary_opts)
    return names


def shell_lines(path: Path) -> Iterator[tuple[str, bool]]:
    """(command line, complete) pairs that a file asks someone, or systemd, to run."""
    text = path.read_text(encoding="utf-8")
    if path.suffix in (".service", ".timer"):
        for key, value in unit_entries(path):
            if key.startswith("Exec"):
                yield value.lstrip("-@+!:").replace("%%", "%").replace("$$", "$"), True
    elif text.startswith("#!/bin/sh"):
        for line in text.splitlines():
            if not line.lstrip().startswith("#"):
                yield line, True
    if path.suffix == ".md":
        fenced = re.findall(r"^```[a-z]*\n(.*?)^```", text, flags=re.S | re.M)
        for block in fenced:
            for line in block.replace("\\\n", " ").splitlines():
                yield line.lstrip("$ "), True
        text = re.sub(r"^```.*?^```", "", text, flags=re.S | re.M)
    for span in re.findall(r"`([^`\n]+)`", text):
        yield span, False


def walk(command: click.Command) -> Iterator[click.Command]:
    yield command
    if isinstance(command, click.Group):
        for sub in command.commands.values():
            yield from walk(sub)


@pytest.fixture
def paths_need_not_exist(monkeypatch: pytest.MonkeyPatch) -> None:
    """Files named in the guides (backups, CSVs) exist on the server, not here."""
    for command in walk(chibo_cli):
        for param in command.params:
            if isinstance(param.type, click.Path):
                monkeypatch.setattr(param.type, "exists", False)


@pytest.mark.usefixtures("paths_need_not_exist")
def test_every_chibo_command_line_is_a_real_command() -> None:
    problems, seen = [], 0
    for path in [*guide_files(), *deploy_files()]:
        for line, complete in shell_lines(path):
            for args in chibo_invocations(line):
                seen += 1
                problem = check_invocation(args, complete=complete)
                if problem:
                    problems.append(f"{path.relative_to(ROOT)}: {problem}")
    assert not problems, "\n".join(problems)
    assert seen > 50  # the guides are full of commands: the search found them


def test_the_command_check_catches_mistakes() -> None:
    assert (
        check_invocation(["cell", "create", "Chi bộ 1", "--committee", "Đảng bộ"], complete=True)
        is None
    )
    assert check_invocation(["cells", "list"], complete=False)  # no such command
    assert check_invocation(["cell", "create", "Chi bộ 1"], complete=True)  # --committee missing
    assert check_invocation(["invite", "create", "--cel", "1"], complete=False)  # a typo
    assert check_invocation(["invite", "create", "--cell", "1", "--role", "boss"], complete=True)
    assert check_invocation(
        ["export", "--cell", "1", "--year", "26", "--out", "x.csv"], complete=True
    )
    found = list(chibo_invocations("sudo -u chibo psql; sudo DATABASE_URL=x chibo doctor && ls"))
    assert found == [["doctor"]]
    found = list(
        chibo_invocations("/bin/sh -c 'exec /opt/chibo/venv/bin/chibo backup \"/x/$(date)\"'")
    )
    assert found == [["backup", "/x/$(date)"]]


# --- /commands and settings in the guides ------------------------------------------


def http_paths() -> set[str]:
    """Paths of chibo's HTTP server that the guides name (not chat commands)."""
    health = HealthRoutes(None, None, Heartbeat(), 20)  # type: ignore[arg-type]
    paths = {route.path.strip("/") for route in health.routes()} | {FILES_PATH.strip("/")}
    env = env_file(DEPLOY / "chibo.env")
    paths |= {urlparse(env[key]).path.strip("/") for key in ("WEBHOOK_URL", "ZALO_WEBHOOK_URL")}
    return paths


BOTFATHER = {"newbot"}  # Telegram's @BotFather: how the administrator makes the bot
SLASH_COMMAND = re.compile(r"(?<![\w/.:~@<-])/([A-Za-z][A-Za-z_]*)(?![\w/.-])")


def test_every_slash_command_in_the_guides_is_a_bot_command() -> None:
    commands = {c.name for c in COMMANDS}
    not_commands = http_paths() | BOTFATHER
    problems, seen = [], set()
    for path in sorted(DOCS.rglob("*.md")):
        for name in SLASH_COMMAND.findall(path.read_text(encoding="utf-8")):
            seen.add(name)
            if name not in commands and name not in not_commands:
                problems.append(f"{path.relative_to(ROOT)}: /{name} is not a command")
    assert not problems, "\n".join(problems)
    member_guides = (DOCS / "vi" / "dang-vien.md").read_text(encoding="utf-8")
    for name in ("assess", "status", "excuse", "score", "language", "settings"):
        assert f"/{name}" in member_guides, f"the member's page does not explain /{name}"
    assert {"open", "remind", "meeting", "attendance", "confirm", "report"} <= seen


def cli_choices() -> set[str]:
    """Values the CLI takes as choices (an UPPER_CASE one would look like a setting)."""
    found = set()
    for command in walk(chibo_cli):
        for param in command.params:
            if isinstance(param.type, click.Choice):
                found |= {str(getattr(c, "name", c)) for c in param.type.choices}
    return found


def setting_names() -> set[str]:
    names = set()
    for name, field in Settings.model_fields.items():
        names.add(name.upper())
        alias = field.validation_alias
        for choice in getattr(alias, "choices", ()):
            names.add(str(choice).upper())
    return names


OS_NAMES = {"AF_UNIX", "AF_INET", "AF_INET6"}  # systemd's RestrictAddressFamilies=
UPPER_NAME = re.compile(r"\b[A-Z][A-Z0-9]*(?:_[A-Z0-9]+)+\b")


def test_every_setting_named_exists() -> None:
    known = setting_names() | OS_NAMES | cli_choices()
    problems = []
    for path in [*guide_files(), *deploy_files()]:
        for name in set(UPPER_NAME.findall(path.read_text(encoding="utf-8"))):
            if name not in known:
                problems.append(f"{path.relative_to(ROOT)}: {name} is not a setting")
    assert not problems, "\n".join(sorted(problems))


def env_file(path: Path) -> dict[str, str]:
    """NAME=value lines, as systemd's EnvironmentFile= reads this simple form."""
    values = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.lstrip().startswith("#"):
            name, _, value = line.partition("=")
            assert not value.startswith(("'", '"')), f"{path.name}: no quotes, please: {line}"
            values[name.strip()] = value.strip()
    return values


def test_the_servers_settings_file_is_valid(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)  # no stray .env
    values = env_file(DEPLOY / "chibo.env")
    given = {k.lower(): v for k, v in values.items() if v}
    settings = load_settings(_env_file=None, **given)
    assert settings.http_listen == "127.0.0.1"  # loopback, behind the proxy
    assert settings.database_url.startswith("postgresql+asyncpg://")
    assert settings.public_base_url == f"https://{urlparse(settings.webhook_url).hostname}"


# --- unit files --------------------------------------------------------------------


def unit_entries(path: Path, section: str | None = None) -> list[tuple[str, str]]:
    """(key, value) in order, repeated keys kept (systemd's syntax, which configparser
    does not take: repeated keys, values with % and $)."""
    entries, current = [], None
    for raw in path.read_text(encoding="utf-8").splitlines():
        line = raw.strip()
        if not line or line.startswith(("#", ";")):
            continue
        if line.startswith("["):
            assert line.endswith("]"), f"{path.name}: {raw}"
            current = line[1:-1]
            continue
        key, sep, value = line.partition("=")
        assert sep and current, f"{path.name}: not a key=value line in a section: {raw}"
        if section is None or section == current:
            entries.append((key.strip(), value.strip()))
    return entries


def unit(name: str, section: str = "Service") -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for key, value in unit_entries(DEPLOY / name, section):
        found.setdefault(key, []).append(value)
    return found


HARDENING = {
    "User": "chibo",
    "Group": "chibo",
    "EnvironmentFile": "/etc/chibo/chibo.env",
    "WorkingDirectory": "/var/lib/chibo",
    "StateDirectory": "chibo",
    "NoNewPrivileges": "yes",
    "CapabilityBoundingSet": "",
    "AmbientCapabilities": "",
    "ProtectSystem": "strict",
    "ProtectHome": "yes",
    "PrivateTmp": "yes",
    "PrivateDevices": "yes",
    "ProtectKernelTunables": "yes",
    "ProtectKernelModules": "yes",
    "ProtectControlGroups": "yes",
    "RestrictSUIDSGID": "yes",
    "RestrictNamespaces": "yes",
    "LockPersonality": "yes",
    "UMask": "0077",
}


@pytest.mark.parametrize("name", [u for u in UNITS if u.endswith(".service")])
def test_every_service_is_hardened(name: str) -> None:
    service = unit(name)
    for key, value in HARDENING.items():
        assert service.get(key) == [value], (
            f"{name}: {key}={value} expected, not {service.get(key)}"
        )
    assert set(service["RestrictAddressFamilies"][0].split()) == {"AF_UNIX", "AF_INET", "AF_INET6"}
    assert "@system-service" in service["SystemCallFilter"]
    writable = {p for value in service.get("ReadWritePaths", []) for p in value.split()}
    assert writable <= ({BACKUPS} if name == "chibo-backup.service" else set()), name
    for key in ("ExecStart", "ExecStartPre", "ExecStartPost"):
        for line in service.get(key, []):
            program = shlex.split(line.lstrip("-@+!:"))[0]
            assert program in (CHIBO, "/bin/sh", "/usr/bin/find", "/usr/bin/env"), line


def test_the_bot_migrates_then_runs_and_stops_within_its_bound() -> None:
    service = unit("chibo.service")
    assert service["ExecStartPre"] == [f"{CHIBO} migrate"]
    assert service["ExecStart"] == [f"{CHIBO} run"]
    assert service["Restart"] == ["on-failure"]
    # The bot's own bound on shutdown: a Zalo long poll (its request waits the poll's
    # seconds plus 10), the turns in flight, then the HTTP server's grace.
    drain = inspect.signature(zalo.ZaloChannel.drain).parameters["timeout"].default
    bound = zalo.POLL_SECONDS + 10 + drain + web.SHUTDOWN_GRACE
    for name in ("chibo.service", "chibo-worker@.service"):
        stop = unit(name)["TimeoutStopSec"][0]
        assert stop.endswith("s") and int(stop[:-1]) >= bound, f"{name}: {stop} < {bound} s"


def test_restart_is_not_tried_on_the_exit_code_of_a_bad_setting(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(chibo_cli, ["run"], env={"DATABASE_URL": "mysql://nobody"})
    assert "DATABASE_URL" in result.output
    for name in ("chibo.service", "chibo-worker@.service"):
        assert unit(name)["RestartPreventExitStatus"] == [str(result.exit_code)], name


def test_workers_follow_the_bot_each_on_a_port_of_its_own() -> None:
    worker = unit("chibo-worker@.service")
    (line,) = worker["ExecStart"]
    assert list(chibo_invocations(line)) == [["worker"]]
    # Each worker serves /healthz and /metrics: its port comes from the instance name,
    # on the command line, since EnvironmentFile= (HTTP_PORT of the bot) would win over
    # an Environment= line.
    assert shlex.split(line)[:2] == ["/usr/bin/env", "HTTP_PORT=%i"]
    assert "HTTP_PORT" not in " ".join(worker.get("Environment", []))
    head = unit("chibo-worker@.service", "Unit")
    assert "chibo.service" in head["After"][0].split()  # after chibo migrate ran
    assert head["PartOf"] == ["chibo.service"]


def test_the_nightly_backup_is_dated_and_pruned_after_success() -> None:
    backup = unit("chibo-backup.service")
    assert backup["Type"] == ["oneshot"]
    (line,) = backup["ExecStart"]
    (args,) = list(chibo_invocations(line.replace("%%", "%").replace("$$", "$")))
    assert args[0] == "backup" and args[1].startswith(f"{BACKUPS}/chibo-$(date +%Y-%m-%d")
    (prune,) = backup["ExecStartPost"]  # runs only when ExecStart succeeded
    words = shlex.split(prune)
    assert words[:2] == ["/usr/bin/find", BACKUPS] and "-delete" in words
    assert words[words.index("-name") + 1] == "chibo-*.backup"
    assert int(words[words.index("-mtime") + 1].lstrip("+")) >= 7
    timer = unit("chibo-backup.timer", "Timer")
    assert timer["Unit"] == ["chibo-backup.service"] and timer["Persistent"] == ["true"]
    assert timer["OnCalendar"]


def test_the_admin_wrapper_runs_the_services_program_as_its_user() -> None:
    wrapper = DEPLOY / "chibo-cli"
    assert wrapper.stat().st_mode & 0o111, "chibo-cli must be executable"
    text = wrapper.read_text(encoding="utf-8")
    assert f"runuser -u chibo -- {CHIBO}" in text and "cd /var/lib/chibo" in text
    subprocess.run(["sh", "-n", str(wrapper)], check=True)


def test_systemd_analyze_verify(tmp_path: Path) -> None:
    analyze = shutil.which("systemd-analyze")
    if analyze is None:
        pytest.skip("systemd-analyze is not installed here; the units' keys are checked above")
    # verify wants the programs to exist: this test environment's chibo stands in
    here = shutil.which("chibo") or str(Path(sys.executable).parent / "chibo")
    program = here if Path(here).exists() else "/bin/true"
    for name in UNITS:
        text = (DEPLOY / name).read_text(encoding="utf-8").replace(CHIBO, program)
        (tmp_path / name).write_text(text, encoding="utf-8")
    files = [str(tmp_path / n) for n in UNITS if "@" not in n] + [
        str(tmp_path / "chibo-worker@8081.service")
    ]
    (tmp_path / "chibo-worker@8081.service").symlink_to(tmp_path / "chibo-worker@.service")
    done = subprocess.run(
        [analyze, "verify", "--man=no", *files], capture_output=True, text=True, timeout=60
    )
    said = [
        line
        for line in (done.stdout + done.stderr).splitlines()
        if str(tmp_path) in line or "chibo" in line
    ]
    assert done.returncode == 0 and not said, done.stdout + done.stderr


# --- the reverse proxies -----------------------------------------------------------


def proxy_expectations() -> tuple[list[str], list[str]]:
    """Paths the proxy must pass to chibo (webhooks, an extra bot's, a file) and paths it
    must not serve to the public."""
    env = env_file(DEPLOY / "chibo.env")
    hooks = [urlparse(env[k]).path for k in ("WEBHOOK_URL", "ZALO_WEBHOOK_URL")]
    public = [*hooks, *(f"{h}/7" for h in hooks), f"{FILES_PATH}AbCdEfGhIjKlMnOpQr"]
    private = ["/healthz", "/metrics", "/", "/files", "/telegram/x", "/.env"]
    return public, private


# The web view's paths a browser asks for (bot/web/routes.py): a one-time link, the pages,
# the Telegram Mini App and its sign-in; sign-in and sign-out are POSTs.
WEB_PATHS = ("/web/signin/AbCdEfGhIjKl", "/web/", "/web/app", "/web/telegram", "/web/signout")


def test_the_web_paths_are_the_web_views_routes() -> None:
    from starlette.routing import Route

    from bot.web.routes import WebView

    routes = [r for r in WebView.routes(object.__new__(WebView)) if isinstance(r, Route)]
    for path in WEB_PATHS:
        assert any(r.path_regex.match(path) for r in routes), path


def test_nginx_publishes_only_the_webhooks_files_and_web_view() -> None:
    conf = (DEPLOY / "nginx" / "chibo.conf").read_text(encoding="utf-8")
    env = env_file(DEPLOY / "chibo.env")
    assert f"server 127.0.0.1:{env['HTTP_PORT']};" in conf
    assert env["HTTP_PORT"] == str(Settings.model_fields["http_port"].default)
    size = re.search(r"client_max_body_size (\d+)m;", conf)
    assert size and int(size.group(1)) * 1024 * 1024 >= Settings().webhook_max_body_bytes
    locations = dict(re.findall(r"location (~ \S+|/files/|/) \{(.*?)\n    \}", conf, re.S))
    webhook = next(body for loc, body in locations.items() if "telegram" in loc)
    hook_re = next(loc[2:] for loc in locations if "telegram" in loc)
    monitor_re = next(loc[2:] for loc in locations if "healthz" in loc)
    public, private = proxy_expectations()
    for path in public:
        served = re.match(hook_re, path) or path.startswith(FILES_PATH)
        assert served, f"nginx does not pass {path}"
    for path in private:
        assert not re.match(hook_re, path) and not path.startswith(FILES_PATH), path
    assert "limit_except POST" in webhook and "limit_except GET" in locations[FILES_PATH]
    assert "access_log off" in locations[FILES_PATH]  # the token is the only key
    assert all(re.match(monitor_re, p) for p in ("/healthz", "/metrics"))
    monitor = next(body for loc, body in locations.items() if "healthz" in loc)
    assert "allow 127.0.0.1;" in monitor and monitor.strip().count("deny all;") == 1
    assert "return 404" in locations["/"]
    web_view = re.search(r"location /web/ \{(.*?)\n    \}", conf, re.S)
    assert web_view, "nginx does not pass the web view /web/"
    assert "limit_except GET POST" in web_view.group(1)  # sign-in and sign-out are forms
    assert all(p.startswith("/web/") for p in WEB_PATHS)


def test_caddy_publishes_only_the_webhooks_files_and_web_view() -> None:
    conf = (DEPLOY / "Caddyfile").read_text(encoding="utf-8")
    hook_re = re.search(r"@webhook \{\s*method POST\s*path_regexp (\S+)", conf)
    assert hook_re
    assert re.search(r"@files \{\s*method GET HEAD\s*path /files/\*", conf)
    monitor = re.search(r"@monitor \{\s*path /healthz /metrics\s*remote_ip ([^\n]+)", conf)
    assert monitor and "127.0.0.1" in monitor.group(1).split()
    public, private = proxy_expectations()
    for path in public:
        assert re.match(hook_re.group(1), path) or path.startswith(FILES_PATH), path
    for path in private:
        assert not re.match(hook_re.group(1), path), path
    web_view = re.search(r"@web \{\s*method ([^\n]+)\s*path /web/\*", conf)
    assert web_view and {"GET", "POST"} <= set(web_view.group(1).split())
    assert all(p.startswith("/web/") for p in WEB_PATHS)
    assert conf.count("reverse_proxy 127.0.0.1:8080") == 4
    assert re.search(r"handle \{\s*respond 404", conf)
