"""FreeRADIUS 3.2 as an EAP identity provider behind our ANP, with the demo state's certificates.

RadSec (TLS) on a free port with the IdP's federation member certificate and the federation roots
as the client CA, so the ANP's member certificate passes FreeRADIUS's client check and FreeRADIUS's
certificate passes the ANP's federation check. EAP-TLS, EAP-TTLS and PEAP use the demo's EAP server
certificate; EAP-TLS clients must chain to the demo user CA. Users: alice / alice-password.
The raddb layout follows /work/shared/bench-peers/freeradius/gen-config.sh; radiusd.conf is the one
:mod:`tests.support.radsec_peers` writes.
"""

from __future__ import annotations

import contextlib
import socket
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from tests.support.procs import free_port, need, running, wait_log, wait_tcp
from tests.support.radsec_peers import UDP_SECRET, assemble_raddb, tls_listeners
from tsunagaru.demo_state import PASSWORD, REALM, USER, DemoState

MODULES = ("always", "attr_filter", "eap", "expr", "files", "mschap", "pap", "preprocess")


@dataclass(frozen=True)
class EapIdp:
    radsec: int
    auth: int
    pid: int
    log: Path


def _eap_module(tls_max: str) -> str:
    return f"""eap {{
    default_eap_type = tls
    timer_expire = 60
    ignore_unknown_eap_types = no
    max_sessions = ${{max_requests}}
    tls-config tls-common {{
        private_key_file = ${{certdir}}/eap.key
        certificate_file = ${{certdir}}/eap.pem
        ca_file = ${{certdir}}/user-ca.pem
        cipher_list = "DEFAULT"
        tls_min_version = "1.2"
        tls_max_version = "{tls_max}"
        cache {{
            enable = no
        }}
        verify {{
        }}
        ocsp {{
            enable = no
        }}
    }}
    tls {{
        tls = tls-common
    }}
    ttls {{
        tls = tls-common
        default_eap_type = md5
        virtual_server = "inner-tunnel"
    }}
    peap {{
        tls = tls-common
        default_eap_type = mschapv2
        virtual_server = "inner-tunnel"
    }}
    mschapv2 {{
    }}
}}
"""


def _site(radsec: int, auth: int) -> str:
    return tls_listeners(radsec, auth, key="radsec.key", cert="radsec.pem", ca="federation-roots.pem",
                         tls_max="1.3") + """    authorize {
        eap {
            ok = return
        }
        files
        pap
    }
    authenticate {
        Auth-Type PAP {
            pap
        }
        Auth-Type MS-CHAP {
            mschap
        }
        eap
    }
    preacct {
    }
    accounting {
        ok
    }
    post-auth {
        Post-Auth-Type REJECT {
            attr_filter.access_reject
            eap
            remove_reply_message_if_eap
        }
    }
}
server inner-tunnel {
    authorize {
        eap {
            ok = return
        }
        files
        mschap
        pap
    }
    authenticate {
        Auth-Type PAP {
            pap
        }
        Auth-Type MS-CHAP {
            mschap
        }
        eap
    }
    post-auth {
        Post-Auth-Type REJECT {
            attr_filter.access_reject
        }
    }
}
"""


def write_raddb(folder: Path, state: DemoState, *, radsec: int, auth: int, tls_max: str = "1.2") -> Path:
    users = "".join(f'"{u}"\tCleartext-Password := "{PASSWORD}"\n\n' for u in (USER, f"{USER}@{REALM}"))
    return assemble_raddb(
        folder,
        certs=[(state.path(src), name) for src, name in (
            ("idp-radsec.pem", "radsec.pem"), ("idp-radsec.key", "radsec.key"),
            ("federation-roots.pem", "federation-roots.pem"), ("eap-server.pem", "eap.pem"),
            ("eap-server.key", "eap.key"), ("user-ca.pem", "user-ca.pem"))],
        clients=f"client local {{\n    ipaddr = 127.0.0.1\n    proto = udp\n    secret = {UDP_SECRET}\n}}\n",
        modules=MODULES,
        module_files={"eap": _eap_module(tls_max)},
        site=_site(radsec, auth),
        users=users,
    )


@contextlib.contextmanager
def freeradius_eap_idp(folder: Path, state: DemoState, *, tls_max: str = "1.2") -> Iterator[EapIdp]:
    """FreeRADIUS with EAP and a RadSec listener on 127.0.0.1 for the duration of the block."""
    need("freeradius")
    radsec, auth = free_port(socket.SOCK_STREAM), free_port(socket.SOCK_DGRAM)
    raddb = write_raddb(folder, state, radsec=radsec, auth=auth, tls_max=tls_max)
    log = folder / "freeradius.log"
    with running(["freeradius", "-f", "-l", "stdout", "-d", str(raddb)], log) as proc:
        wait_log(log, "Ready to process requests", proc=proc)
        wait_tcp(radsec, proc=proc)
        yield EapIdp(radsec, auth, proc.pid, log)
