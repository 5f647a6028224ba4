"""Several `streamlit run` replicas behind Debian's nginx, with sticky sessions.

    apt-get install nginx
    python deploy/replicas.py --replicas 2 --port 8080

Streamlit keeps each browser session (its models, its training) in the memory of one
process, over one WebSocket. nginx therefore sends every request of a browser to the same
replica: the first request gets a random key, which nginx puts in a cookie and hashes to
pick a replica; every later request, the WebSocket included, carries that cookie.
Stop everything with Ctrl+C.
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TEMPLATE = Path(__file__).resolve().parent / "nginx.conf.template"
FIRST_REPLICA_PORT = 8501
COOKIE = "playground_replica"


def nginx_config(listen_port: int, replica_ports: list[int], folder: Path, address: str = "0.0.0.0") -> str:
    """The nginx configuration, from the template, for these ports; logs and pid in `folder`."""
    servers = "\n".join(f"        server 127.0.0.1:{port};" for port in replica_ports)
    values = {"LISTEN_ADDRESS": address, "LISTEN_PORT": str(listen_port), "REPLICAS": servers,
              "FOLDER": str(folder), "COOKIE": COOKIE}
    config = TEMPLATE.read_text()
    for name, value in values.items():
        config = config.replace(f"@{name}@", value)
    return config


def start_replica(port: int, extra_args: tuple[str, ...] = (), log=None) -> subprocess.Popen:
    command = [sys.executable, "-m", "streamlit", "run", "app.py", "--server.headless=true",
               f"--server.port={port}", "--server.address=127.0.0.1", "--browser.gatherUsageStats=false",
               "--server.fileWatcherType=none", *extra_args]
    return subprocess.Popen(command, cwd=ROOT, env={**os.environ}, stdout=log, stderr=subprocess.STDOUT)


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
    arguments = parser.parse_args()
    ports = [FIRST_REPLICA_PORT + index for index in range(arguments.replicas)]
    with tempfile.TemporaryDirectory(prefix="playground-nginx-") as folder:
        processes = [start_replica(port) for port in ports]
        config = nginx_config(arguments.port, ports, Path(folder), arguments.address)
        processes.append(start_nginx(config, Path(folder)))
        print(f"CNN Playground: http://localhost:{arguments.port} ({arguments.replicas} replicas on ports "
              f"{', '.join(map(str, ports))}; nginx logs in {folder})")
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
