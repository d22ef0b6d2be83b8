"""Connecting to a Dask cluster: the one place the commands with ``--scheduler`` share.

Trust model: Dask exchanges pickled Python objects between the client, the scheduler
and the workers, and unpickling runs code. Whoever answers at the scheduler address
can therefore run code in this process (and the client's tasks run code on the
workers): connect only to a cluster you control. A plain ``tcp://`` connection is
neither encrypted nor authenticated, so on any network but this machine's loopback
it draws one warning line; ``tls://`` with a CA file (and the client certificate
and key a scheduler that checks clients asks for) authenticates the scheduler and
encrypts the traffic, through :class:`distributed.security.Security`.

The census commands (``seqvae automata census``, ``seqvae automata expected``) and
``seqvae search-extreme`` connect through :func:`dask_client`.
"""
from __future__ import annotations

import ipaddress
from pathlib import Path
from typing import Optional

from seqvae.cli._common import InputError, err_console, fail

__all__ = ["SCHEDULER_HELP", "TLS_CA_HELP", "TLS_CERT_HELP", "TLS_KEY_HELP", "scheduler_warning",
           "dask_security", "dask_client"]

#: The --scheduler help of every command that takes one: the trust model in one paragraph.
SCHEDULER_HELP = ("With --backend dask: the scheduler address (tcp://host:8786 or "
                  "tls://host:8786); default a local cluster. Trust: Dask exchanges pickles, so "
                  "the scheduler and its workers can run code in this process; connect only to a "
                  "cluster you control. A plain tcp:// address that is not this machine's "
                  "(127.0.0.0/8, ::1, localhost) is unencrypted and unauthenticated and draws a "
                  "warning; use tls:// with --tls-ca-file (and --tls-cert/--tls-key).")
TLS_CA_HELP = ("With a tls:// --scheduler: the CA certificate (PEM) that the scheduler's "
               "certificate must be signed by.")
TLS_CERT_HELP = "With a tls:// --scheduler: this client's certificate (PEM), with --tls-key."
TLS_KEY_HELP = "With a tls:// --scheduler: the private key (PEM) of --tls-cert."

_LOCAL_NAMES = {"localhost", "localhost.localdomain", "ip6-localhost", "ip6-loopback"}


def _split(address: str) -> tuple[str, str]:
    """``(scheme, host)`` of a Dask address; no scheme means tcp, as Dask reads it."""
    scheme, sep, rest = address.partition("://")
    if not sep:
        scheme, rest = "tcp", address
    rest = rest.rstrip("/")
    if rest.startswith("["):  # [::1]:8786
        host = rest[1:].partition("]")[0]
    elif rest.count(":") > 1:  # a bare IPv6 address
        host = rest
    else:
        host = rest.partition(":")[0]
    return scheme.lower(), host


def _is_local(host: str) -> bool:
    if host.lower() in _LOCAL_NAMES:
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def scheduler_warning(address: str) -> str | None:
    """The warning line for a plain ``tcp://`` address off this machine, else None.

    >>> scheduler_warning("tcp://127.0.0.1:8786") is None, scheduler_warning("tls://10.0.0.5:8786")
    (True, None)
    >>> scheduler_warning("tcp://10.0.0.5:8786").split(":")[0]
    'warning'
    """
    scheme, host = _split(address)
    if scheme != "tcp" or _is_local(host):
        return None
    return (f"warning: {address} is a plain tcp:// connection to another machine, unencrypted "
            "and unauthenticated; Dask exchanges pickles, so whoever answers there can run "
            "code here (use tls:// with --tls-ca-file, or a cluster on a network you trust)")


def dask_security(scheduler: Optional[str], tls_ca_file: Optional[Path] = None,
                  tls_cert: Optional[Path] = None, tls_key: Optional[Path] = None):
    """The :class:`distributed.security.Security` of the TLS options, or None without them.

    Raises :class:`InputError` (exit code 2) when the options do not fit together: TLS
    options without a ``tls://`` scheduler, a ``tls://`` scheduler without a CA file, a
    certificate without its key (or the reverse), or a file that is not there.
    """
    given = [name for name, value in (("--tls-ca-file", tls_ca_file), ("--tls-cert", tls_cert),
                                      ("--tls-key", tls_key)) if value is not None]
    scheme = _split(scheduler)[0] if scheduler else None
    if given and scheme != "tls":
        raise InputError(f"{', '.join(given)} need a tls:// --scheduler address")
    if scheme != "tls":
        return None
    if tls_ca_file is None:
        raise InputError("a tls:// --scheduler needs --tls-ca-file (the CA that signed the "
                         "scheduler's certificate)")
    if (tls_cert is None) != (tls_key is None):
        raise InputError("--tls-cert and --tls-key go together")
    for name, path in (("--tls-ca-file", tls_ca_file), ("--tls-cert", tls_cert),
                       ("--tls-key", tls_key)):
        if path is not None and not Path(path).is_file():
            raise InputError(f"{name} {path}: no such file")
    from distributed.security import Security

    return Security(tls_ca_file=str(tls_ca_file),
                    tls_client_cert=str(tls_cert) if tls_cert is not None else None,
                    tls_client_key=str(tls_key) if tls_key is not None else None,
                    require_encryption=True)


def dask_client(scheduler: Optional[str], *, security=None, jobs: Optional[int] = None,
                timeout: str = "20s"):
    """A :class:`distributed.Client` of the cluster at ``scheduler`` (warned about when plain
    and remote), or of a local cluster of ``jobs`` single-threaded processes (default 2).

    A cluster that cannot be reached (or fails the TLS handshake) exits with code 1.
    """
    try:
        from distributed import Client, LocalCluster
    except ImportError:
        raise InputError("--backend dask needs the 'distributed' package") from None
    if scheduler is not None:
        warning = scheduler_warning(scheduler)
        if warning is not None:
            err_console.print(warning, highlight=False, markup=False)
    try:
        if scheduler is not None:
            return Client(scheduler, timeout=timeout, security=security)
        return Client(LocalCluster(n_workers=jobs or 2, threads_per_worker=1, processes=True,
                                   dashboard_address=None))
    except (OSError, TimeoutError, ValueError) as exc:
        raise fail(f"cannot reach the Dask scheduler {scheduler}: "
                   f"{' '.join(str(exc).split())[:300]}", 1) from None
