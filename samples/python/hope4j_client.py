#!/usr/bin/env python3
"""A client of `hope4j serve` over its Unix domain socket, Python standard library only.

    from hope4j_client import Hope4jClient
    c = Hope4jClient()                      # $XDG_RUNTIME_DIR/hope4j/hope4j.sock
    c.create_profile("me")
    c.observe("me", "Monday: water the tomatoes.\n")
    print(c.generate("me", "Monday:", 40))

As a command: hope4j_client.py [--socket PATH] COMMAND PROFILE [ARG], where COMMAND is one of
create, observe (text on stdin), score (stdin), generate PROMPT, status, snapshot NAME, undo NAME,
delete. Prints the service's answer; exits 1 with its error code and message on an error.
"""
import argparse
import http.client
import json
import os
import socket
import sys
import urllib.parse


class _UnixConnection(http.client.HTTPConnection):
    def __init__(self, path, timeout=600):
        super().__init__("localhost", timeout=timeout)
        self._path = path

    def connect(self):
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.settimeout(self.timeout)
        s.connect(self._path)
        self.sock = s


class ServiceError(Exception):
    def __init__(self, status, code, message):
        super().__init__(f"{status} {code}: {message}")
        self.status, self.code, self.message = status, code, message


def default_socket():
    run = os.environ.get("XDG_RUNTIME_DIR")
    if not run:
        raise SystemExit("XDG_RUNTIME_DIR is not set: pass --socket")
    return os.path.join(run, "hope4j", "hope4j.sock")


class Hope4jClient:
    def __init__(self, socket_path=None):
        self.socket_path = socket_path or default_socket()

    def request(self, method, path, body=None, params=None):
        if params:
            path += "?" + urllib.parse.urlencode(params)
        c = _UnixConnection(self.socket_path)
        try:
            c.request(method, path, body=body, headers={"Content-Length": str(len(body or b""))})
            r = c.getresponse()
            data = r.read()
        finally:
            c.close()
        if r.status >= 400:
            try:
                e = json.loads(data)["error"]
                raise ServiceError(r.status, e["code"], e["message"])
            except (ValueError, KeyError):
                raise ServiceError(r.status, "http", data.decode("utf-8", "replace"))
        return data

    def _json(self, method, path, body=None, params=None):
        return json.loads(self.request(method, path, body, params))

    def create_profile(self, profile):
        return self._json("PUT", f"/v1/profiles/{profile}")

    def delete_profile(self, profile):
        return self._json("DELETE", f"/v1/profiles/{profile}")

    def observe(self, profile, text):
        return self._json("POST", f"/v1/profiles/{profile}/observe", _bytes(text))

    def score(self, profile, text):
        return self._json("POST", f"/v1/profiles/{profile}/score", _bytes(text))

    def generate(self, profile, prompt, n=64, temperature=None, seed=0):
        params = {"bytes": n, "seed": seed}
        if temperature is not None:
            params["temperature"] = temperature
        return self.request("POST", f"/v1/profiles/{profile}/generate", _bytes(prompt), params).decode("utf-8", "replace")

    def status(self, profile):
        return self._json("GET", f"/v1/profiles/{profile}")

    def snapshot(self, profile, name):
        return self._json("PUT", f"/v1/profiles/{profile}/snapshots/{name}")

    def undo(self, profile, name):
        return self._json("POST", f"/v1/profiles/{profile}/snapshots/{name}/restore")


def _bytes(text):
    return text.encode("utf-8") if isinstance(text, str) else bytes(text)


def main(argv=None):
    ap = argparse.ArgumentParser(description="client of hope4j serve")
    ap.add_argument("--socket", help="the service's socket (default: $XDG_RUNTIME_DIR/hope4j/hope4j.sock)")
    ap.add_argument("command", choices=["create", "observe", "score", "generate", "status", "snapshot", "undo", "delete"])
    ap.add_argument("profile")
    ap.add_argument("arg", nargs="?")
    ap.add_argument("--bytes", type=int, default=64, help="bytes to generate")
    a = ap.parse_args(argv)
    c = Hope4jClient(a.socket)
    try:
        if a.command == "create":
            out = c.create_profile(a.profile)
        elif a.command == "observe":
            out = c.observe(a.profile, sys.stdin.buffer.read())
        elif a.command == "score":
            out = c.score(a.profile, sys.stdin.buffer.read())
        elif a.command == "generate":
            print(c.generate(a.profile, a.arg or "", a.bytes))
            return 0
        elif a.command == "status":
            out = c.status(a.profile)
        elif a.command == "snapshot":
            out = c.snapshot(a.profile, a.arg)
        elif a.command == "undo":
            out = c.undo(a.profile, a.arg)
        else:
            out = c.delete_profile(a.profile)
    except ServiceError as e:
        print(f"hope4j: {e.code}: {e.message}", file=sys.stderr)
        return 1
    print(json.dumps(out))
    return 0


if __name__ == "__main__":
    sys.exit(main())
