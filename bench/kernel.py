#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""bench/kernel.py — the kernel's share of a login, from perf (make bench-kernel).

Reads `perf script -F comm,tid,time,event,trace --ns` output of runs recorded
with raw_syscalls:sys_enter, raw_syscalls:sys_exit and page-faults (-c 1) on
CLOCK_MONOTONIC (perf record -k CLOCK_MONOTONIC), and prints medians over
the runs:

  kernel.py steps --fault-us F TRACE SCRIPT...
      pam_ns: TRACE is the test build's $NS_FAULT_TRACE file of the same
      runs (an "@ TID START-NS" line, then "POINT WALL-US CPU-US FAULTS"
      lines, then "--"; make bench-steps). For each step of open_session:
      the system calls made in it (count, time inside the kernel), its page
      faults, and the biggest calls. The calls of the trace points
      themselves (getrusage, clock_gettime) are left out.

  kernel.py cmds --fault-us F LABEL=DIR ...
      whole commands (ns-shell, unshare): DIR holds one SCRIPT file per run
      of command LABEL, recorded system-wide (perf record -a: the kernel
      drops a task's own perf events when it executes a setuid program), of
      which the processes running ns-shell, unshare, sh and true count. For each command: every system call by name (count,
      time inside the kernel, summed over all its processes), waits apart
      (a process sleeping in wait4 or poll for its child is not work), and
      the page faults; then the difference of the first command to each
      other one, call by call.

Time inside the kernel is sys_exit - sys_enter of the same thread: it
includes the tracing of the two events (about 1 us a call on a VM). Page
faults have no exit event: their time is the count times F, this machine's
cost of a first touch (ns-bench --machine)."""
import collections
import os
import re
import statistics
import sys

LINE = re.compile(r"^\s*(.*?)\s+(\d+)\s+(\d+)\.(\d{9}):\s+(\S+):\s*(.*)$")
NR = re.compile(r"NR (-?\d+)")
# A process asleep here is waiting for another one, not working (vfork
# returns when the child has executed its program).
WAITS = {"vfork", "wait4", "waitid", "poll", "ppoll", "pselect6", "select", "epoll_wait", "epoll_pwait",
         "rt_sigsuspend", "rt_sigtimedwait", "pause", "nanosleep", "clock_nanosleep"}
# The steps of pam_ns's open_session that the floor of `make bench` also
# does (kernel work); every other step is bookkeeping.
FLOOR_STEPS = {"unshared", "ipv6 sysctls", "inner netlink socket", "nft guard", "setns back",
               "host netlink socket", "bridge", "block routes", "veth", "inside (eth0, address, routes)",
               "routes, neighbours, inside", "bridge neighbour", "moved"}
TRACE_CALLS = {98, 228}   # the trace points' own getrusage, clock_gettime (x86_64)


def syscall_names():
    names = {}
    for path in ("/usr/include/x86_64-linux-gnu/asm/unistd_64.h", "/usr/include/asm/unistd_64.h"):
        try:
            with open(path) as f:
                for line in f:
                    m = re.match(r"#define __NR_(\w+)\s+(\d+)", line)
                    if m:
                        names[int(m.group(2))] = m.group(1)
            break
        except OSError:
            continue
    return names


NAMES = syscall_names()


def name_of(nr):
    return NAMES.get(nr, "nr%d" % nr)


def events(path):
    """(comm, tid, t_ns, kind, nr) per event; kind is 'enter', 'exit' or 'fault'."""
    out = []
    with open(path, errors="replace") as f:
        for line in f:
            m = LINE.match(line)
            if not m:
                continue
            comm, tid, t = m.group(1), int(m.group(2)), int(m.group(3)) * 10**9 + int(m.group(4))
            ev, rest = m.group(5), m.group(6)
            if ev == "page-faults":
                out.append((comm, tid, t, "fault", None))
            elif ev in ("raw_syscalls:sys_enter", "raw_syscalls:sys_exit"):
                n = NR.search(rest)
                if n:
                    out.append((comm, tid, t, "enter" if ev.endswith("enter") else "exit", int(n.group(1))))
    return out


def calls(evs):
    """(comm at exit, tid, nr, enter_ns, exit_ns) per finished call, faults as (comm, tid, t)."""
    open_ = {}
    done, faults = [], []
    for comm, tid, t, kind, nr in evs:
        if kind == "enter":
            open_[tid] = (nr, t)
        elif kind == "exit":
            st = open_.pop(tid, None)
            if st and st[0] == nr:
                done.append((comm, tid, nr, st[1], t))
        else:
            faults.append((comm, tid, t))
    return done, faults


def med(xs):
    xs = list(xs)
    return statistics.median(xs) if xs else 0.0


# ------------------------------------------------------------------ steps --

def read_trace(path):
    """[(tid, start_ns, [(point, wall_us), ...])] of open_session calls."""
    runs, cur, head = [], [], None
    with open(path) as f:
        for line in f:
            line = line.rstrip("\n")
            if line.startswith("@ "):
                _, tid, start = line.split()
                head = (int(tid), int(start))
            elif line == "--":
                if cur and head and cur[0][0] == "open":
                    runs.append((head[0], head[1], cur))
                cur, head = [], None
            elif line:
                point, wall, _cpu, _flt = line.rsplit(" ", 3)
                cur.append((point, float(wall)))
    return runs


def steps(fault_us, trace, scripts):
    runs = read_trace(trace)
    if not runs:
        sys.exit("bench-kernel: no traced open_session in %s" % trace)
    names = [p for p, _ in runs[0][2]]
    per_step = collections.defaultdict(lambda: collections.defaultdict(list))
    by_tid = collections.defaultdict(list)   # pids are not reused within a run of the bench
    for s in scripts:
        for e in events(s):
            by_tid[e[1]].append(e)
    used = 0
    for tid, start, points in runs:
        if [p for p, _ in points] != names or tid not in by_tid:
            continue
        done, faults = calls(by_tid[tid])
        used += 1
        bounds = [start + int(w * 1000) for _, w in points]
        for k in range(1, len(names)):
            lo, hi = bounds[k - 1], bounds[k]
            mine = [c for c in done if lo <= c[3] < hi and c[2] not in TRACE_CALLS]
            d = per_step[k]
            d["wall"].append((hi - lo) / 1000.0)
            d["n"].append(len(mine))
            d["sys"].append(sum(c[4] - c[3] for c in mine) / 1000.0)
            d["flt"].append(sum(1 for f in faults if lo <= f[2] < hi))
            by = collections.Counter()
            for c in mine:
                by[name_of(c[2])] += (c[4] - c[3]) / 1000.0
            d["by"].append(by)
    if not used:
        sys.exit("bench-kernel: no perf record matches the traced runs")
    print("  pam_ns open_session, %d runs (medians; wall is traced, so slower than bench-steps)" % used)
    print("    %-32s %7s %6s %8s %6s %9s %7s  %s" % ("step", "wall", "calls", "in calls", "faults",
                                                "faults*F", "user", "biggest calls (us)"))
    tot = {"floor": collections.Counter(), "ours": collections.Counter()}
    for k in range(1, len(names)):
        d = per_step[k]
        wall, n, sysus, flt = med(d["wall"]), med(d["n"]), med(d["sys"]), med(d["flt"])
        user = max(0.0, wall - sysus - flt * fault_us)
        agg = collections.Counter()
        for by in d["by"]:
            agg.update(by)
        top = ", ".join("%s %.0f" % (nm, us / len(d["by"])) for nm, us in agg.most_common(3) if us > 0)
        kind = "floor" if names[k] in FLOOR_STEPS else "ours"
        mark = "*" if kind == "floor" else " "
        print("    %-32s %7.0f %6.0f %8.0f %6.0f %9.0f %7.0f  %s" % (mark + names[k], wall, n, sysus, flt,
                                                                   flt * fault_us, user, top))
        for key, v in (("wall", wall), ("n", n), ("sys", sysus), ("flt", flt), ("user", user)):
            tot[kind][key] += v
    print("    (* = kernel work the floor of `make bench` does too; the other steps are bookkeeping)")
    for kind, label in (("ours", "bookkeeping"), ("floor", "kernel work")):
        t = tot[kind]
        print("    %-32s %7.0f %6.0f %8.0f %6.0f %9.0f %7.0f" % ("total, " + label, t["wall"], t["n"], t["sys"],
                                                            t["flt"], t["flt"] * fault_us, t["user"]))
    t = tot["ours"]
    kern = t["sys"] + t["flt"] * fault_us
    print("  bookkeeping: %.0f us, of which in the kernel %.0f us (%.0f in %d calls, %.0f in %d page faults),"
          " in user space %.0f us" % (t["wall"], kern, t["sys"], t["n"], t["flt"] * fault_us, t["flt"], t["user"]))


# ------------------------------------------------------------------- cmds --

# The programs of a run (recorded system-wide): a call counts for the
# program its thread runs when the call returns (an execve for the new one).
# perf shows the pids of its own PID namespace (the sandbox's): a process
# of the host outside it has pid 0 there and is left out.
KEEP = {"ns-shell", "unshare", "sh", "true"}


def one_run(path):
    """Per syscall name: [count, us]; waits apart; faults; processes."""
    done, faults = calls(events(path))
    done = [c for c in done if c[0] in KEEP and c[1] > 0]
    faults = [f for f in faults if f[0] in KEEP and f[1] > 0]
    work, wait = collections.defaultdict(lambda: [0, 0.0]), collections.defaultdict(lambda: [0, 0.0])
    tids = set()
    for comm, tid, nr, t0, t1 in done:
        nm = name_of(nr)
        tids.add(tid)
        cell = (wait if nm in WAITS else work)[nm]
        cell[0] += 1
        cell[1] += (t1 - t0) / 1000.0
    return work, wait, len(faults), len(tids)


def cmds(fault_us, specs):
    data = []
    for spec in specs:
        label, d = spec.split("=", 1)
        runs = [one_run(os.path.join(d, f)) for f in sorted(os.listdir(d))]
        if not runs:
            sys.exit("bench-kernel: no runs in %s" % d)
        data.append((label, runs))
    allnames = sorted({nm for _, runs in data for r in runs for nm in r[0]})
    summ = {}
    for label, runs in data:
        s = {nm: (med(r[0][nm][0] if nm in r[0] else 0 for r in runs),
                  med(r[0][nm][1] if nm in r[0] else 0.0 for r in runs)) for nm in allnames}
        s["_calls"] = med(sum(c[0] for c in r[0].values()) for r in runs)
        s["_us"] = med(sum(c[1] for c in r[0].values()) for r in runs)
        s["_flt"] = med(r[2] for r in runs)
        s["_procs"] = med(r[3] for r in runs)
        summ[label] = (s, len(runs))
    labels = [l for l, _ in data]
    summ_runs = dict(data)
    print("  per run, all its processes (medians of %s runs); us inside the kernel"
          % "/".join(str(summ[l][1]) for l in labels))
    print("    %-22s" % "" + "".join("%24s" % l for l in labels))
    print("    %-22s" % "system call" + "".join("%24s" % "count      us" for _ in labels))
    first = summ[labels[0]][0]
    order = sorted(allnames, key=lambda nm: -max(abs(first[nm][1] - summ[l][0][nm][1]) for l in labels[1:]))
    for nm in order:
        if all(summ[l][0][nm][1] < 5 for l in labels):
            continue
        print("    %-22s" % nm + "".join("%12.0f %11.0f" % summ[l][0][nm] for l in labels))
    print("    %-22s" % "(smaller ones)" + "".join(
        "%12.0f %11.0f" % (sum(summ[l][0][nm][0] for nm in allnames if all(summ[x][0][nm][1] < 5 for x in labels)),
                           sum(summ[l][0][nm][1] for nm in allnames if all(summ[x][0][nm][1] < 5 for x in labels)))
        for l in labels))
    print("    %-22s" % "all calls (no waits)" + "".join("%12.0f %11.0f" % (summ[l][0]["_calls"], summ[l][0]["_us"])
                                                       for l in labels))
    print("    %-22s" % "waits (not counted)" + "".join(
        "%12.0f %11.0f" % (med(sum(c[0] for c in r[1].values()) for r in summ_runs[l]),
                           med(sum(c[1] for c in r[1].values()) for r in summ_runs[l])) for l in labels))
    print("    %-22s" % "page faults (x F)" + "".join("%12.0f %11.0f" % (summ[l][0]["_flt"],
                                                                    summ[l][0]["_flt"] * fault_us)
                                                    for l in labels))
    print("    %-22s" % "processes" + "".join("%12.0f %11s" % (summ[l][0]["_procs"], "") for l in labels))
    for l in labels[1:]:
        o = summ[l][0]
        dk = first["_us"] - o["_us"] + (first["_flt"] - o["_flt"]) * fault_us
        print("  %s minus %s, in the kernel: %+.0f us (calls %+.0f us, page faults %+.0f = %+.0f us)"
              % (labels[0], l, dk, first["_us"] - o["_us"], first["_flt"] - o["_flt"],
                 (first["_flt"] - o["_flt"]) * fault_us))


def main(argv):
    if len(argv) < 4 or argv[1] not in ("steps", "cmds") or argv[2] != "--fault-us":
        sys.exit(__doc__)
    fault_us = float(argv[3])
    if argv[1] == "steps":
        steps(fault_us, argv[4], argv[5:])
    else:
        cmds(fault_us, argv[4:])


if __name__ == "__main__":
    main(sys.argv)
