"""Run FreeRADIUS 3.2 (as a RadSec IdP) and radsecproxy (UDP in, TLS out) from private folders.

Both are started from configs written under the caller's ``tmp_path`` (never /etc, never the system
service), on ports chosen at run time, and stopped by pid when the ``with`` block ends. The
FreeRADIUS raddb is a copy of /etc/freeradius/3.0 (for its modules and dictionaries) whose
radiusd.conf, clients, sites and users are replaced, as /work/shared/bench-peers does.

    with freeradius_tls_idp(tmp_path, pki, users={"alice": "password"}) as ports:
        ...  # RadSec on 127.0.0.1:ports.radsec (secret "radsec"), UDP on ports.auth (secret testing123)
    with radsecproxy(tmp_path, pki, server_port=radsec_port) as udp_port:
        ...  # radclient -> 127.0.0.1:udp_port (secret testing123) -> RadSec to server_port
"""

from __future__ import annotations

import contextlib
import re
import shutil
import socket
import subprocess
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

from tests.support.procs import free_port, need, running, wait_log, wait_tcp, wait_udp
from tests.support.radsec_certs import SERVER_NAME, PkiPaths

FREERADIUS_SRC = Path("/etc/freeradius/3.0")
UDP_SECRET = "testing123"


@dataclass(frozen=True)
class IdpPorts:
    radsec: int  # TLS listener (auth+acct), secret "radsec", client certificate required
    auth: int  # RADIUS/UDP authentication, secret testing123
    pid: int  # for CPU accounting from /proc/PID/stat


def _radiusd_conf(raddb: Path, run: Path) -> str:
    return f"""
prefix = /usr
exec_prefix = /usr
sysconfdir = /etc
localstatedir = {run}
sbindir = ${{exec_prefix}}/sbin
logdir = {run}
raddbdir = {raddb}
radacctdir = ${{logdir}}/radacct
name = freeradius
confdir = ${{raddbdir}}
modconfdir = ${{confdir}}/mods-config
certdir = ${{confdir}}/certs
cadir = ${{confdir}}/certs
run_dir = {run}
db_dir = ${{raddbdir}}
libdir = /usr/lib/freeradius
pidfile = ${{run_dir}}/freeradius.pid
max_request_time = 30
cleanup_delay = 5
max_requests = 65536
hostname_lookups = no
log {{
    destination = stdout
    colourise = no
    auth = no
}}
security {{
    allow_core_dumps = no
    max_attributes = 200
    reject_delay = 0
    status_server = yes
}}
proxy_requests = no
$INCLUDE clients.conf
thread pool {{
    start_servers = 4
    max_servers = 16
    min_spare_servers = 2
    max_spare_servers = 16
    max_requests_per_server = 0
}}
modules {{
    $INCLUDE mods-enabled/
}}
instantiate {{
}}
policy {{
    $INCLUDE policy.d/
}}
$INCLUDE sites-enabled/
"""


def tls_listeners(radsec_port: int, auth_port: int, *, key: str, cert: str, ca: str, tls_max: str,
                  fragment_size: int | None = None) -> str:
    """The ``clients radsec`` block and the opening of ``server default`` with a UDP auth listener and a
    RadSec (TLS) listener: shared by every private FreeRADIUS the tests run; callers append the sections."""
    fragment = f"\n            fragment_size = {fragment_size}" if fragment_size else ""
    return f"""
clients radsec {{
    client radsec_v4 {{
        ipaddr = 127.0.0.1
        proto = tls
        secret = radsec
        limit {{
            max_connections = 64
            lifetime = 0
            idle_timeout = 0
        }}
    }}
}}
server default {{
    listen {{
        type = auth
        ipaddr = 127.0.0.1
        port = {auth_port}
    }}
    listen {{
        type = auth+acct
        ipaddr = 127.0.0.1
        port = {radsec_port}
        proto = tcp
        clients = radsec
        limit {{
            max_connections = 64
            lifetime = 0
            idle_timeout = 0
        }}
        tls {{
            private_key_file = ${{certdir}}/{key}
            certificate_file = ${{certdir}}/{cert}
            ca_file = ${{certdir}}/{ca}{fragment}
            cipher_list = "DEFAULT"
            tls_min_version = "1.2"
            tls_max_version = "{tls_max}"
            require_client_cert = yes
            cache {{
                enable = no
            }}
            verify {{
            }}
        }}
    }}
"""


def _site(radsec_port: int, auth_port: int, tls_max: str) -> str:
    return tls_listeners(radsec_port, auth_port, key="server.key", cert="server.pem", ca="ca.pem",
                         tls_max=tls_max, fragment_size=8192) + """    authorize {
        files
        pap
    }
    authenticate {
        Auth-Type PAP {
            pap
        }
    }
    preacct {
    }
    accounting {
        ok
    }
    post-auth {
    }
}
"""


def assemble_raddb(
    folder: Path,
    *,
    certs: Iterable[tuple[Path, str]],
    clients: str,
    modules: Iterable[str],
    site: str,
    users: str,
    module_files: Mapping[str, str] | None = None,
) -> Path:
    """A private raddb under ``folder`` (``run``, ``log``, ``var`` beside it) from the system's FreeRADIUS
    tree: its certificates replaced by ``certs`` (source, name under ``certs/``), our radiusd.conf, the
    given clients.conf, only ``modules`` enabled (``module_files`` written in place of their link), one
    site, a users file. Checked with ``freeradius -C``. Every FreeRADIUS the tests run differs only here."""
    raddb, run = folder / "raddb", folder / "run"
    shutil.rmtree(raddb, ignore_errors=True)
    for sub in ("run", "log", "var"):
        (folder / sub).mkdir(parents=True, exist_ok=True)
    shutil.copytree(FREERADIUS_SRC, raddb, symlinks=True, ignore=shutil.ignore_patterns("certs"))
    (raddb / "certs").mkdir()
    for src, name in certs:
        shutil.copy(src, raddb / "certs" / name)
    (raddb / "radiusd.conf").write_text(_radiusd_conf(raddb, run))
    (raddb / "clients.conf").write_text(clients)
    written = module_files or {}
    for link in (raddb / "mods-enabled").iterdir():
        link.unlink()
    for module in modules:
        if module in written:
            (raddb / "mods-enabled" / module).write_text(written[module])
        else:
            (raddb / "mods-enabled" / module).symlink_to(f"../mods-available/{module}")
    for link in (raddb / "sites-enabled").iterdir():
        link.unlink()
    (raddb / "sites-enabled" / "default").write_text(site)
    (raddb / "mods-config" / "files" / "authorize").write_text(users)
    check = subprocess.run(["freeradius", "-C", "-d", str(raddb)], capture_output=True, text=True, check=False)
    if check.returncode != 0:
        raise RuntimeError(f"freeradius -C rejected {raddb}:\n{check.stdout[-3000:]}{check.stderr[-2000:]}")
    return raddb


def write_freeradius_raddb(    folder: Path,
    pki: PkiPaths,
    *,
    radsec_port: int,
    auth_port: int,
    users: Mapping[str, str],
    tls_max: str = "1.3",
) -> Path:
    """Write a private raddb under ``folder``; returns its path (checked with ``freeradius -C``)."""
    return assemble_raddb(
        folder,
        certs=((pki.server_cert, "server.pem"), (pki.server_key, "server.key"), (pki.ca, "ca.pem")),
        clients=f"client local {{\n    ipaddr = 127.0.0.1\n    proto = udp\n    secret = {UDP_SECRET}\n}}\n",
        modules=("always", "expr", "files", "pap"),
        site=_site(radsec_port, auth_port, tls_max),
        users="".join(f'"{u}"\tCleartext-Password := "{p}"\n\tReply-Message := "Hello {u}"\n\n'
                      for u, p in users.items()),
    )


@contextlib.contextmanager
def freeradius_tls_idp(
    tmp_path: Path, pki: PkiPaths, *, users: Mapping[str, str] | None = None, tls_max: str = "1.3"
) -> Iterator[IdpPorts]:
    """FreeRADIUS as a RadSec IdP on 127.0.0.1, for the duration of the block."""
    need("freeradius")
    folder = tmp_path / "freeradius"
    radsec_port = free_port(socket.SOCK_STREAM)
    auth_port = free_port(socket.SOCK_DGRAM)
    raddb = write_freeradius_raddb(
        folder,
        pki,
        radsec_port=radsec_port,
        auth_port=auth_port,
        users=users if users is not None else {"alice": "password"},
        tls_max=tls_max,
    )
    log = folder / "freeradius.log"
    with running(["freeradius", "-f", "-l", "stdout", "-d", str(raddb)], log) as proc:
        wait_log(log, "Ready to process requests", proc=proc)
        wait_udp(auth_port, proc=proc)
        yield IdpPorts(radsec=radsec_port, auth=auth_port, pid=proc.pid)


def radsecproxy_conf(
    folder: Path,
    pki: PkiPaths,
    *,
    listen_port: int,
    server_port: int,
    server_host: str = "127.0.0.1",
    realm: str = "*",
    server_name: str = SERVER_NAME,
    status_server: bool = True,
) -> Path:
    """radsecproxy config: RADIUS/UDP in from 127.0.0.1 (secret testing123), RadSec out to one server.

    The server is reached by address, so the certificate is matched on its DNS SAN ``server_name``.
    """
    folder.mkdir(parents=True, exist_ok=True)
    conf = folder / "radsecproxy.conf"
    name_re = re.escape(server_name)
    conf.write_text(f"""
ListenUDP 127.0.0.1:{listen_port}
LogLevel 3
LoopPrevention on
tls default {{
    CACertificateFile {pki.ca}
    CertificateFile {pki.client_cert}
    CertificateKeyFile {pki.client_key}
    TlsVersion TLS1_2:TLS1_3
}}
client nas {{
    host 127.0.0.1
    type udp
    secret {UDP_SECRET}
}}
server idp {{
    host {server_host}
    port {server_port}
    type tls
    secret radsec
    CertificateNameCheck off
    MatchCertificateAttribute SubjectAltName:DNS:/^{name_re}$/
    StatusServer {"on" if status_server else "off"}
}}
realm {realm} {{
    server idp
}}
""")
    return conf


@contextlib.contextmanager
def radsecproxy(
    tmp_path: Path,
    pki: PkiPaths,
    *,
    server_port: int,
    server_host: str = "127.0.0.1",
    realm: str = "*",
    server_name: str = SERVER_NAME,
    status_server: bool = True,
) -> Iterator[int]:
    """radsecproxy forwarding UDP (yielded port, secret testing123) to a RadSec server.

    With ``status_server`` radsecproxy probes the server with Status-Server before using it.
    """
    need("radsecproxy")
    folder = tmp_path / "radsecproxy"
    listen_port = free_port(socket.SOCK_DGRAM)
    conf = radsecproxy_conf(
        folder,
        pki,
        listen_port=listen_port,
        server_port=server_port,
        server_host=server_host,
        realm=realm,
        server_name=server_name,
        status_server=status_server,
    )
    with running(["radsecproxy", "-f", "-c", str(conf)], folder / "stdout.log") as proc:
        wait_udp(listen_port, proc=proc)
        yield listen_port


__all__ = [
    "IdpPorts",
    "freeradius_tls_idp",
    "radsecproxy",
    "radsecproxy_conf",
    "wait_tcp",
    "write_freeradius_raddb",
]
