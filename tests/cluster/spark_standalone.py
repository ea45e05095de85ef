"""A real Spark standalone cluster (one master, N workers) on 127.0.0.1, from the pyspark distribution in the venv.

pyspark's pip package ships ``bin/spark-class`` and the jars but not ``sbin/start-master.sh``/``start-worker.sh``, so
the daemons are started directly (``spark-class org.apache.spark.deploy.master.Master`` / ``...worker.Worker``), each
in its own process group (executors the workers launch are in the worker's group), on free loopback ports, with their
logs, work dirs (executor stdout/stderr per application) and local dirs under one base directory.

Used three ways:

* as a context manager by the tests (``with StandaloneCluster(base, workers=2) as c: ... c.master_url``): stopped on
  exit, also when the body fails;
* from the command line by ``bin/spark-standalone start|status|stop`` (state in ``<base>/cluster.json``);
* by ``bin/bench-cluster`` through that script.

Every wait is bounded (``TimeoutError`` with the log tails); ``stop`` sends SIGTERM to each daemon's process group,
then SIGKILL after a grace period, and only ever signals the processes this module started.
"""

from __future__ import annotations

import argparse
import atexit
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

HOST = "127.0.0.1"
STATE_FILE = "cluster.json"


def pyspark_home() -> Path:
    """The pyspark package directory (a Spark distribution: ``bin/``, ``jars/``), of this Python's pyspark."""
    import pyspark

    home = Path(pyspark.__file__).resolve().parent
    if not (home / "bin" / "spark-class").is_file():
        raise RuntimeError(f"{home}/bin/spark-class not found: is pyspark installed (airflow/requirements.txt)?")
    return home


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


def get_json(url: str, timeout: float = 5.0):
    with urllib.request.urlopen(url, timeout=timeout) as r:  # noqa: S310 (loopback URL built here)
        return json.loads(r.read().decode("utf-8"))


def _tail(path: Path, n: int = 40) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-n:])
    except OSError:
        return "(no log)"


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _is_spark_daemon(pid: int) -> bool:
    """True if ``pid`` still is a Spark deploy daemon (guards against signalling a recycled pid)."""
    try:
        cmd = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return False
    return "org.apache.spark.deploy." in cmd


class StandaloneCluster:
    """Master + ``workers`` workers (``cores`` cores, ``memory`` each) on 127.0.0.1 under ``base``."""

    def __init__(self, base: Path | str, workers: int = 2, cores: int = 1, memory: str = "2g",
                 daemon_memory: str = "512m", spark_home: Path | str | None = None):
        self.base = Path(base).resolve()
        self.workers = workers
        self.cores = cores
        self.memory = memory
        self.daemon_memory = daemon_memory
        self.spark_home = Path(spark_home) if spark_home else pyspark_home()
        self.master_port = 0
        self.master_ui_port = 0
        self.worker_ui_ports: list[int] = []
        self.procs: list[dict] = []  # {"name", "pid", "log"}

    # ---- addresses -------------------------------------------------------------------------------------------
    @property
    def master_url(self) -> str:
        return f"spark://{HOST}:{self.master_port}"

    @property
    def master_ui(self) -> str:
        return f"http://{HOST}:{self.master_ui_port}"

    def worker_dir(self, i: int) -> Path:
        return self.base / f"worker-{i}" / "work"

    def master_state(self) -> dict:
        """The master's JSON API (``/json/``): workers, aliveworkers, activeapps, completedapps, status."""
        return get_json(self.master_ui + "/json/")

    def worker_state(self, i: int) -> dict:
        """Worker ``i``'s JSON API: executors, finishedexecutors (with appid), cores, memory."""
        return get_json(f"http://{HOST}:{self.worker_ui_ports[i]}/json/")

    # ---- lifecycle -------------------------------------------------------------------------------------------
    def env(self) -> dict[str, str]:
        env = dict(os.environ)
        env.pop("SPARK_HOME", None)
        env.update({
            "SPARK_HOME": str(self.spark_home),
            "SPARK_LOCAL_IP": HOST,
            "SPARK_CONF_DIR": str(self.base / "conf"),  # empty: no stray spark-defaults/spark-env
            "SPARK_DAEMON_MEMORY": self.daemon_memory,
            "SPARK_LOCAL_DIRS": str(self.base / "local"),
            "SPARK_LOG_DIR": str(self.base / "logs"),
            # the REST submission server (6066) is not needed; keep everything but the ports below closed
            "SPARK_MASTER_OPTS": "-Dspark.master.rest.enabled=false",
            "ORT_DISABLE_TELEMETRY": "1",
        })
        return env

    def _spawn(self, name: str, args: list[str]) -> None:
        log = self.base / "logs" / f"{name}.log"
        with open(log, "ab") as out:
            p = subprocess.Popen([str(self.spark_home / "bin" / "spark-class"), *args], stdout=out,
                                 stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, env=self.env(),
                                 cwd=self.base, start_new_session=True)
        self.procs.append({"name": name, "pid": p.pid, "log": str(log)})
        self._popen = getattr(self, "_popen", {})
        self._popen[p.pid] = p
        self.save()

    def _check_running(self) -> None:
        for p in self.procs:
            po = getattr(self, "_popen", {}).get(p["pid"])
            dead = (po.poll() is not None) if po else not _alive(p["pid"])
            if dead:
                raise RuntimeError(f"{p['name']} (pid {p['pid']}) exited; log tail:\n{_tail(Path(p['log']))}")

    def _wait(self, what: str, cond, timeout: float) -> dict:
        deadline = time.monotonic() + timeout
        last: object = None
        while time.monotonic() < deadline:
            self._check_running()
            try:
                state = self.master_state()
                if cond(state):
                    return state
                last = state
            except OSError as e:  # not listening yet
                last = e
            time.sleep(1)
        logs = "\n".join(f"--- {p['name']} ---\n{_tail(Path(p['log']))}" for p in self.procs)
        raise TimeoutError(f"{what} not reached in {timeout:.0f}s (last: {last})\n{logs}")

    def start(self, timeout: float = 180) -> "StandaloneCluster":
        for d in ("conf", "logs", "local"):
            (self.base / d).mkdir(parents=True, exist_ok=True)
        try:
            self.master_port, self.master_ui_port = free_port(), free_port()
            self._spawn("master", ["org.apache.spark.deploy.master.Master", "--host", HOST,
                                   "--port", str(self.master_port), "--webui-port", str(self.master_ui_port)])
            self._wait("master ALIVE", lambda s: s.get("status") == "ALIVE", timeout)
            for i in range(self.workers):
                ui = free_port()
                self.worker_ui_ports.append(ui)
                self.worker_dir(i).mkdir(parents=True, exist_ok=True)
                self._spawn(f"worker-{i}", ["org.apache.spark.deploy.worker.Worker", "--host", HOST,
                                            "--port", str(free_port()), "--webui-port", str(ui),
                                            "--cores", str(self.cores), "--memory", self.memory,
                                            "--work-dir", str(self.worker_dir(i)), self.master_url])
            self.wait_workers(self.workers, timeout)
        except BaseException:
            self.stop()
            raise
        return self

    def wait_workers(self, n: int, timeout: float = 180) -> dict:
        """Waits until the master lists ``n`` ALIVE workers with their cores; returns the master state."""
        return self._wait(f"{n} ALIVE workers",
                          lambda s: len([w for w in s.get("workers", []) if w.get("state") == "ALIVE"]) >= n,
                          timeout)

    def wait_app_finished(self, app_name: str, timeout: float = 60) -> dict:
        """The master's completed-application entry named ``app_name`` (waits for it, bounded)."""
        state = self._wait(f"application {app_name} FINISHED",
                           lambda s: any(a.get("name") == app_name and a.get("state") == "FINISHED"
                                         for a in s.get("completedapps", [])), timeout)
        return next(a for a in state["completedapps"] if a.get("name") == app_name)

    def stop(self, grace: float = 20) -> None:
        """SIGTERM every daemon's process group (workers first, their executors with them), SIGKILL what is left."""
        for p in reversed(self.procs):
            if _alive(p["pid"]) and (p["pid"] in getattr(self, "_popen", {}) or _is_spark_daemon(p["pid"])):
                try:
                    os.killpg(p["pid"], signal.SIGTERM)
                except ProcessLookupError:
                    pass
        deadline = time.monotonic() + grace
        for p in self.procs:
            po = getattr(self, "_popen", {}).get(p["pid"])
            while time.monotonic() < deadline and ((po.poll() is None) if po else _alive(p["pid"])):
                time.sleep(0.2)
        for p in self.procs:
            try:
                os.killpg(p["pid"], signal.SIGKILL)  # the group: also executors a dying worker left behind
            except (ProcessLookupError, PermissionError):
                pass
            po = getattr(self, "_popen", {}).get(p["pid"])
            if po:
                try:
                    po.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    pass
        self.procs = []
        self.save()

    def __enter__(self) -> "StandaloneCluster":
        atexit.register(self.stop)  # also if the interpreter exits without unwinding the with-block
        return self.start()

    def __exit__(self, *exc) -> None:
        atexit.unregister(self.stop)
        self.stop()

    # ---- state for the command line ----------------------------------------------------------------------------
    def save(self) -> None:
        self.base.mkdir(parents=True, exist_ok=True)
        (self.base / STATE_FILE).write_text(json.dumps({
            "master_url": self.master_url, "master_ui": self.master_ui, "master_port": self.master_port,
            "master_ui_port": self.master_ui_port, "worker_ui_ports": self.worker_ui_ports,
            "workers": self.workers, "cores": self.cores, "memory": self.memory, "procs": self.procs,
            "spark_home": str(self.spark_home)}, indent=2) + "\n")

    @classmethod
    def load(cls, base: Path | str) -> "StandaloneCluster":
        st = json.loads((Path(base) / STATE_FILE).read_text())
        c = cls(base, st["workers"], st["cores"], st["memory"], spark_home=st["spark_home"])
        c.master_port, c.master_ui_port = st["master_port"], st["master_ui_port"]
        c.worker_ui_ports, c.procs = st["worker_ui_ports"], st["procs"]
        return c


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="spark-standalone", description=__doc__.split("\n\n")[0])
    ap.add_argument("action", choices=["start", "status", "stop"])
    ap.add_argument("--dir", required=True, help="base directory: logs, worker dirs, cluster.json")
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--cores", type=int, default=1, help="cores per worker")
    ap.add_argument("--memory", default="2g", help="memory per worker (executors' total)")
    ap.add_argument("--timeout", type=float, default=180)
    a = ap.parse_args(argv)
    base = Path(a.dir)
    if a.action == "start":
        if (base / STATE_FILE).is_file() and StandaloneCluster.load(base).procs:
            print(f"spark-standalone: a cluster is already recorded in {base / STATE_FILE}; stop it first",
                  file=sys.stderr)
            return 2
        c = StandaloneCluster(base, a.workers, a.cores, a.memory).start(a.timeout)
        print(c.master_url)
        print(f"master UI {c.master_ui} (JSON: {c.master_ui}/json/), {a.workers} workers x {a.cores} core(s), "
              f"{a.memory}; logs {base / 'logs'}", file=sys.stderr)
        return 0
    if not (base / STATE_FILE).is_file():
        print(f"spark-standalone: no cluster recorded in {base}", file=sys.stderr)
        return 0 if a.action == "stop" else 1
    c = StandaloneCluster.load(base)
    if a.action == "status":
        try:
            s = c.master_state()
        except OSError as e:
            print(f"spark-standalone: master UI {c.master_ui} not answering: {e}", file=sys.stderr)
            return 1
        print(json.dumps({"url": s.get("url"), "status": s.get("status"), "aliveworkers": s.get("aliveworkers"),
                          "activeapps": [a.get("id") for a in s.get("activeapps", [])],
                          "completedapps": [a.get("id") for a in s.get("completedapps", [])]}, indent=2))
        return 0
    c.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
