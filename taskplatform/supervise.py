"""`make run`: the Procfile's processes under supervisord, each started again if it dies.

    python -m taskplatform.supervise --port 8000

Writes `var/supervisord.conf` with one program per Procfile line (the Procfile stays the one
list of processes: production runs the same lines) and replaces itself with `supervisord -n`.
supervisord (a dependency of `make run` only) starts every process, sends its output to
this console, and starts a process that exits again a second later (one log line: `WARN
exited: worker (terminated by SIGKILL; not expected)`, then `spawned`), while the others
keep serving; Ctrl-C stops them all (SIGTERM, then SIGKILL after 30 s). honcho, used
before, stops everything when one process ends.

As with honcho, `.env` has the last word on the processes' environment, and the web process
gets PORT.
"""

from __future__ import annotations

import argparse
import getpass
import os
import shutil
import sys
from pathlib import Path

import environ

ROOT = Path(__file__).resolve().parent.parent

SUPERVISORD = """\
[supervisord]
nodaemon=true
user={user}
logfile={var}/supervisord.log
logfile_maxbytes=10MB
logfile_backups=1
pidfile={var}/supervisord.pid
childlogdir={var}
"""

PROGRAM = """
[program:{name}]
command={command}
directory={root}
environment={environment}
autorestart=true
startsecs=1
startretries=10
stopsignal=TERM
stopwaitsecs=30
killasgroup=true
redirect_stderr=true
stdout_logfile=/dev/stdout
stdout_logfile_maxbytes=0
"""


def procfile(path: Path) -> dict[str, str]:
    """The Procfile's `name: command` lines, in order."""
    processes = {}
    for line in path.read_text().splitlines():
        if line.strip() and not line.lstrip().startswith("#"):
            name, command = line.split(":", 1)
            processes[name.strip()] = command.strip()
    return processes


def config(processes: dict[str, str], *, var: Path, port: int) -> str:
    """supervisord's configuration for `processes`; the first (web) listens on `port`."""
    text = SUPERVISORD.format(user=getpass.getuser(), var=_literal(var))
    for index, (name, command) in enumerate(processes.items()):
        # PORT as honcho gives it: the first process gets the port, each next one 100 more
        environment = f'PORT="{port + 100 * index}"'
        text += PROGRAM.format(
            name=name, command=_literal(command), root=_literal(ROOT), environment=environment
        )
    return text


def _literal(value: object) -> str:
    return str(value).replace("%", "%%")  # supervisord expands %(name)s in its values


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=8000, help="the web process's port")
    parser.add_argument("--procfile", type=Path, default=ROOT / "Procfile")
    args = parser.parse_args()
    dotenv = ROOT / ".env"
    if dotenv.exists():  # honcho's rule: .env wins over the shell's environment
        environ.Env.read_env(dotenv, overwrite=True)
    var = Path(os.environ.get("VAR_DIR") or ROOT / "var").resolve()
    var.mkdir(parents=True, exist_ok=True)
    conf = var / "supervisord.conf"
    conf.write_text(config(procfile(args.procfile), var=var, port=args.port))
    supervisord = shutil.which("supervisord") or sys.exit("supervisord is not installed")
    # this process becomes supervisord: Ctrl-C reaches it, and it stops the others
    os.execv(supervisord, [supervisord, "-n", "-c", str(conf)])  # noqa: S606


if __name__ == "__main__":
    main()
