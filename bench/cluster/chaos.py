#!/usr/bin/env python3
"""Load and faults against a running wantloop cluster (deploy/cluster.sh), then
the checks that say whether the cluster kept its promises.

CLIENTS threads post offers and demands, match, accept, reject, fulfil (half
of them relisting the item), search and list through nginx for SECONDS, and
replay keyed posts on two nodes directly; one more thread asks for a batch
allocation now and then, on top of the nodes' scheduled ones. Meanwhile a
killer sends `kill -9` to a random node every few seconds (every other time
the holder of the expiry job's lease) and restarts it with
`deploy/cluster.sh restart`. A monitor polls `GET /v1/cluster` to time how
long each lease stays with a dead node.

Then, against PostgreSQL and every node: no unit oversold; every offer's
reserved/consumed and every demand's matched/fulfilled units equal the sums
over its live matches; every acknowledged write is there as acknowledged; a
retried keyed post was applied once; replays on two nodes answered alike; a
job's fencing tokens belong to one node each and never go back with the
period; every node's index has reached the store's last event 10 s after the
load; no 5xx outside the windows in which its node was being killed.

Prints one JSON object; exits 1 if a check failed. Standard library only.
"""

import argparse
import http.client
import json
import os
import random
import signal
import subprocess
import sys
import threading
import time
import uuid

CATEGORIES = {
    "bicycles": ("想买二手山地自行车", "九成新山地自行车 可议价"),
    "furniture": ("求购实木书桌", "实木书桌 九成新 自提"),
    "books": ("want a used python programming book", "python programming book, good condition"),
}
SEARCHES = ["%E8%87%AA%E8%A1%8C%E8%BD%A6", "%E4%B9%A6%E6%A1%8C", "python+book"]
# Seconds around a kill in which a 5xx from that node is expected.
KILL_MARGIN = 1.0


def parse_args():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--port", type=int, required=True, help="nginx's port; node i listens on port + i")
    p.add_argument("--nodes", type=int, default=3)
    p.add_argument("--dir", required=True, help="the cluster's folder (CLUSTER_DIR): node pid files")
    p.add_argument("--pg", required=True, help="the cluster's database URL")
    p.add_argument("--seconds", type=float, default=60)
    p.add_argument("--clients", type=int, default=64)
    p.add_argument("--kill-every", default="3:6", help="seconds between kills, min:max")
    p.add_argument("--index-deadline", type=float, default=10, help="seconds the indexes get after the load")
    p.add_argument("--cluster-sh", default=os.path.join(os.path.dirname(__file__), "../../deploy/cluster.sh"))
    p.add_argument("--seed", type=int, default=None)
    return p.parse_args()


# The admin key deploy/cluster.sh made (in --dir), sent with every request.
AUTH = {}


class Http:
    """A keep-alive connection to host:port (reconnecting after an error), or
    with keep_alive=False a new connection per request: a node restarted since
    the last request leaves a kept connection dead, which is the client's
    problem, not an answer of the node's."""

    def __init__(self, port, timeout=60, keep_alive=True):
        self.port, self.timeout, self.conn, self.keep_alive = port, timeout, None, keep_alive

    def call(self, method, path, body=None, headers=None):
        """(status, parsed JSON or None, response headers); status 0 when the connection failed."""
        hdrs = {"content-type": "application/json"} if body is not None else {}
        hdrs.update(AUTH)
        hdrs.update(headers or {})
        data = json.dumps(body).encode() if body is not None else None
        try:
            if self.conn is None:
                self.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=self.timeout)
            self.conn.request(method, path, body=data, headers=hdrs)
            r = self.conn.getresponse()
            raw = r.read()
            try:
                parsed = json.loads(raw) if raw else None
            except ValueError:
                parsed = None
            if not self.keep_alive:
                self.conn.close()
                self.conn = None
            return r.status, parsed, dict(r.getheaders())
        except (OSError, http.client.HTTPException):
            if self.conn is not None:
                self.conn.close()
            self.conn = None
            return 0, None, {}


class Ledger:
    """What the clients were told: every acknowledged write, every answer."""

    def __init__(self):
        self.lock = threading.Lock()
        self.answers = []  # (op, t0, t1, status, upstream)
        self.demands = {}  # id -> (requester, text)
        self.offers = {}  # id -> (provider, text)
        self.matches = {}  # id -> acknowledged status
        self.relisted = {}  # match id -> relisted offer id
        self.replays = 0
        self.replay_mismatches = []

    def answer(self, op, t0, status, headers):
        with self.lock:
            self.answers.append((op, t0, time.time(), status, headers.get("X-Upstream", "")))


class Client(threading.Thread):
    def __init__(self, n, args, ledger, stop, rng):
        super().__init__(daemon=True)
        self.n, self.args, self.ledger, self.stop, self.rng = n, args, ledger, stop, rng
        self.http = Http(args.port)
        self.direct = {i: Http(args.port + i, timeout=10, keep_alive=False) for i in range(1, args.nodes + 1)}
        self.party = f"chaos{n}"
        self.my_demands, self.proposed, self.accepted = [], [], []

    def call(self, op, method, path, body=None, headers=None):
        t0 = time.time()
        status, parsed, hdrs = self.http.call(method, path, body, headers)
        self.ledger.answer(op, t0, status, hdrs)
        return status, parsed

    def unique_text(self, text):
        return f"{text} {uuid.uuid4().hex[:10]}"

    def post_offer(self):
        cat = self.rng.choice(list(CATEGORIES))
        body = {
            "provider": f"shop{self.n}",
            "text": self.unique_text(CATEGORIES[cat][1]),
            "category": cat,
            "price": self.rng.randrange(5_000, 40_000),
            "capacity": self.rng.randint(1, 3),
        }
        status, o = self.call("post_offer", "POST", "/v1/offers", body)
        if 200 <= status < 300:
            with self.ledger.lock:
                self.ledger.offers[o["id"]] = (body["provider"], body["text"])

    def demand_body(self):
        cat = self.rng.choice(list(CATEGORIES))
        body = {
            "requester": self.party,
            "text": self.unique_text(CATEGORIES[cat][0]),
            "category": cat,
            "budget": 50_000,
            "quantity": self.rng.randint(1, 2),
        }
        if self.rng.random() < 0.3:
            body["auto_match"] = True
        return body

    def acked_demand(self, body, d):
        with self.ledger.lock:
            self.ledger.demands[d["id"]] = (body["requester"], body["text"])
        self.my_demands.append(d["id"])

    def post_demand(self):
        """With an Idempotency-Key, repeated (as the nginx config tells clients
        to) after a 502 or a lost connection: it must apply once."""
        body, key = self.demand_body(), uuid.uuid4().hex
        for _ in range(4):
            status, d = self.call("post_demand", "POST", "/v1/demands", body, {"Idempotency-Key": key})
            if 200 <= status < 300:
                self.acked_demand(body, d)
                return
            if status not in (0, 502, 503, 504):
                return
            time.sleep(0.3)

    def replay_on_two_nodes(self):
        """The same keyed post sent to two nodes directly answers alike."""
        body, key = self.demand_body(), uuid.uuid4().hex
        nodes = self.rng.sample(sorted(self.direct), 2)
        answers = []
        for i in nodes:
            t0 = time.time()
            status, d, hdrs = self.direct[i].call("POST", "/v1/demands", body, {"Idempotency-Key": key})
            hdrs = dict(hdrs, **{"X-Upstream": f"127.0.0.1:{self.args.port + i}"})
            self.ledger.answer("replay", t0, status, hdrs)
            if status == 0 or status >= 500:
                return  # a node being killed: nothing to compare
            answers.append((status, d))
        if 200 <= answers[0][0] < 300:
            self.acked_demand(body, answers[0][1])
        with self.ledger.lock:
            self.ledger.replays += 1
            if answers[0] != answers[1]:
                self.ledger.replay_mismatches.append({"key": key, "nodes": nodes, "answers": answers})

    def match(self):
        if not self.my_demands:
            return
        d = self.rng.choice(self.my_demands[-20:])
        status, p = self.call("match", "POST", f"/v1/demands/{d}/match")
        if status == 200 and p:
            self.proposed.extend(m["id"] for m in p.get("matches", []))

    def list_matches(self):
        if not self.my_demands:
            return
        d = self.rng.choice(self.my_demands[-20:])
        status, page = self.call("list_matches", "GET", f"/v1/matches?demand_id={d}&status=proposed&limit=20")
        if status == 200 and page:
            known = set(self.proposed)
            self.proposed.extend(m["id"] for m in page["items"] if m["id"] not in known)

    def transition(self, op, pool, verb, body=None):
        if not pool:
            return None
        m = pool.pop(self.rng.randrange(len(pool)))
        status, got = self.call(op, "POST", f"/v1/matches/{m}/{verb}", body)
        if status == 200:
            with self.ledger.lock:
                self.ledger.matches[m] = got["status"]
                if got.get("relisted_offer_id"):
                    self.ledger.relisted[m] = got["relisted_offer_id"]
            return m
        return None

    def accept(self):
        m = self.transition("accept", self.proposed, "accept")
        if m is not None:
            self.accepted.append(m)

    def reject(self):
        self.transition("reject", self.proposed, "reject")

    def fulfil(self):
        relist = {"relist": {"quantity": 1, "condition": "good"}} if self.rng.random() < 0.5 else None
        self.transition("fulfil", self.accepted, "fulfil", relist)

    def search(self):
        self.call("search", "GET", f"/v1/search?q={self.rng.choice(SEARCHES)}&limit=10")

    def candidates(self):
        if self.my_demands:
            self.call("candidates", "GET", f"/v1/demands/{self.rng.choice(self.my_demands)}/candidates")

    def list_offers(self):
        self.call("list_offers", "GET", "/v1/offers?limit=20")

    def run(self):
        ops = [
            (self.post_offer, 12), (self.post_demand, 17), (self.match, 14), (self.list_matches, 6),
            (self.accept, 12), (self.reject, 4), (self.fulfil, 9), (self.search, 10),
            (self.candidates, 5), (self.list_offers, 8), (self.replay_on_two_nodes, 3),
        ]
        fns, weights = zip(*ops)
        while not self.stop.is_set():
            self.rng.choices(fns, weights)[0]()


def allocator(args, ledger, stop, rng):
    """Asks for a batch allocation every 5–10 s, besides the scheduled ones."""
    http_ = Http(args.port)
    while not stop.wait(rng.uniform(5, 10)):
        t0 = time.time()
        status, _, hdrs = http_.call("POST", "/v1/allocate", {"mode": "optimal"})
        ledger.answer("allocate", t0, status, hdrs)


def cluster_view(port):
    status, view, _ = Http(port, timeout=2).call("GET", "/v1/cluster")
    return view if status == 200 else None


def monitor(args, samples, stop):
    """Every 200 ms: each job's lease holder, and which node id has which port."""
    while not stop.wait(0.2):
        view = cluster_view(args.port)
        if view:
            samples.append((time.time(), {j["job"]: j["holder"] for j in view["jobs"]}, view["nodes"]))


def killer(args, kills, samples, stop, rng):
    """Every other kill takes the expiry lease's holder; every kill records
    which leases its victim held, from one sample of the cluster view."""
    lo, hi = (float(x) for x in args.kill_every.split(":"))
    n = 0
    while not stop.wait(rng.uniform(lo, hi)):
        n += 1
        holders, nodes = (samples[-1][1], samples[-1][2]) if samples else ({}, [])
        port_of = {node["id"]: int(node["address"].rsplit(":", 1)[1]) for node in nodes}
        victim = rng.randint(1, args.nodes)
        if n % 2 == 1 and holders.get("expiry") in port_of:
            victim = port_of[holders["expiry"]] - args.port
        victim_id = next((i for i, p in port_of.items() if p == args.port + victim), None)
        holder_of = [job for job, h in holders.items() if h is not None and h == victim_id]
        pid = int(open(os.path.join(args.dir, f"node-{victim}.pid")).read())
        t_kill = time.time()
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        time.sleep(rng.uniform(0.5, 2.0))
        subprocess.run([args.cluster_sh, "restart", str(victim)], check=True, stdout=subprocess.DEVNULL)
        kills.append({
            "node": victim, "port": args.port + victim, "at": t_kill, "ready": time.time(),
            "holder_of": holder_of, "holder_id": victim_id,
        })


def failovers(kills, samples):
    """Per kill of a lease holder and per job it held: seconds until the dead
    node no longer held the lease (another node took it, or it is free for
    the next node whose tick comes: an hourly job has no holder between runs)."""
    out = []
    for k in kills:
        for job in k["holder_of"]:
            after = [(t, h[job]) for t, h, _ in samples if t > k["at"] and job in h]
            took = next((t for t, h in after if h != k["holder_id"]), None)
            out.append({"job": job, "seconds": None if took is None else round(took - k["at"], 2)})
    return out


def psql(url, sql):
    out = subprocess.run(["psql", "-qtAX", "-F", "\t", url, "-c", sql], check=True, capture_output=True, text=True)
    return [line.split("\t") for line in out.stdout.splitlines() if line]


def check_store(args, ledger):
    failures = {}
    oversold = psql(args.pg, "SELECT id FROM offers WHERE reserved + consumed > capacity")
    offer_units = psql(args.pg, """
        SELECT o.id, o.reserved, o.consumed, coalesce(m.live, 0), coalesce(m.done, 0) FROM offers o
        LEFT JOIN (SELECT offer_id, sum(units) FILTER (WHERE status IN ('proposed', 'accepted')) AS live,
                          sum(units) FILTER (WHERE status = 'fulfilled') AS done
                   FROM matches GROUP BY offer_id) m ON m.offer_id = o.id
        WHERE o.reserved <> coalesce(m.live, 0) OR o.consumed <> coalesce(m.done, 0)""")
    demand_units = psql(args.pg, """
        SELECT d.id, d.matched_units, d.fulfilled_units, coalesce(m.live, 0), coalesce(m.done, 0) FROM demands d
        LEFT JOIN (SELECT demand_id, sum(units) FILTER (WHERE status IN ('proposed', 'accepted')) AS live,
                          sum(units) FILTER (WHERE status = 'fulfilled') AS done
                   FROM matches GROUP BY demand_id) m ON m.demand_id = d.id
        WHERE d.matched_units <> coalesce(m.live, 0) OR d.fulfilled_units <> coalesce(m.done, 0)
           OR d.matched_units + d.fulfilled_units > d.quantity""")
    demands = {int(i): (r, t) for i, r, t in psql(args.pg, "SELECT id, requester, text FROM demands")}
    offers = {int(i): (p, t) for i, p, t in psql(args.pg, "SELECT id, provider, text FROM offers")}
    matches = {int(i): s for i, s in psql(args.pg, "SELECT id, status FROM matches")}
    lost = [f"demand {i}" for i, v in ledger.demands.items() if demands.get(i) != v]
    lost += [f"offer {i}" for i, v in ledger.offers.items() if offers.get(i) != v]
    # An accepted match may have been fulfilled since; nothing else moves a settled one.
    moved_on = {"accepted": {"accepted", "fulfilled"}, "rejected": {"rejected"}, "fulfilled": {"fulfilled"}}
    lost += [f"match {i} ({s})" for i, s in ledger.matches.items() if matches.get(i) not in moved_on[s]]
    lost += [f"relisted offer {o}" for o in ledger.relisted.values() if o not in offers]
    twice = psql(args.pg, "SELECT requester, text FROM demands GROUP BY requester, text HAVING count(*) > 1")
    shared_tokens = psql(args.pg, "SELECT job, token FROM job_runs GROUP BY job, token HAVING count(DISTINCT node) > 1")
    regressions = psql(args.pg, """
        SELECT job, period FROM (SELECT job, period, token, lag(token) OVER (PARTITION BY job ORDER BY period) AS before
                                 FROM job_runs) r WHERE token < before""")
    for name, rows in [
        ("oversold_offers", oversold), ("offer_units_mismatch", offer_units), ("demand_units_mismatch", demand_units),
        ("lost_acknowledged_writes", lost), ("keyed_posts_applied_twice", twice),
        ("lease_tokens_on_two_nodes", shared_tokens), ("token_regressions", regressions),
    ]:
        if rows:
            failures[name] = rows[:20]
    counts = {
        "demands": len(demands), "offers": len(offers), "matches": len(matches),
        "matches_by_status": dict(psql(args.pg, "SELECT status, count(*) FROM matches GROUP BY status")),
        "job_runs": dict(psql(args.pg, "SELECT job, count(*) FROM job_runs GROUP BY job")),
        "acknowledged_checked": len(ledger.demands) + len(ledger.offers) + len(ledger.matches),
    }
    return failures, counts


def index_positions(args, target):
    """Waits up to the deadline for every node's index to reach `target`."""
    deadline = time.time() + args.index_deadline
    while True:
        cursors = {}
        for i in range(1, args.nodes + 1):
            status, stats, _ = Http(args.port + i, timeout=2).call("GET", "/v1/stats")
            cursors[i] = stats["search"]["cursor"] if status == 200 else None
        if all(c is not None and c >= target for c in cursors.values()) or time.time() > deadline:
            return cursors


def percentile(sorted_values, q):
    return sorted_values[min(len(sorted_values) - 1, int(q * len(sorted_values)))] if sorted_values else None


def main():
    args = parse_args()
    with open(os.path.join(args.dir, "admin.key")) as f:
        AUTH["authorization"] = "Bearer " + f.read().strip()
    rng = random.Random(args.seed)
    ledger, stop, stop_killer = Ledger(), threading.Event(), threading.Event()
    kills, samples = [], []
    threads = [Client(n, args, ledger, stop, random.Random(rng.random())) for n in range(args.clients)]
    threads.append(threading.Thread(target=allocator, args=(args, ledger, stop, random.Random(rng.random()))))
    background = [
        threading.Thread(target=monitor, args=(args, samples, stop_killer), daemon=True),
        threading.Thread(target=killer, args=(args, kills, samples, stop, random.Random(rng.random()))),
    ]
    started = time.time()
    for t in background + threads:
        t.start()
    time.sleep(args.seconds)
    stop.set()
    for t in threads + background[1:]:
        t.join()
    load_seconds = time.time() - started
    last_event = int(psql(args.pg, "SELECT coalesce(max(id), 0) FROM events")[0][0])
    cursors = index_positions(args, last_event)
    # A lease lasts at most 30 s: give the last killed holder's leases that
    # long to leave it before calling one stuck.
    last_kill = max((k["at"] for k in kills), default=0)
    while any(f["seconds"] is None for f in failovers(kills, samples)) and time.time() < last_kill + 35:
        time.sleep(0.5)
    time.sleep(1)
    stop_killer.set()

    failures, counts = check_store(args, ledger)
    fo = failovers(kills, samples)
    fo_seconds = sorted(f["seconds"] for f in fo if f["seconds"] is not None)
    behind = {i: c for i, c in cursors.items() if c is None or c < last_event}
    if behind:
        failures["index_behind"] = {"store_last_event": last_event, "nodes": behind}
    if len(fo) > len(fo_seconds):
        failures["leases_never_left_a_dead_node"] = [f["job"] for f in fo if f["seconds"] is None]
    if ledger.replay_mismatches:
        failures["replays_differ"] = ledger.replay_mismatches[:5]

    def in_kill_window(t0, t1, upstream):
        return any(
            k["at"] - KILL_MARGIN <= t1 and t0 <= k["ready"] + KILL_MARGIN
            and (not upstream or upstream == "wantloop" or f":{k['port']}" in upstream)
            for k in kills
        )

    errors = [a for a in ledger.answers if a[3] >= 500 or a[3] == 0]
    outside = [a for a in errors if not in_kill_window(a[1], a[2], a[4])]
    if outside:
        failures["5xx_outside_kills"] = [
            {"op": op, "status": s, "upstream": up, "at": round(t0 - started, 2)} for op, t0, _, s, up in outside[:20]
        ]
    through_nginx = [a for a in ledger.answers if a[0] != "replay"]
    latencies = sorted(1000 * (t1 - t0) for _, t0, t1, _, _ in through_nginx)
    by_op, op_latencies = {}, {}
    for op, t0, t1, status, _ in ledger.answers:
        o = by_op.setdefault(op, {"requests": 0, "2xx": 0, "4xx": 0, "5xx_or_failed": 0})
        o["requests"] += 1
        o["2xx" if 200 <= status < 300 else "4xx" if 400 <= status < 500 else "5xx_or_failed"] += 1
        op_latencies.setdefault(op, []).append(1000 * (t1 - t0))
    for op, values in op_latencies.items():
        values.sort()
        by_op[op]["p50_ms"] = round(percentile(values, 0.5), 1)
        by_op[op]["p99_ms"] = round(percentile(values, 0.99), 1)
    report = {
        "nodes": args.nodes,
        "clients": args.clients,
        "seconds": round(load_seconds, 1),
        "requests_through_nginx": len(through_nginx),
        "requests_per_second": round(len(through_nginx) / load_seconds, 1),
        "latency_ms": {q: round(percentile(latencies, v), 1) for q, v in [("p50", .5), ("p90", .9), ("p99", .99)]},
        "kills": len(kills),
        "lease_holder_kills": sum(1 for k in kills if k["holder_of"]),
        "lease_failover_seconds": {
            "count": len(fo), "still_held_by_the_dead_node": len(fo) - len(fo_seconds),
            "median": percentile(fo_seconds, .5), "max": fo_seconds[-1] if fo_seconds else None,
            "by_job": {j: sorted(f["seconds"] for f in fo if f["job"] == j and f["seconds"] is not None)
                       for j in sorted({f["job"] for f in fo})},
        },
        "kill_log": [
            {"node": k["node"], "at": round(k["at"] - started, 1), "down_seconds": round(k["ready"] - k["at"], 1),
             "held": k["holder_of"]} for k in kills
        ],
        "5xx_or_failed_in_kill_windows": len(errors) - len(outside),
        "idempotent_replays_checked": ledger.replays,
        "index_cursor": {"store_last_event": last_event, "nodes": cursors},
        "by_op": by_op,
        "store": counts,
        "failures": failures,
        "ok": not failures,
    }
    print(json.dumps(report, indent=1))
    return 0 if report["ok"] else 1


if __name__ == "__main__":
    sys.exit(main())
