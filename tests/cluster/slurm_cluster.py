"""A one-node SLURM cluster on this machine, for tests: Debian's `slurmctld slurmd slurm-client
munge` (installed when missing), a `slurm.conf` written from `slurmd -C`, munged, slurmctld and
slurmd started without systemd and stopped by their pid files.

Everything but `slurm.conf` and `gres.conf` lives in a private folder (state, spool, logs, pid
files, the munge key and socket, the job completion log). Those two must sit at Slurm's default
path, /etc/slurm: the SLURM executor's jobstep drops every `SLURM_*` variable, `SLURM_CONF`
included, before its `srun` inside the job, so a `srun` there only finds the default path. The
files carry a marker line; a `slurm.conf` without it (a real installation) is never touched, and
one with it (left by a killed test run) is cleaned up first, its daemons stopped by their pid
files. A file lock keeps two test runs on one machine from sharing /etc/slurm.

The node is the machine scaled to the profile (`SlurmdParameters=config_overrides`): `CPUs` and
`RealMemory` are the largest request of one job (8 CPUs, 16000 MB in workflow/profiles/slurm)
times the machine's cores, so the shipped requests are accepted and as many jobs run at once as
there are cores; two GPUs of type `testgpu` are declared as `gres/gpu` backed by /dev/null and
/dev/zero, so that `--gpus=...` is scheduled as on a GPU site while the jobs compute on the CPU.
The one partition is not the default one: a run names it, as on a site. No accounting database (`sacct` answers "accounting storage is disabled", as on many small sites);
finished jobs are recorded by `jobcomp/filetxt` (kept with the daemons' logs) and stay visible to
`scontrol show job` for 15 minutes.
"""

from __future__ import annotations

import fcntl
import os
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

PACKAGES = ("slurmctld", "slurmd", "slurm-client", "munge")
BINARIES = ("slurmctld", "slurmd", "sbatch", "squeue", "scancel", "scontrol", "sinfo", "munged")
ETC = Path("/etc/slurm")
MARKER = "# written by the isdarts test cluster (tests/cluster/slurm_cluster.py)"
LOCK = Path(tempfile.gettempdir()) / "isdarts-slurm-cluster.lock"
# /dev/null and /dev/zero: character devices every machine has, one per declared GPU.
GPU_FILES = ("/dev/null", "/dev/zero")


class Unavailable(Exception):
    """The cluster cannot run here; the message is the one-line reason."""


def _run(*args: str, timeout: float = 60, **kw) -> subprocess.CompletedProcess:
    return subprocess.run(args, capture_output=True, text=True, timeout=timeout, **kw)


def missing_binaries() -> list[str]:
    return [b for b in BINARIES if shutil.which(b) is None]


def install() -> float:
    """Install the Debian packages if a binary is missing; returns the seconds it took."""
    if not missing_binaries():
        return 0.0
    if shutil.which("apt-get") is None:
        raise Unavailable(f"{', '.join(missing_binaries())} not installed and no apt-get")
    start = time.perf_counter()
    # The packages' maintainer scripts would start munge, slurmctld and slurmd through their
    # init scripts: deny that for the install (Debian's policy-rc.d), the test starts its own.
    policy = Path("/usr/sbin/policy-rc.d")
    own_policy = not policy.exists()
    if own_policy:
        policy.write_text("#!/bin/sh\n# isdarts tests/cluster: no service starts\nexit 101\n")
        policy.chmod(0o755)
    try:
        return _apt_install(start)
    finally:
        if own_policy:
            policy.unlink(missing_ok=True)


def _apt_install(start: float) -> float:
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    cmd = [
        "apt-get",
        "install",
        "-y",
        "-q",
        "--no-install-recommends",
        "-o",
        "DPkg::Lock::Timeout=300",
        *PACKAGES,
    ]
    proc = _run(*cmd, timeout=600, env=env)
    if proc.returncode != 0:  # a clean machine may have no package lists yet
        _run("apt-get", "update", "-q", timeout=600, env=env)
        proc = _run(*cmd, timeout=600, env=env)
    if proc.returncode != 0 or missing_binaries():
        last = (proc.stderr or proc.stdout).strip().splitlines()[-1:] or ["?"]
        raise Unavailable(f"apt-get install {' '.join(PACKAGES)} failed: {last[0]}")
    return time.perf_counter() - start


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("", 0))
        return s.getsockname()[1]


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _stop_pid_file(pid_file: Path, name: str, timeout: float = 15) -> None:
    """SIGTERM the daemon named in `pid_file` (only if that pid still runs `name`), wait for it,
    SIGKILL it if it outlives `timeout`."""
    try:
        pid = int(pid_file.read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return
    try:
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")[0].decode()
    except OSError:
        return
    if Path(cmdline).name != name:
        return  # the pid was reused by another process: not ours
    os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + timeout
    while _pid_alive(pid) and time.monotonic() < deadline:
        time.sleep(0.1)
    if _pid_alive(pid):
        os.kill(pid, signal.SIGKILL)


def _conf_value(text: str, key: str) -> str | None:
    m = re.search(rf"^{key}=(\S+)", text, re.M)
    return m[1] if m else None


@dataclass
class Cluster:
    """A started one-node cluster; `stop()` (or the context manager) takes it down."""

    root: Path
    cpus_per_job: int
    mem_mb_per_job: int
    node: str = ""
    # Not the default partition, and typed GPUs: a run must pass the site settings the README
    # names (--default-resources slurm_partition=... gpu_model=...), as on a real site.
    partition: str = "isdarts"
    gpu_type: str = "testgpu"
    cores: int = 1
    logs: list[Path] = field(default_factory=list)
    install_seconds: float = 0.0
    _lock_fd: int | None = None

    @property
    def jobcomp(self) -> Path:
        return self.root / "jobcomp.txt"

    # -- life cycle ------------------------------------------------------------------------

    def start(self, lock_timeout: float = 900) -> None:
        """Install (under the lock: one apt-get and one policy-rc.d at a time), configure,
        start; raises Unavailable with the reason where this machine cannot."""
        self._lock(lock_timeout)
        try:
            self.install_seconds = install()
            self._clean_stale()
            self._write_config()
            self._start_daemons()
        except BaseException:
            self.stop()
            raise

    def stop(self) -> None:
        """Cancel what is still queued or running, stop slurmd, slurmctld and munged by their
        pid files, remove the /etc/slurm files and the private folder, release the lock."""
        try:
            if (self.root / "slurmctld.pid").is_file():
                self._cancel_all()
            for daemon in ("slurmd", "slurmctld", "munged"):
                _stop_pid_file(self.root / f"{daemon}.pid", daemon)
            for name in ("slurm.conf", "gres.conf"):
                path = ETC / name
                if path.is_file() and path.read_text().startswith(MARKER):
                    path.unlink()
            shutil.rmtree(self.root, ignore_errors=True)
        finally:
            if self._lock_fd is not None:
                os.close(self._lock_fd)  # releases the flock
                self._lock_fd = None

    def __enter__(self) -> Cluster:
        self.start()
        return self

    def __exit__(self, *exc) -> None:
        self.stop()

    def _lock(self, timeout: float) -> None:
        fd = os.open(LOCK, os.O_RDWR | os.O_CREAT, 0o644)
        deadline = time.monotonic() + timeout
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() > deadline:
                    os.close(fd)
                    raise Unavailable(
                        f"another test run held the one-node cluster ({LOCK}) for {timeout:.0f} s"
                    ) from None
                time.sleep(1)
        self._lock_fd = fd

    def _clean_stale(self) -> None:
        """A marked slurm.conf left by a killed run: stop its daemons, remove it and its folder.
        An unmarked one belongs to a real installation: refuse."""
        conf = ETC / "slurm.conf"
        if not conf.is_file():
            return
        text = conf.read_text()
        if not text.startswith(MARKER):
            raise Unavailable(f"{conf} exists and was not written by this test: not touching it")
        state = _conf_value(text, "StateSaveLocation")
        if state:
            old = Path(state).parent
            for daemon in ("slurmd", "slurmctld", "munged"):
                _stop_pid_file(old / f"{daemon}.pid", daemon)
            if old.name.startswith("isdarts-slurm-"):
                shutil.rmtree(old, ignore_errors=True)
        conf.unlink()
        (ETC / "gres.conf").unlink(missing_ok=True)

    def _write_config(self) -> None:
        # slurmd -C: this machine's node line (name, cores, memory)
        proc = _run("slurmd", "-C")
        hw = dict(re.findall(r"(\w+)=(\S+)", proc.stdout))
        if proc.returncode != 0 or "NodeName" not in hw:
            raise Unavailable(f"slurmd -C failed: {(proc.stderr or proc.stdout).strip()[:200]}")
        self.node = hw["NodeName"]
        self.cores = int(hw.get("CPUs", "1"))
        for sub in ("state", "spool"):
            (self.root / sub).mkdir(parents=True, exist_ok=True)
        self.root.chmod(0o755)  # munged wants its socket's folders searchable by all
        key = self.root / "munge.key"
        key.write_bytes(os.urandom(1024))
        key.chmod(0o600)
        r = self.root
        lines = [
            MARKER,
            f"# private folder: {r}; removed when the test ends",
            "ClusterName=isdartstest",
            # by address: the machine's name need not resolve
            f"SlurmctldHost={self.node}(127.0.0.1)",
            f"SlurmctldPort={_free_port()}",
            f"SlurmdPort={_free_port()}",
            "SlurmUser=root",
            "SlurmdUser=root",
            "AuthType=auth/munge",
            "CredType=cred/munge",
            f"AuthInfo=socket={r}/munge.socket",
            f"StateSaveLocation={r}/state",
            f"SlurmdSpoolDir={r}/spool",
            f"SlurmctldPidFile={r}/slurmctld.pid",
            f"SlurmdPidFile={r}/slurmd.pid",
            f"SlurmctldLogFile={r}/slurmctld.log",
            f"SlurmdLogFile={r}/slurmd.log",
            # no cgroups (containers): processes tracked by parent pid, no CPU binding
            "ProctrackType=proctrack/linuxproc",
            "TaskPlugin=task/none",
            "JobAcctGatherType=jobacct_gather/none",
            "MpiDefault=none",
            # no accounting database; finished jobs go to a text file
            "AccountingStorageType=accounting_storage/none",
            "JobCompType=jobcomp/filetxt",
            f"JobCompLoc={r}/jobcomp.txt",
            "SelectType=select/cons_tres",
            "SelectTypeParameters=CR_CPU_Memory",
            "SlurmdParameters=config_overrides",
            "ReturnToService=2",
            # finished jobs stay visible to squeue/scontrol for 15 min (Slurm's default: 5),
            # so that the test can read what each job was given after the workflow ended
            "MinJobAge=900",
            "GresTypes=gpu",
            f"NodeName={self.node} NodeAddr=127.0.0.1 CPUs={self.cpus_per_job * self.cores}"
            f" RealMemory={self.mem_mb_per_job * self.cores}"
            f" Gres=gpu:{self.gpu_type}:{len(GPU_FILES)} State=UNKNOWN",
            f"PartitionName={self.partition} Nodes={self.node} Default=NO MaxTime=INFINITE"
            " State=UP",
        ]
        ETC.mkdir(parents=True, exist_ok=True)
        (ETC / "slurm.conf").write_text("\n".join(lines) + "\n")
        gres = [MARKER] + [
            f"NodeName={self.node} Name=gpu Type={self.gpu_type} File={f}" for f in GPU_FILES
        ]
        (ETC / "gres.conf").write_text("\n".join(gres) + "\n")
        self.logs = [r / "slurmctld.log", r / "slurmd.log", r / "munged.log"]

    def _start_daemons(self) -> None:
        r = self.root
        steps = [
            (
                "munged",
                f"--key-file={r}/munge.key",
                f"--socket={r}/munge.socket",
                f"--pid-file={r}/munged.pid",
                f"--log-file={r}/munged.log",
                f"--seed-file={r}/munged.seed",
            ),
            ("slurmctld",),
            ("slurmd",),
        ]
        for cmd in steps:  # each forks into the background once it is up
            proc = _run(*cmd, timeout=60)
            if proc.returncode != 0:
                raise RuntimeError(f"{cmd[0]} did not start: {proc.stderr.strip()}\n{self.tail()}")
        started = time.monotonic()
        state = ""
        while time.monotonic() < started + 60:
            for daemon in ("munged", "slurmctld", "slurmd"):
                if self._alive(daemon) is False or (
                    self._alive(daemon) is None and time.monotonic() > started + 10
                ):
                    raise RuntimeError(f"{daemon} exited after starting\n{self.tail()}")
            state = _run("sinfo", "-h", "-n", self.node, "-o", "%T").stdout.strip()
            if state == "idle":
                return
            time.sleep(0.3)
        raise RuntimeError(f"node {self.node} is '{state}', not idle, after 60 s\n{self.tail()}")

    def _alive(self, daemon: str) -> bool | None:
        """Whether the daemon of the pid file runs; None while it has written no pid file."""
        try:
            return _pid_alive(int((self.root / f"{daemon}.pid").read_text().split()[0]))
        except (OSError, ValueError, IndexError):
            return None

    def _cancel_all(self) -> None:
        _run("scancel", "--full", "--user", "root", timeout=30)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            out = _run("squeue", "-h", "-o", "%i", "-t", "PD,R,CG,S", timeout=30).stdout
            if not out.strip():
                return
            time.sleep(0.5)

    # -- inspection ------------------------------------------------------------------------

    def tail(self, lines: int = 15) -> str:
        out = []
        for log in self.logs:
            if log.is_file():
                text = log.read_text(errors="replace").splitlines()[-lines:]
                out.append(f"--- {log.name}\n" + "\n".join(text))
        return "\n".join(out)

    def job(self, job_id: int) -> dict[str, str]:
        """`scontrol show job` of a job slurmctld still knows (MinJobAge): JobState, NumCPUs,
        MinMemoryNode, TresPerJob, TimeLimit, Partition, Comment, ..."""
        out = _run("scontrol", "show", "job", "-o", str(job_id)).stdout
        return dict(re.findall(r"(\w+)=(\S*)", out))

    def queue(self) -> dict[int, tuple[str, str]]:
        """Jobs slurmctld knows (MinJobAge): job id -> (state, comment)."""
        out = _run("squeue", "-h", "-t", "all", "-o", "%i|%T|%k").stdout
        jobs = {}
        for line in out.splitlines():
            jid, state, comment = line.split("|", 2)
            jobs[int(jid)] = (state, comment)
        return jobs


def new_cluster(cpus_per_job: int, mem_mb_per_job: int) -> Cluster:
    root = Path(tempfile.mkdtemp(prefix="isdarts-slurm-", dir="/tmp"))
    return Cluster(root=root, cpus_per_job=cpus_per_job, mem_mb_per_job=mem_mb_per_job)
