"""Drives fault-proxy with the published toxiproxy-python client, unchanged.

Usage: toxiproxy_client.py API_HOST API_PORT. Exits non-zero on any failure.
"""
import socket
import socketserver
import sys
import threading
import time

import requests
from toxiproxy import Toxiproxy
from toxiproxy.api import APIConsumer


class Echo(socketserver.BaseRequestHandler):
    def handle(self):
        while True:
            data = self.request.recv(65536)
            if not data:
                return
            self.request.sendall(data)


def round_trip(port, payload=b"ping"):
    with socket.create_connection(("127.0.0.1", port), timeout=5) as c:
        start = time.monotonic()
        c.sendall(payload)
        got = b""
        while len(got) < len(payload):
            chunk = c.recv(65536)
            if not chunk:
                break
            got += chunk
        return got, time.monotonic() - start


def faults_hit(api, port):
    """Round-trips on a new connection and returns the toxics its row in
    fault-proxy's connection listing (an addition) names, while it is open."""
    with socket.create_connection(("127.0.0.1", port), timeout=5) as c:
        c.sendall(b"ping")
        got = b""
        while len(got) < 4:
            chunk = c.recv(65536)
            if not chunk:
                break
            got += chunk
        assert got == b"ping", got
        me = "127.0.0.1:%d" % c.getsockname()[1]
        rows = requests.get(api + "/proxies/ldap/connections", timeout=5).json()
        mine = [r for r in rows if r["client"] == me]
        assert len(mine) == 1, (me, rows)
        return mine[0]["faults_hit"]


def step(name):
    print("step:", name, flush=True)


def main():
    host, port = sys.argv[1], int(sys.argv[2])
    APIConsumer.host, APIConsumer.port = host, port
    server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), Echo)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    upstream = "127.0.0.1:%d" % server.server_address[1]

    tp = Toxiproxy()
    for _ in range(100):
        if tp.running():
            break
        time.sleep(0.05)
    assert tp.running(), "server not running"
    step("version " + repr(tp.version()))

    step("create")
    proxy = tp.create(upstream=upstream, name="ldap", listen="127.0.0.1:0")
    listen_port = int(proxy.listen.rsplit(":", 1)[1])
    assert listen_port != 0, proxy.listen
    assert round_trip(listen_port)[0] == b"ping"

    step("populate")
    made = tp.populate([{"name": "repl", "upstream": upstream, "listen": "127.0.0.1:0"}])
    assert [p.name for p in made] == ["repl"], made
    assert set(tp.proxies()) == {"ldap", "repl"}, tp.proxies()

    api = "http://%s:%d" % (host, port)
    step("latency toxic takes effect")
    proxy.add_toxic(type="latency", attributes={"latency": 200})
    got, took = round_trip(listen_port)
    assert got == b"ping" and took >= 0.2, (got, took)
    assert "latency_downstream" in proxy.toxics()
    assert faults_hit(api, listen_port) == ["latency_downstream"]

    step("remove it")
    proxy.destroy_toxic("latency_downstream")
    assert round_trip(listen_port)[0] == b"ping"
    assert proxy.toxics() == {}
    # No clock: the new connection's listing shows no toxic touched it.
    assert faults_hit(api, listen_port) == []

    step("disable and enable")
    with proxy.down():
        try:
            socket.create_connection(("127.0.0.1", listen_port), timeout=2)
            raise AssertionError("connected to a disabled proxy")
        except ConnectionRefusedError:
            pass
    assert round_trip(listen_port)[0] == b"ping"

    step("reset")
    proxy.add_toxic(type="timeout", attributes={"timeout": 0}, stream="upstream")
    proxy.disable()
    assert tp.reset()
    assert tp.get_proxy("ldap").enabled is True
    assert proxy.toxics() == {}
    assert round_trip(listen_port)[0] == b"ping"

    step("destroy")
    tp.destroy_all()
    assert tp.proxies() == {}
    print("ALL STEPS PASSED")


if __name__ == "__main__":
    main()
