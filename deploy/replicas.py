"""Several `streamlit run` replicas behind Debian's nginx, with sticky sessions.

    apt-get install nginx
    python deploy/replicas.py --replicas 2 --port 8080
    python deploy/replicas.py --https                  # HTTPS, with a self-signed certificate
    python deploy/replicas.py --https --certificate fullchain.pem --key privkey.pem

Browsers give the camera (Your images, Photos) only to https:// pages and to localhost, so a
class that reaches the server by its address needs HTTPS. `--https` alone makes a self-signed
certificate with openssl for this machine's name and address: browsers warn once, and each
learner accepts it; a real certificate (Let's Encrypt's, say) avoids the warning.

Streamlit keeps each browser session (its models, its training) in the memory of one
process, over one WebSocket. nginx therefore sends every request of a browser to the same
replica: the first request gets a random key, which nginx puts in a cookie and hashes to
pick a replica; every later request, the WebSocket included, carries that cookie.
Stop everything with Ctrl+C.
"""

from __future__ import annotations

import argparse
import ipaddress
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TEMPLATE = Path(__file__).resolve().parent / "nginx.conf.template"
FIRST_REPLICA_PORT = 8501
COOKIE = "playground_replica"


def nginx_config(listen_port: int, replica_ports: list[int], folder: Path, address: str = "0.0.0.0",
                 certificate: tuple[Path, Path] | None = None) -> str:
    """The nginx configuration, from the template, for these ports; logs and pid in `folder`.
    With `certificate` (its certificate file and key file), nginx serves HTTPS."""
    servers = "\n".join(f"        server 127.0.0.1:{port};" for port in replica_ports)
    tls = (f"        ssl_certificate {certificate[0]};\n        ssl_certificate_key {certificate[1]};"
           if certificate else "")
    values = {"LISTEN_ADDRESS": address, "LISTEN_PORT": str(listen_port), "REPLICAS": servers,
              "FOLDER": str(folder), "COOKIE": COOKIE, "TLS": " ssl" if certificate else "",
              "CERTIFICATE": tls}
    config = TEMPLATE.read_text()
    for name, value in values.items():
        config = config.replace(f"@{name}@", value)
    return config


CERTIFICATE_DAYS = 30


def self_signed_certificate(folder: Path, names: tuple[str, ...] = ()) -> tuple[Path, Path]:
    """A certificate and key made by openssl for localhost, this machine's name and `names`
    (host names or IP addresses), valid CERTIFICATE_DAYS days."""
    hosts = dict.fromkeys(["localhost", "127.0.0.1", socket.gethostname(), *names])
    entries = [f"{'IP' if is_address(host) else 'DNS'}:{host}" for host in hosts]
    certificate, key = folder / "certificate.pem", folder / "key.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-sha256",
                    "-days", str(CERTIFICATE_DAYS), "-subj", "/CN=CNN Playground",
                    "-addext", f"subjectAltName={','.join(entries)}",
                    "-keyout", str(key), "-out", str(certificate)], check=True, capture_output=True)
    return certificate, key


def is_address(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


# glibc gives each thread that allocates a malloc arena of its own (up to 8 per core), and what
# one arena frees, another cannot reuse. Streamlit runs every rerun on a new thread: a class
# decoding its own pictures on thirty of them left hundreds of megabytes behind in arenas.
# Two arenas keep that memory reusable (playground.jobs.process_memory says more).
MALLOC_ARENAS = "2"


def replica_environment() -> dict[str, str]:
    return {**os.environ, "MALLOC_ARENA_MAX": os.environ.get("MALLOC_ARENA_MAX", MALLOC_ARENAS)}


def start_replica(port: int, extra_args: tuple[str, ...] = (), log=None) -> subprocess.Popen:
    command = [sys.executable, "-m", "streamlit", "run", "app.py", "--server.headless=true",
               f"--server.port={port}", "--server.address=127.0.0.1", "--browser.gatherUsageStats=false",
               "--server.fileWatcherType=none", *extra_args]
    return subprocess.Popen(command, cwd=ROOT, env=replica_environment(), stdout=log,
                            stderr=subprocess.STDOUT)


def start_nginx(config: str, folder: Path) -> subprocess.Popen:
    path = folder / "nginx.conf"
    path.write_text(config)
    return subprocess.Popen(["nginx", "-c", str(path), "-p", str(folder), "-g", "daemon off;"])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--replicas", type=int, default=2)
    parser.add_argument("--port", type=int, default=8080, help="where nginx listens")
    parser.add_argument("--address", default="0.0.0.0",
                        help="nginx's address; 127.0.0.1 for this machine only")
    parser.add_argument("--https", action="store_true", help="serve HTTPS (the camera needs it)")
    parser.add_argument("--certificate", type=Path, help="a certificate file (else a self-signed one)")
    parser.add_argument("--key", type=Path, help="the certificate's key file")
    parser.add_argument("--host", action="append", default=[],
                        help="a name or address the self-signed certificate also covers")
    arguments = parser.parse_args()
    ports = [FIRST_REPLICA_PORT + index for index in range(arguments.replicas)]
    with tempfile.TemporaryDirectory(prefix="playground-nginx-") as folder:
        processes = [start_replica(port) for port in ports]
        certificate = None
        if arguments.https:
            certificate = ((arguments.certificate, arguments.key) if arguments.certificate
                           else self_signed_certificate(Path(folder), tuple(arguments.host)))
        config = nginx_config(arguments.port, ports, Path(folder), arguments.address, certificate)
        processes.append(start_nginx(config, Path(folder)))
        scheme = "https" if certificate else "http"
        print(f"CNN Playground: {scheme}://localhost:{arguments.port} ({arguments.replicas} replicas on "
              f"ports {', '.join(map(str, ports))}; nginx logs in {folder})")
        try:
            while all(process.poll() is None for process in processes):
                time.sleep(1)
        except KeyboardInterrupt:
            pass
        finally:
            for process in processes:
                process.send_signal(signal.SIGTERM)
            for process in processes:
                process.wait(timeout=15)


if __name__ == "__main__":
    main()
