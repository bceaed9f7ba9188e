"""The chat web app (examples/chat-web) in real headless Chromium.

Usage: chat_web.py SERVER_EXE SCREENSHOT_PNG [SERVER_LOG]

Starts SERVER_EXE (examples/chat-web/server.snow compiled by snowc) on a free
loopback port from the repository root, so it finds its page the way a
person's `snowc run` does, and drives Debian's Chromium through Playwright:
two pages in one room see each other's messages and nicknames, a page in
another room sees none of them, the member list (presence) and count follow
a page closing, and the pages survive the server being killed and started
again on the same port. Then the same program as a cluster (two servers
behind a redis-server): the member list spans both servers, a newcomer sees
the last messages, and a page whose server is killed and restarted resumes
with the last offset it saw: every message said meanwhile on the other
server arrives once, in order.
The page is served by the server itself, so its WebSocket also passes the
Origin check (an Origin equal to the Host). Saves a screenshot of a page.

Prints one line per check and `browser: N passed, M failed`; exits non-zero
when a check failed. Every wait is bounded.
"""

import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import traceback

from playwright.sync_api import sync_playwright

# This machine has no network but loopback: keep Chromium from trying.
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
WAIT_MS = 10_000

passed = 0
failed = 0


def check(name, ok, detail=""):
    global passed, failed
    if ok:
        passed += 1
        print(f"ok   {name}")
    else:
        failed += 1
        print(f"FAIL {name} {detail}")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    """The compiled chat-web server on `port`, run from the repository root."""

    def __init__(self, exe, port, root, log, env=None):
        self.exe, self.port, self.root, self.log = exe, port, root, log
        self.env = env or {}
        self.proc = None

    def start(self):
        env = dict(os.environ, PORT=str(self.port), SNOW_WS_BIND="127.0.0.1", **self.env)
        env.pop("CHAT_WEB_DIR", None)
        self.proc = subprocess.Popen(
            [self.exe], cwd=self.root, env=env, stdout=self.log, stderr=self.log
        )
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"the server exited with {self.proc.returncode}")
            try:
                socket.create_connection(("127.0.0.1", self.port), 0.2).close()
                return
            except OSError:
                time.sleep(0.05)
        raise RuntimeError("the server did not listen within 10 s")

    def kill(self):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait(10)


def open_page(ctx, port, room, nick, errors):
    page = ctx.new_page()
    page.set_viewport_size({"width": 1000, "height": 620})
    page.on("pageerror", lambda e: errors.append(f"{room}/{nick}: {e}"))
    # The WebSocket handshake as Chromium saw it (DevTools protocol): the
    # Origin it sent and the extensions the server accepted.
    page.ws_requests, page.ws_responses = [], []
    cdp = ctx.new_cdp_session(page)
    cdp.on("Network.webSocketWillSendHandshakeRequest", lambda e: page.ws_requests.append(e["request"]["headers"]))
    cdp.on("Network.webSocketHandshakeResponseReceived", lambda e: page.ws_responses.append(e["response"]))
    cdp.send("Network.enable")
    page.goto(f"http://127.0.0.1:{port}/#{room}")
    page.wait_for_selector("#status[data-state=connected]", timeout=WAIT_MS)
    page.fill("#nick", nick)
    page.click("#nick-form button")
    # Our own nickname in the member list means the server has it.
    page.wait_for_function(
        "nick => [...document.querySelectorAll('#members li.me')].some(li => li.textContent === nick)",
        arg=nick,
        timeout=WAIT_MS,
    )
    return page


def say(page, text):
    page.fill("#text", text)
    page.click("#say-form button")


def messages(page):
    """The (nick, text) of every message shown, in order."""
    return page.eval_on_selector_all(
        "#messages li:not(.system)",
        "lis => lis.map(li => [li.querySelector('.nick').textContent, li.querySelector('.text').textContent])",
    )


def system_lines(page):
    return page.eval_on_selector_all("#messages li.system", "lis => lis.map(li => li.textContent)")


def wait_message(page, nick, text):
    """Waits until `page` shows `text` said by `nick`; answers whether it did."""
    try:
        page.wait_for_function(
            """([nick, text]) => [...document.querySelectorAll('#messages li:not(.system)')]
                 .some(li => li.querySelector('.nick').textContent === nick
                          && li.querySelector('.text').textContent === text)""",
            arg=[nick, text],
            timeout=WAIT_MS,
        )
        return True
    except Exception:
        return False


def wait_count(page, n):
    try:
        page.wait_for_function(
            "n => document.getElementById('count').dataset.count === String(n)", arg=n, timeout=WAIT_MS
        )
        return True
    except Exception:
        return False


def count(page):
    return page.get_attribute("#count", "data-count")


def wait_state(page, state, timeout=WAIT_MS):
    try:
        page.wait_for_selector(f"#status[data-state={state}]", timeout=timeout)
        return True
    except Exception:
        return False


def member_names(page):
    return page.eval_on_selector_all("#members li", "lis => lis.map(li => li.textContent)")


def wait_members(page, names, timeout=WAIT_MS):
    """Waits until the member list names exactly `names` (any order)."""
    try:
        page.wait_for_function(
            "names => JSON.stringify([...document.querySelectorAll('#members li')].map(li => li.textContent).sort())"
            " === JSON.stringify(names)",
            arg=sorted(names),
            timeout=timeout,
        )
        return True
    except Exception:
        return False


def start_redis(log):
    port = free_port()
    proc = subprocess.Popen(
        ["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
        stdout=log, stderr=log,
    )
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), 0.2).close()
            return proc, port
        except OSError:
            time.sleep(0.05)
    raise RuntimeError("redis-server did not listen within 10 s")


def cluster_scenario(ctx, exe, root, log, errors):
    redis, rport = start_redis(log)
    env = {"SNOW_WS_REDIS_URL": f"redis://127.0.0.1:{rport}"}
    a = Server(exe, free_port(), root, log, env)
    b = Server(exe, free_port(), root, log, env)
    try:
        a.start()
        b.start()
        ada = open_page(ctx, a.port, "hall", "ada", errors)
        bob = open_page(ctx, b.port, "hall", "bob", errors)
        check("cluster: both pages list both members (presence across servers)",
              wait_members(ada, ["ada", "bob"]) and wait_members(bob, ["ada", "bob"]),
              f"{member_names(ada)} {member_names(bob)}")
        say(ada, "one from ada")
        check("cluster: bob sees ada's message across servers", wait_message(bob, "ada", "one from ada"))
        say(bob, "two from bob")
        check("cluster: ada sees bob's message", wait_message(ada, "bob", "two from bob"))
        cy = open_page(ctx, b.port, "hall", "cy", errors)
        check("cluster: a newcomer sees the last messages",
              messages(cy)[:2] == [["ada", "one from ada"], ["bob", "two from bob"]], messages(cy))
        check("cluster: three members everywhere",
              all(wait_members(p, ["ada", "bob", "cy"]) for p in (ada, bob, cy)),
              [member_names(p) for p in (ada, bob, cy)])
        # ada's server dies; bob and cy talk meanwhile; it comes back.
        a.kill()
        check("cluster: ada's page notices its server is gone", wait_state(ada, "reconnecting"))
        missed = [f"said while ada was away {i}" for i in range(1, 4)]
        for t in missed:
            say(bob, t)
        check("cluster: cy sees what bob says meanwhile", wait_message(cy, "bob", missed[-1]))
        a.start()
        check("cluster: ada reconnects to her restarted server", wait_state(ada, "connected", 20_000))
        check("cluster: ada gets what was said while her server was down", wait_message(ada, "bob", missed[-1]))
        said = messages(ada)
        expected = [["ada", "one from ada"], ["bob", "two from bob"]] + [["bob", t] for t in missed]
        check("cluster: ada's page shows every message once, in order (nothing lost, nothing twice)",
              said == expected, said)
        say(ada, "back from the restart")
        check("cluster: bob sees ada after her server's restart", wait_message(bob, "ada", "back from the restart"))
        # ada's old connection leaves (its server died: within the node
        # timeout) and her new one is there.
        check("cluster: the member lists are right again",
              all(wait_members(p, ["ada", "bob", "cy"], 20_000) for p in (ada, bob, cy)),
              [member_names(p) for p in (ada, bob, cy)])
        bob.close()
        check("cluster: bob leaves the others' member lists",
              wait_members(ada, ["ada", "cy"]) and wait_members(cy, ["ada", "cy"]),
              f"{member_names(ada)} {member_names(cy)}")
        for p in (ada, cy):
            p.close()
    finally:
        a.kill()
        b.kill()
        redis.kill()
        redis.wait(10)


def run(exe, screenshot, root, log):
    port = free_port()
    server = Server(exe, port, root, log)
    server.start()
    errors = []
    try:
        with sync_playwright() as p, tempfile.TemporaryDirectory(prefix="snow-chromium-") as profile:
            ctx = p.chromium.launch_persistent_context(
                profile,
                executable_path="/usr/bin/chromium",
                args=CHROMIUM_ARGS,
                headless=True,
            )
            try:
                scenario(ctx, server, port, screenshot, errors)
                server.kill()
                cluster_scenario(ctx, exe, root, log, errors)
            finally:
                ctx.close()
    finally:
        server.kill()
    check("no JavaScript errors on any page", not errors, "; ".join(errors))


def scenario(ctx, server, port, screenshot, errors):
    # The page's files come from the server itself.
    resp = ctx.request.get(f"http://127.0.0.1:{port}/app.js")
    check("the server serves the page's script", resp.status == 200 and "javascript" in resp.headers["content-type"])

    ada = open_page(ctx, port, "lobby", "ada", errors)
    bob = open_page(ctx, port, "lobby", "bob", errors)
    eve = open_page(ctx, port, "garden", "eve", errors)
    def header(headers, name):
        return next((v for k, v in headers.items() if k.lower() == name), "")

    origins = [header(h, "origin") for h in ada.ws_requests]
    check("the page opened its WebSocket to the server that served it (Origin = Host)",
          origins[:1] == [f"http://127.0.0.1:{port}"], origins)
    statuses = [r["status"] for r in ada.ws_responses]
    check("the server accepted the upgrade (101)", statuses[:1] == [101], statuses)
    exts = [header(r["headers"], "sec-websocket-extensions") for r in ada.ws_responses]
    check("Chromium and the server negotiated permessage-deflate", exts[:1] != [] and exts[0].startswith("permessage-deflate"), exts)
    check("two pages in one room count 2", wait_count(ada, 2) and wait_count(bob, 2), f"{count(ada)} {count(bob)}")
    check("the page in another room counts 1", wait_count(eve, 1), count(eve))
    # bob joins as guest-N, then takes his nickname.
    # (Presence diffs come in batches: a join and a rename within one
    # batch arrive as one join with the new nickname.)
    check(
        "the first page saw the second join and rename",
        (any(l.endswith(" joined") and l.startswith("guest-") for l in system_lines(ada))
         and any(l.endswith(" is now bob") for l in system_lines(ada)))
        or "bob joined" in system_lines(ada),
        system_lines(ada),
    )
    check("the member list names both", ada.inner_text("#members").split("\n") == ["ada", "bob"], ada.inner_text("#members"))

    say(ada, "hello from ada")
    check("bob sees ada's message with her nickname", wait_message(bob, "ada", "hello from ada"))
    say(bob, "hi ada <b>not bold</b>")
    check("ada sees bob's message with his nickname", wait_message(ada, "bob", "hi ada <b>not bold</b>"))
    check("markup in a message stays text", ada.locator("#messages b").count() == 0)
    # Above the compression threshold (128 bytes): the broadcast goes out
    # compressed, once, and Chromium inflates it.
    long_text = " ".join(["compressed chat text from ada"] * 20)
    say(ada, long_text)
    check("bob gets a compressed broadcast intact", wait_message(bob, "ada", long_text))
    say(eve, "anyone in the garden?")
    check("eve sees her own message", wait_message(eve, "eve", "anyone in the garden?"))
    # eve's message was broadcast after ada's and bob's; once bob has it
    # (he does not), everything eve could get has arrived.
    say(ada, "second from ada")
    check("bob sees ada's second message", wait_message(bob, "ada", "second from ada"))
    check("ada sees her second message", wait_message(ada, "ada", "second from ada"))
    check("the lobby never sees the garden", ["eve", "anyone in the garden?"] not in messages(ada) + messages(bob))
    check("the garden never sees the lobby", messages(eve) == [["eve", "anyone in the garden?"]], messages(eve))
    check(
        "ada's page shows the conversation in order",
        messages(ada) == [["ada", "hello from ada"], ["bob", "hi ada <b>not bold</b>"], ["ada", long_text], ["ada", "second from ada"]],
        messages(ada),
    )

    bob.close()
    check("the count drops to 1 when a page closes", wait_count(ada, 1), count(ada))
    try:
        ada.wait_for_function(
            "() => [...document.querySelectorAll('#messages li.system')].some(li => li.textContent === 'bob left')",
            timeout=WAIT_MS,
        )
        left = True
    except Exception:
        left = False
    check("ada is told bob left", left, system_lines(ada))

    # The server dies and comes back on the same port.
    server.kill()
    check("the pages notice the server is gone", wait_state(ada, "reconnecting") and wait_state(eve, "reconnecting"))
    time.sleep(1.0)
    server.start()
    check("ada reconnects", wait_state(ada, "connected", 20_000))
    check("eve reconnects", wait_state(eve, "connected", 20_000))
    check("the reconnected pages tell the user", "reconnected" in system_lines(ada))
    cy = open_page(ctx, port, "lobby", "cy", errors)
    check("ada is back in her room with her nickname", wait_count(ada, 2) and wait_count(cy, 2), f"{count(ada)} {count(cy)}")
    say(ada, "still here after the restart")
    check("a new page sees ada after the restart", wait_message(cy, "ada", "still here after the restart"))
    check("ada sees her own message after the restart", wait_message(ada, "ada", "still here after the restart"))
    say(cy, "welcome back, ada")
    check("ada gets messages after the restart", wait_message(ada, "cy", "welcome back, ada"))
    say(eve, "the garden is back too")
    check("eve is back in her room", wait_message(eve, "eve", "the garden is back too"))
    check("rooms stay apart after the restart", ["eve", "the garden is back too"] not in messages(ada) + messages(cy))

    ada.evaluate("() => document.activeElement.blur()")
    ada.screenshot(path=screenshot)
    check("screenshot saved", os.path.getsize(screenshot) > 10_000, screenshot)


def main():
    exe, screenshot = sys.argv[1], sys.argv[2]
    log_path = sys.argv[3] if len(sys.argv) > 3 else os.devnull
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    with open(log_path, "w") as log:
        try:
            run(exe, screenshot, root, log)
        except Exception:
            traceback.print_exc()
            check("the scenario ran to the end", False)
    print(f"browser: {passed} passed, {failed} failed")
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
