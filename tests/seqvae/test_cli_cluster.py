"""Cluster trust: every --scheduler documents the trust model, a plain tcp:// address off this
machine draws one warning line, and a tls:// scheduler with a self-signed certificate runs a
pruned census end to end (a LocalCluster started here, with a certificate made here)."""
from __future__ import annotations

import json
import shutil
import subprocess

import pytest
from typer.testing import CliRunner

from seqvae.cli import app
from seqvae.cli._cluster import dask_security, scheduler_warning


def _help(*command: str) -> str:
    result = CliRunner().invoke(app, [*command, "--help"], env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    return " ".join(result.output.replace("│", " ").split())


@pytest.mark.parametrize("command", [("automata", "census"), ("automata", "expected"),
                                     ("search-extreme",)])
def test_every_scheduler_option_states_the_trust_model(command):
    text = _help(*command)
    assert "pickles" in text and "tls://" in text
    for option in ("--tls-ca-file", "--tls-cert", "--tls-key"):
        assert option in text


@pytest.mark.parametrize("address", ["tcp://10.0.0.5:8786", "tcp://scheduler.example:8786",
                                     "192.168.1.2:8786", "tcp://[2001:db8::1]:8786"])
def test_a_plain_remote_address_is_warned_about(address):
    line = scheduler_warning(address)
    assert line is not None and "\n" not in line and "tls://" in line


@pytest.mark.parametrize("address", ["tcp://127.0.0.1:8786", "tcp://127.5.6.7:1",
                                     "tcp://localhost:8786", "tcp://[::1]:8786", "localhost:8786",
                                     "tls://10.0.0.5:8786", "inproc://10.0.0.5/1/2"])
def test_local_or_encrypted_addresses_are_not(address):
    assert scheduler_warning(address) is None


def test_the_warning_is_printed_once_on_stderr(monkeypatch):
    import distributed

    def refuse(*args, **kwargs):
        raise OSError("connection refused")

    monkeypatch.setattr(distributed, "Client", refuse)
    result = CliRunner().invoke(app, ["automata", "census", "-n", "4", "--min-rt", "9",
                                      "--backend", "dask", "--scheduler", "tcp://10.0.0.5:8786"])
    assert result.exit_code == 1
    assert result.stderr.count("warning: tcp://10.0.0.5:8786 is a plain tcp://") == 1
    assert "cannot reach the Dask scheduler" in result.stderr


@pytest.mark.parametrize("args, message", [
    (["--scheduler", "tcp://127.0.0.1:1", "--tls-ca-file", "ca.pem"], "need a tls://"),
    (["--scheduler", "tls://127.0.0.1:1"], "needs --tls-ca-file"),
    (["--scheduler", "tls://127.0.0.1:1", "--tls-ca-file", "ca.pem", "--tls-cert", "c.pem"],
     "go together"),
    (["--scheduler", "tls://127.0.0.1:1", "--tls-ca-file", "missing.pem"], "no such file"),
])
def test_tls_options_that_do_not_fit_are_refused(tmp_path, monkeypatch, args, message):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "ca.pem").write_text("x")
    (tmp_path / "c.pem").write_text("x")
    result = CliRunner().invoke(app, ["automata", "census", "-n", "4", "--min-rt", "9",
                                      "--backend", "dask", *args])
    assert result.exit_code == 2, result.output
    assert message in result.stderr


def _self_signed(folder):
    """A self-signed certificate and its key (PEM), by openssl; the test skips without it."""
    openssl = shutil.which("openssl")
    if openssl is None:
        pytest.skip("neither the cryptography package nor openssl is available")
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run([openssl, "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
                    "-subj", "/CN=localhost", "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost",
                    "-keyout", str(key), "-out", str(cert)],
                   check=True, capture_output=True, timeout=60)
    return cert, key


def test_a_pruned_census_runs_through_tls(tmp_path):
    distributed = pytest.importorskip("distributed")
    cert, key = _self_signed(tmp_path)
    client_security = dask_security("tls://127.0.0.1:1", cert, cert, key)
    assert client_security.require_encryption and client_security.tls_client_cert == str(cert)
    # The cluster's side: one certificate for scheduler, workers and client alike.
    roles = {f"tls_{role}_{part}": str(path) for role in ("scheduler", "worker", "client")
             for part, path in (("cert", cert), ("key", key))}
    security = distributed.security.Security(tls_ca_file=str(cert), require_encryption=True,
                                             **roles)
    # two worker threads: with one, joblib would run the chunks in this process
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=False,
                                  protocol="tls://", security=security,
                                  dashboard_address=None) as cluster:
        address = cluster.scheduler_address
        assert address.startswith("tls://")
        result = CliRunner().invoke(app, [
            "automata", "census", "-n", "5", "--min-rt", "11", "--json", "--backend", "dask",
            "--scheduler", address, "--tls-ca-file", str(cert), "--tls-cert", str(cert),
            "--tls-key", str(key)])
        assert result.exit_code == 0, result.output
        assert "warning" not in result.stderr
        assert cluster.scheduler.transition_counter > 0  # the chunks ran on the TLS cluster
    local = CliRunner().invoke(app, ["automata", "census", "-n", "5", "--min-rt", "11", "--json"])
    assert local.exit_code == 0, local.output
    through_tls = json.loads(result.stdout)
    assert through_tls["histogram"] == json.loads(local.stdout)["histogram"]
    assert through_tls["automata"] == json.loads(local.stdout)["automata"]


def test_search_extreme_checks_the_same_tls_options(tmp_path):
    (tmp_path / "ca.pem").write_text("x")
    result = CliRunner().invoke(app, ["search-extreme", "-n", "5", "--budget", "10",
                                      "--backend", "dask", "--scheduler", "tcp://127.0.0.1:1",
                                      "--tls-ca-file", str(tmp_path / "ca.pem")])
    assert result.exit_code == 2, result.output
    assert "need a tls:// --scheduler" in result.stderr
